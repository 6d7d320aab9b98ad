public import WindlassCluster
public import WindlassManifest

/// Drift (REFERENCE.md §8): where live differs from git for managed objects (changed), managed
/// objects that are gone (missing), tracked objects no longer in git (extraneous), and,
/// optionally, objects in the application's namespaces that nothing manages (unmanaged).
public struct DriftReport: Sendable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case changed, missing, extraneous, unmanaged
    }

    public struct Item: Sendable {
        public var id: ResourceID
        public var kind: Kind
        public var fields: [FieldChange]
        public var location: SourceLocation?
        public var reason: String
    }

    public var application: String
    public var source: Plan.Source
    public var items: [Item]
    /// Resources in git.
    public var managed: Int
    /// Resources in git that match live.
    public var inSync: Int
    public var warnings: [String]

    public func count(_ kind: Kind) -> Int { items.lazy.filter { $0.kind == kind }.count }

    public var hasDrift: Bool { !items.isEmpty }

    /// `Drift: 1 changed, 0 missing, 0 extraneous, 2 unmanaged; 25 of 26 managed resources in sync (96.2%).`
    public var summaryLine: String {
        let counts = Kind.allCases.map { "\(count($0)) \($0.rawValue)" }.joined(separator: ", ")
        let coverage = managed == 0 ? 100.0 : Double(inSync) * 100 / Double(managed)
        let rounded = (coverage * 10).rounded() / 10
        if !hasDrift { return "No drift: \(inSync) of \(managed) managed resources in sync." }
        return "Drift: \(counts); \(inSync) of \(managed) managed resources in sync (\(rounded)%)."
    }

    /// The report of `plan` (made against live), with unmanaged objects from `live` when asked.
    public init(plan: Plan, live: LiveSnapshot, desired: ManifestSet, includeUnmanaged: Bool) {
        application = plan.application
        source = plan.source
        warnings = plan.warnings
        var items: [Item] = []
        var managed = 0
        var inSync = 0
        for change in plan.changes where change.hook == nil {
            switch change.action {
            case .noop:
                managed += 1
                inSync += 1
            case .create:
                managed += 1
                items.append(Item(id: change.id, kind: .missing, fields: [], location: change.location, reason: "not in the cluster"))
            case .update, .replace:
                managed += 1
                items.append(Item(id: change.id, kind: .changed, fields: change.fields, location: change.location, reason: change.reason))
            case .delete:
                items.append(Item(id: change.id, kind: .extraneous, fields: [], location: nil, reason: change.reason))
            }
        }
        for retained in plan.retained {
            items.append(Item(id: retained.id, kind: .extraneous, fields: [], location: nil, reason: "no longer in the manifests; kept: \(retained.reason)"))
        }
        if includeUnmanaged {
            let tracking = Tracking(application: plan.application)
            let desiredIDs = Set(desired.resources.map(\.id))
            let kinds = Set(desired.resources.map(\.id.groupKind))
            let namespaces = Set(desired.resources.compactMap(\.id.namespace))
            var unmanaged: [ResourceID] = []
            for (id, object) in live.objects where !desiredIDs.contains(id) && kinds.contains(id.groupKind) {
                guard let namespace = id.namespace, namespaces.contains(namespace), !tracking.isTracked(object, as: id) else { continue }
                if object[path: ["metadata", "ownerReferences"]]?.sequenceValue?.isEmpty == false { continue }
                if SyncSettings.read(object).settings.ignoreExtraneous { continue }
                unmanaged.append(id)
            }
            for id in unmanaged.sorted() {
                items.append(Item(id: id, kind: .unmanaged, fields: [], location: nil, reason: "in a namespace the application manages, but not in git"))
            }
        }
        self.items = items
        self.managed = managed
        self.inSync = inSync
    }
}
