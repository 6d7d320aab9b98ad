public import WindlassCluster
public import WindlassManifest

/// A test double of a cluster: objects kept in memory, behind the same ``ClusterBackend``
/// protocol as the embedded cluster and a Kubernetes API server. It exists so tests can run
/// the application pipeline over a second backend and nothing above the protocol can come to
/// depend on the embedded cluster again.
///
/// An apply replaces the object's fields with the ones sent (one field manager; no field
/// ownership, no admission), fills in the API server's defaults and stamps the metadata a
/// server sets. Its "controllers" are instantaneous: a workload's status says every replica is
/// ready as soon as it is written, unless ``stalled`` names it.
public actor MemoryCluster: ClusterBackend {
    private var objects: [ResourceID: Value] = [:]
    private var version = 0
    /// Every write, in order: `apply Deployment/web`, `delete ConfigMap/old`.
    public private(set) var writes: [String] = []
    /// Workloads whose status never becomes ready (a rollout that does not finish).
    public var stalled: Set<String> = []

    /// Kinds whose lists are refused, as RBAC refuses them (403 naming the verb and resource).
    public var refusedLists: Set<GroupKind> = []

    public init() {}

    /// Refuses every list of `kind` from now on, as a Role without `list` on it would.
    public func refuseLists(of kind: GroupKind) { refusedLists.insert(kind) }

    public func stall(_ name: String) { stalled.insert(name) }

    /// Changes a stored object in place, as another client would (drift).
    public func edit(_ id: ResourceID, _ change: (inout Value) -> Void) throws(ClusterError) {
        guard var object = objects[id] else { throw ClusterError(.notFound, "\(id) not found") }
        change(&object)
        version += 1
        object.set(.string(String(version)), at: ["metadata", "resourceVersion"])
        objects[id] = object
        writes.append("edit \(id.kind)/\(id.name)")
    }

    public var count: Int { objects.count }

    public func discovery() async throws(ClusterError) -> RESTMapping { RESTMapping.builtIn }

    public func list(_ kind: GroupKind, namespace: String?, options: ListOptions) async throws(ClusterError) -> ObjectList {
        if refusedLists.contains(kind) {
            let resource = RESTMapping.builtIn.resource(for: kind).map { $0.group.isEmpty ? $0.name : "\($0.name).\($0.group)" } ?? kind.kind
            throw ClusterError(.forbidden, "\(resource) is forbidden: User \"ci\" cannot list resource \"\(resource)\" at the cluster scope")
        }
        let items = objects.filter { id, object in
            id.groupKind == kind && (namespace == nil || id.namespace == namespace)
                && options.labelSelector.matches(label: { object[path: ["metadata", "labels", $0]]?.stringValue }) && options.fieldSelector.matches(object)
        }
        return ObjectList(items: items.sorted { $0.key < $1.key }.map(\.value), resourceVersion: String(version))
    }

    public func get(_ id: ResourceID) async throws(ClusterError) -> Value {
        guard let object = objects[id] else { throw ClusterError(.notFound, "\(id.kind.lowercased()) \"\(id.name)\" not found") }
        return object
    }

    public func create(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        guard let id = ResourceID(object: object) else { throw ClusterError(.invalid, "the object has no kind or name") }
        if objects[id] != nil { throw ClusterError(.alreadyExists, "\(id.kind.lowercased()) \"\(id.name)\" already exists") }
        return write(object, id: id, dryRun: options.dryRun)
    }

    public func update(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        guard let id = ResourceID(object: object) else { throw ClusterError(.invalid, "the object has no kind or name") }
        guard let current = objects[id] else { throw ClusterError(.notFound, "\(id.kind.lowercased()) \"\(id.name)\" not found") }
        if let sent = object[path: ["metadata", "resourceVersion"]], sent != current[path: ["metadata", "resourceVersion"]] {
            throw ClusterError(.conflict, "the object has been modified")
        }
        return write(object, id: id, dryRun: options.dryRun)
    }

    public func updateStatus(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        guard let id = ResourceID(object: object), var current = objects[id] else { throw ClusterError(.notFound, "no such object") }
        if options.dryRun { return current }
        current.set(object["status"] ?? .null, at: ["status"])
        objects[id] = current
        version += 1
        return current
    }

    public func patch(_ id: ResourceID, _ patch: Patch, options: PatchOptions) async throws(ClusterError) -> Value {
        switch patch {
        case .apply(let object): return write(object, id: id, dryRun: options.dryRun)
        case .merge, .strategic, .json:
            let live = try await get(id)
            return write(try patch.patched(live) ?? live, id: id, dryRun: options.dryRun)
        }
    }

    private func write(_ object: Value, id: ResourceID, dryRun: Bool) -> Value {
        let before = objects[id]
        var stored = Defaults.apply(to: object)
        stored.remove(at: ["status"])
        let specChanged = before.map { $0["spec"] != object["spec"] } ?? true
        let generation = (before?[path: ["metadata", "generation"]]?.intValue ?? 0) + (specChanged ? 1 : 0)
        stored.set(.int(generation), at: ["metadata", "generation"])
        stored.set(before?[path: ["metadata", "uid"]] ?? .string("uid-\(id.name)-\(version + 1)"), at: ["metadata", "uid"])
        if dryRun { return stored }
        version += 1
        stored.set(.string(String(version)), at: ["metadata", "resourceVersion"])
        if ["Deployment", "StatefulSet"].contains(id.kind) {
            let replicas = object[path: ["spec", "replicas"]]?.intValue ?? 1
            let ready = stalled.contains(id.name) ? 0 : replicas
            stored.set(
                [
                    "observedGeneration": .int(generation), "replicas": .int(replicas), "updatedReplicas": .int(ready),
                    "readyReplicas": .int(ready), "availableReplicas": .int(ready), "currentReplicas": .int(ready),
                ], at: ["status"])
            if id.kind == "StatefulSet" { stored.set(.string("rev-\(generation)"), at: ["status", "currentRevision"]) }
        }
        objects[id] = stored
        writes.append("apply \(id.kind)/\(id.name)")
        return stored
    }

    public func delete(_ id: ResourceID, options: DeleteOptions) async throws(ClusterError) {
        guard objects[id] != nil else { throw ClusterError(.notFound, "\(id.kind.lowercased()) \"\(id.name)\" not found") }
        if options.dryRun { return }
        objects[id] = nil
        version += 1
        writes.append("delete \(id.kind)/\(id.name)")
    }

    /// Pods go at once: no disruption budgets here.
    public func evict(_ pod: ResourceID) async throws(ClusterError) {
        try await delete(pod, options: DeleteOptions())
    }

    public func watch(_ kind: GroupKind?, namespace: String?, since resourceVersion: String) async throws(ClusterError) -> AsyncStream<ClusterWatchEvent> {
        AsyncStream { $0.finish() }
    }

    public func events(for id: ResourceID?) async throws(ClusterError) -> [ClusterEvent] { [] }
}
