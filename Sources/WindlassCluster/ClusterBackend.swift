public import WindlassManifest

/// A live cluster, as Windlass reads and changes it: the embedded controller core or a
/// Kubernetes API server. Objects go in and out as ``Value``s shaped like Kubernetes objects;
/// the operations are those of the Kubernetes REST API, so a backend over a real API server is
/// a thin translation. A `resourceVersion` is opaque: compare it only for equality and hand
/// it back to ``list(_:namespace:options:)`` or ``watch(_:namespace:since:)``.
public protocol ClusterBackend: Sendable {
    /// Discovery: every resource the cluster serves, built-in and declared by its
    /// CustomResourceDefinitions, with names, scope, verbs and subresources.
    func discovery() async throws(ClusterError) -> RESTMapping

    /// The objects of a kind, in one namespace or all (`namespace == nil`), that match the
    /// options' selectors; a page of them when `options.limit` is set.
    func list(_ kind: GroupKind, namespace: String?, options: ListOptions) async throws(ClusterError) -> ObjectList

    /// One object; `ClusterError.Code.notFound` when there is none.
    func get(_ id: ResourceID) async throws(ClusterError) -> Value

    /// Creates an object (POST); `alreadyExists` when it does.
    func create(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value

    /// Replaces an object (PUT), with optimistic concurrency when `metadata.resourceVersion`
    /// is set (`conflict` when the object changed since).
    func update(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value

    /// Replaces an object's status (PUT on `/status`); the rest of the object is left alone.
    func updateStatus(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value

    /// Patches an object (PATCH): a server-side apply, or a JSON merge patch.
    func patch(_ id: ResourceID, _ patch: Patch, options: PatchOptions) async throws(ClusterError) -> Value

    /// Deletes an object and, as `options.propagation` says, what it owns.
    func delete(_ id: ResourceID, options: DeleteOptions) async throws(ClusterError)

    /// Evicts a pod (POST on its `/eviction` subresource): `tooManyRequests` when a
    /// PodDisruptionBudget does not allow it now (try again later), as `kubectl drain` sees it.
    func evict(_ pod: ResourceID) async throws(ClusterError)

    /// Changes to objects of a kind (or all kinds) after `resourceVersion`, in order, none
    /// missed; `expired` when that version is too old to resume from (list again).
    func watch(_ kind: GroupKind?, namespace: String?, since resourceVersion: String) async throws(ClusterError)
        -> AsyncStream<ClusterWatchEvent>

    /// Kubernetes-style events, for one object or all.
    func events(for id: ResourceID?) async throws(ClusterError) -> [ClusterEvent]

    /// The log lines of a pod's container (its first when `container` is nil), oldest first.
    func logs(of pod: ResourceID, container: String?) async throws(ClusterError) -> [String]
}

extension ClusterBackend {
    /// A cluster that keeps no logs says so.
    public func logs(of pod: ResourceID, container: String?) async throws(ClusterError) -> [String] {
        throw ClusterError(.badRequest, "this cluster keeps no container logs")
    }

    /// The kinds the cluster lets a client list.
    public func kinds() async throws(ClusterError) -> [GroupKind] {
        try await discovery().resources.filter { $0.verbs.contains("list") }.map(\.groupKind)
    }

    /// Every object of a kind that matches a label selector (all pages).
    public func list(_ kind: GroupKind, namespace: String?, selector: LabelSelector) async throws(ClusterError) -> ObjectList {
        try await list(kind, namespace: namespace, options: ListOptions(labelSelector: selector))
    }

    /// Server-side apply: the fields in `object` become owned by `options.fieldManager`; fields
    /// it owned and no longer sends are removed unless another manager owns them; a field
    /// another manager owns with a different value is a conflict unless `options.force`.
    public func apply(_ object: Value, options: ApplyOptions) async throws(ClusterError) -> Value {
        guard let id = ResourceID(object: object) else {
            throw ClusterError(.badRequest, "the object has no apiVersion, kind or metadata.name")
        }
        return try await patch(id, .apply(object), options: options)
    }

    /// Deletes an object and, as `propagation` says, what it owns.
    public func delete(_ id: ResourceID, propagation: DeletionPropagation, dryRun: Bool) async throws(ClusterError) {
        try await delete(id, options: DeleteOptions(propagation: propagation, dryRun: dryRun))
    }
}

/// How a list is made: selectors, and a page size with the token of the page before.
public struct ListOptions: Sendable, Hashable {
    public var labelSelector: LabelSelector
    public var fieldSelector: FieldSelector
    /// At most this many items (nil: all); the list's `continue` token fetches the rest.
    public var limit: Int?
    /// The `continue` token of the previous page.
    public var continueToken: String?

    public init(labelSelector: LabelSelector = .everything, fieldSelector: FieldSelector = .everything, limit: Int? = nil, continueToken: String? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
    }
}

/// How a create, update or status update is made.
public struct WriteOptions: Sendable, Hashable {
    /// Who owns the fields written.
    public var fieldManager: String
    /// Validate, default and compute the result, but store nothing.
    public var dryRun: Bool

    public init(fieldManager: String, dryRun: Bool = false) {
        self.fieldManager = fieldManager
        self.dryRun = dryRun
    }
}

/// A PATCH's body, by its content type.
public enum Patch: Sendable, Hashable {
    /// `application/apply-patch+yaml`: server-side apply of a whole (partial) object.
    case apply(Value)
    /// `application/merge-patch+json` (RFC 7386): maps merge, `null` removes, lists replace.
    case merge(Value)
    /// `application/strategic-merge-patch+json`: a merge patch whose keyed lists merge item by item.
    case strategic(Value)
    /// `application/json-patch+json` (RFC 6902): a list of operations.
    case json(Value)

    /// The object a merge, strategic merge or JSON patch makes of `live` (nil for an apply,
    /// which only the cluster can compute).
    public func patched(_ live: Value) throws(ClusterError) -> Value? {
        switch self {
        case .apply: return nil
        case .merge(let changes): return MergePatch.apply(changes, to: live)
        case .strategic(let changes): return try StrategicMergePatch.apply(changes, to: live)
        case .json(let operations): return try JSONPatch.apply(operations, to: live)
        }
    }
}

/// How a patch is made.
public struct PatchOptions: Sendable, Hashable {
    public var fieldManager: String
    public var dryRun: Bool
    /// For an apply: take ownership of fields other managers own instead of failing.
    public var force: Bool

    public init(fieldManager: String, dryRun: Bool = false, force: Bool = false) {
        self.fieldManager = fieldManager
        self.dryRun = dryRun
        self.force = force
    }
}

/// How a delete is made.
public struct DeleteOptions: Sendable, Hashable {
    public var propagation: DeletionPropagation
    public var dryRun: Bool
    /// Delete only if the object is still at this resourceVersion (`conflict` otherwise).
    public var resourceVersion: String?

    public init(propagation: DeletionPropagation = .background, dryRun: Bool = false, resourceVersion: String? = nil) {
        self.propagation = propagation
        self.dryRun = dryRun
        self.resourceVersion = resourceVersion
    }
}

/// How an apply is made: a patch's options (`force` takes ownership of fields other managers
/// own instead of failing).
public typealias ApplyOptions = PatchOptions

/// What happens to the objects a deleted object owns.
public enum DeletionPropagation: String, Sendable, Hashable, CaseIterable {
    /// Owned objects are deleted first; the owner goes last.
    case foreground = "Foreground"
    /// The owner goes at once; the garbage collector deletes what it owned.
    case background = "Background"
    /// Owned objects are kept, their owner reference removed.
    case orphan = "Orphan"
}

/// A list of objects at a resourceVersion (from which a watch can continue), and when it is
/// one page of several, the token of the next.
public struct ObjectList: Sendable {
    public var items: [Value]
    public var resourceVersion: String
    /// The `continue` token of the next page (nil: this was the last).
    public var continueToken: String?

    public init(items: [Value], resourceVersion: String, continueToken: String? = nil) {
        self.items = items
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
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
        /// The watch failed and ends; `object` is a `Status` (code 410: the version is too old,
        /// list again). An API server says so inside the stream, after the watch began.
        case error = "ERROR"
    }

    public var kind: Kind
    public var object: Value
    public var resourceVersion: String

    public init(kind: Kind, object: Value, resourceVersion: String) {
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
        case tooManyRequests = "TooManyRequests"
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
            case .tooManyRequests: return 429
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

/// A cluster that cannot be used (its kubeconfig does not load, its credentials are gone):
/// every request fails with the same error, so the applications on it report it while the
/// others carry on.
public struct UnavailableCluster: ClusterBackend {
    public var error: ClusterError

    public init(_ error: ClusterError) {
        self.error = error
    }

    public func discovery() async throws(ClusterError) -> RESTMapping { throw error }
    public func list(_ kind: GroupKind, namespace: String?, options: ListOptions) async throws(ClusterError) -> ObjectList { throw error }
    public func get(_ id: ResourceID) async throws(ClusterError) -> Value { throw error }
    public func create(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value { throw error }
    public func update(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value { throw error }
    public func updateStatus(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value { throw error }
    public func patch(_ id: ResourceID, _ patch: Patch, options: PatchOptions) async throws(ClusterError) -> Value { throw error }
    public func delete(_ id: ResourceID, options: DeleteOptions) async throws(ClusterError) { throw error }
    public func evict(_ pod: ResourceID) async throws(ClusterError) { throw error }
    public func watch(_ kind: GroupKind?, namespace: String?, since resourceVersion: String) async throws(ClusterError) -> AsyncStream<ClusterWatchEvent> {
        throw error
    }
    public func events(for id: ResourceID?) async throws(ClusterError) -> [ClusterEvent] { throw error }
}
