public import WindlassCluster
public import WindlassManifest

/// How Windlass knows which live objects an application manages: a label with the application's
/// name (so they can be listed by selector) and an annotation with the object's full identity
/// (so an object copied elsewhere, or a label set by hand, is not mistaken for a managed one).
public struct Tracking: Sendable, Hashable {
    public var application: String

    public init(application: String) {
        self.application = application
    }

    /// `shop:apps/Deployment:web/frontend`, in Argo CD's tracking-id shape.
    public func trackingID(for id: ResourceID) -> String {
        "\(application):\(id.group)/\(id.kind):\(id.namespace ?? "")/\(id.name)"
    }

    /// The selector of every object this application tracks (and some it may not: check with
    /// ``isTracked(_:as:)``).
    public var selector: LabelSelector {
        LabelSelector(matchLabels: [SyncAnnotations.applicationLabel: application])
    }

    /// The manifest as a sync applies it: with the tracking label and annotation.
    public func prepare(_ object: Value, as id: ResourceID) -> Value {
        var out = object
        out.set(.string(application), at: ["metadata", "labels", SyncAnnotations.applicationLabel])
        out.set(.string(trackingID(for: id)), at: ["metadata", "annotations", SyncAnnotations.trackingID])
        return out
    }

    /// The application that tracks a live object, when it is another one: its tracking id
    /// names that application and this very object (an id copied onto another object, or an
    /// application's own id, is not another's claim).
    public func otherOwner(of object: Value, as id: ResourceID) -> String? {
        guard let value = object[path: ["metadata", "annotations", SyncAnnotations.trackingID]]?.stringValue,
            let colon = value.firstIndex(of: ":")
        else { return nil }
        let owner = String(value[..<colon])
        guard owner != application, !owner.isEmpty else { return nil }
        return Tracking(application: owner).trackingID(for: id) == value ? owner : nil
    }

    /// Whether a live object is this application's `id`.
    public func isTracked(_ object: Value, as id: ResourceID) -> Bool {
        object[path: ["metadata", "annotations", SyncAnnotations.trackingID]]?.stringValue == trackingID(for: id)
    }
}
