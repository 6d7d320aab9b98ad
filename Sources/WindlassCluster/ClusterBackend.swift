public import WindlassManifest

/// A live cluster, as Windlass reads and changes it: the embedded controller core or a
/// Kubernetes API server. Objects go in and out as ``Value``s shaped like Kubernetes objects.
public protocol ClusterBackend: Sendable {
    /// The objects of a kind, in one namespace or all (`namespace == nil`), that match a selector.
    func list(_ kind: GroupKind, namespace: String?, selector: LabelSelector) async throws(ClusterError) -> ObjectList

    /// The kinds the cluster serves (discovery): every kind that can be listed.
    func kinds() async throws(ClusterError) -> [GroupKind]

    /// One object; `ClusterError.Code.notFound` when there is none.
    func get(_ id: ResourceID) async throws(ClusterError) -> Value

    /// Server-side apply: the fields in `object` become owned by `options.fieldManager`; fields it
    /// owned and no longer sends are removed unless another manager owns them; a field another
    /// manager owns with a different value is a conflict unless `options.force`.
    func apply(_ object: Value, options: ApplyOptions) async throws(ClusterError) -> Value

    /// Deletes an object and, as `propagation` says, what it owns.
    func delete(_ id: ResourceID, propagation: DeletionPropagation, dryRun: Bool) async throws(ClusterError)

    /// Changes to objects of a kind (or all kinds) after `resourceVersion`, in order, none missed.
    func watch(_ kind: GroupKind?, namespace: String?, since resourceVersion: Int) async throws(ClusterError)
        -> AsyncStream<ClusterWatchEvent>

    /// Kubernetes-style events, for one object or all.
    func events(for id: ResourceID?) async throws(ClusterError) -> [ClusterEvent]
}

/// How an apply is made.
public struct ApplyOptions: Sendable, Hashable {
    /// Who owns the fields sent (`windlass` for syncs, `windlass-cli` for `cluster apply`).
    public var fieldManager: String
    /// Validate, default and compute the result, but store nothing.
    public var dryRun: Bool
    /// Take ownership of fields other managers own instead of failing.
    public var force: Bool

    public init(fieldManager: String, dryRun: Bool = false, force: Bool = false) {
        self.fieldManager = fieldManager
        self.dryRun = dryRun
        self.force = force
    }
}

/// What happens to the objects a deleted object owns.
public enum DeletionPropagation: String, Sendable, Hashable, CaseIterable {
    /// Owned objects are deleted first; the owner goes last.
    case foreground = "Foreground"
    /// The owner goes at once; the garbage collector deletes what it owned.
    case background = "Background"
    /// Owned objects are kept, their owner reference removed.
    case orphan = "Orphan"
}

/// A list of objects at a resourceVersion (from which a watch can continue).
public struct ObjectList: Sendable {
    public var items: [Value]
    public var resourceVersion: Int

    public init(items: [Value], resourceVersion: Int) {
        self.items = items
        self.resourceVersion = resourceVersion
    }
}

/// One change seen by a watch.
public struct ClusterWatchEvent: Sendable {
    public enum Kind: String, Sendable, Hashable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        /// No change, only a newer resourceVersion to resume from.
        case bookmark = "BOOKMARK"
    }

    public var kind: Kind
    public var object: Value
    public var resourceVersion: Int

    public init(kind: Kind, object: Value, resourceVersion: Int) {
        self.kind = kind
        self.object = object
        self.resourceVersion = resourceVersion
    }
}

/// A Kubernetes-style event: `Normal Scheduled pod/web-7d4b9 Successfully assigned …`.
public struct ClusterEvent: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case normal = "Normal"
        case warning = "Warning"
    }

    public var object: ResourceID
    public var kind: Kind
    public var reason: String
    public var message: String
    public var count: Int
    /// Seconds since 1970, from the cluster's clock.
    public var firstTime: Double
    public var lastTime: Double

    public init(object: ResourceID, kind: Kind, reason: String, message: String, count: Int = 1, firstTime: Double, lastTime: Double) {
        self.object = object
        self.kind = kind
        self.reason = reason
        self.message = message
        self.count = count
        self.firstTime = firstTime
        self.lastTime = lastTime
    }
}

/// A cluster refused or failed a request, with the HTTP status a Kubernetes API server would give.
public struct ClusterError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case notFound = "NotFound"
        case alreadyExists = "AlreadyExists"
        case conflict = "Conflict"
        case invalid = "Invalid"
        case badRequest = "BadRequest"
        case expired = "Expired"
        case forbidden = "Forbidden"
        case unavailable = "ServiceUnavailable"
        case internalError = "InternalError"

        /// The HTTP status of a Kubernetes `Status` with this reason.
        public var httpStatus: Int {
            switch self {
            case .notFound: return 404
            case .alreadyExists, .conflict: return 409
            case .invalid: return 422
            case .badRequest: return 400
            case .expired: return 410
            case .forbidden: return 403
            case .unavailable: return 503
            case .internalError: return 500
            }
        }
    }

    /// One field at fault: `spec.selector: field is immutable`, or the owner of a conflicting field.
    public struct Cause: Sendable, Hashable {
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var code: Code
    public var message: String
    public var causes: [Cause]

    public init(_ code: Code, _ message: String, causes: [Cause] = []) {
        self.code = code
        self.message = message
        self.causes = causes
    }

    public var description: String { message }
}
