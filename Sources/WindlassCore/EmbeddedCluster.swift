public import WindlassCluster
public import WindlassManifest

/// The embedded cluster: a ``ClusterBackend`` over an ``ObjectStore`` kept in SQLite under the
/// state directory. Every write is durable before it returns, watchers see every change in
/// order, and one process at a time owns the directory.
public actor EmbeddedCluster: ClusterBackend {
    public nonisolated let stateDirectory: String
    public nonisolated let clock: any ClusterClock
    private var store: ObjectStore
    private let database: StateDatabase
    private let lock: StateLock
    private var watchers: [Int: Watcher] = [:]
    private var nextWatcher = 0
    private var notifiedVersion: Int
    private var recordedEvents: [ClusterEvent] = []
    /// Where each (object, reason, message) is in `recordedEvents`, to fold repeats.
    private var eventIndex: [String: Int] = [:]
    /// Indexes into `recordedEvents` of events not yet saved.
    private var unsavedEvents = Set<Int>()

    private struct Watcher {
        var kind: GroupKind?
        var namespace: String?
        var continuation: AsyncStream<ClusterWatchEvent>.Continuation
    }

    /// Opens (or creates) the cluster in `stateDirectory`, taking its lock.
    public init(stateDirectory: String, clock: any ClusterClock = SystemClock()) throws(ClusterError) {
        self.stateDirectory = stateDirectory
        self.clock = clock
        lock = try StateLock(directory: stateDirectory)
        database = try StateDatabase(path: stateDirectory + "/cluster.sqlite")
        store = try Self.load(database, now: clock.now())
        recordedEvents = try database.loadEvents()
        notifiedVersion = store.resourceVersion
        eventIndex = Self.index(of: recordedEvents)
    }

    private static func load(_ database: StateDatabase, now: Double) throws(ClusterError) -> ObjectStore {
        var store = ObjectStore(empty: ())
        var restored = 0
        try database.forEachObject { object in
            store.restore(object)
            restored += 1
        }
        if restored == 0 {
            var fresh = ObjectStore(now: now)
            try database.save(fresh.takeChanges(), settings: ["resourceVersion": String(fresh.resourceVersion)])
            return fresh
        }
        if let saved = try database.setting("resourceVersion").flatMap(Int.init) {
            store.advanceResourceVersion(to: saved)
        }
        return store
    }

    // MARK: - ClusterBackend

    public func list(_ kind: GroupKind, namespace: String?, selector: LabelSelector) async throws(ClusterError) -> ObjectList {
        ObjectList(items: store.list(kind, namespace: namespace, selector: selector), resourceVersion: store.resourceVersion)
    }

    public func kinds() async throws(ClusterError) -> [GroupKind] {
        store.kinds.sorted { ($0.group, $0.kind) < ($1.group, $1.kind) }
    }

    public func get(_ id: ResourceID) async throws(ClusterError) -> Value {
        try store.get(id)
    }

    public func apply(_ object: Value, options: ApplyOptions) async throws(ClusterError) -> Value {
        let result = try store.apply(object, options: options, now: clock.now())
        if !options.dryRun { try persist() }
        return result
    }

    public func delete(_ id: ResourceID, propagation: DeletionPropagation, dryRun: Bool) async throws(ClusterError) {
        try store.delete(id, propagation: propagation, dryRun: dryRun)
        if !dryRun { try persist() }
    }

    public func watch(_ kind: GroupKind?, namespace: String?, since resourceVersion: Int) async throws(ClusterError)
        -> AsyncStream<ClusterWatchEvent>
    {
        let backlog = try store.events(since: resourceVersion)
        let (stream, continuation) = AsyncStream.makeStream(of: ClusterWatchEvent.self)
        let watcher = Watcher(kind: kind, namespace: namespace, continuation: continuation)
        for event in backlog where Self.matches(event, watcher) {
            continuation.yield(event)
        }
        let id = nextWatcher
        nextWatcher += 1
        watchers[id] = watcher
        continuation.onTermination = { [weak self] _ in
            Task { await self?.removeWatcher(id) }
        }
        return stream
    }

    public func events(for id: ResourceID?) async throws(ClusterError) -> [ClusterEvent] {
        guard let id else { return recordedEvents }
        return recordedEvents.filter { $0.object == id }
    }

    // MARK: - Writes for controllers and the CLI

    /// Creates an object (`create`), owned by `manager`.
    public func create(_ object: Value, manager: String) throws(ClusterError) -> Value {
        let result = try store.create(object, manager: manager, now: clock.now())
        try persist()
        return result
    }

    /// Replaces an object (`update`), with optimistic concurrency on `metadata.resourceVersion`.
    public func update(_ object: Value, manager: String) throws(ClusterError) -> Value {
        let result = try store.update(object, manager: manager, now: clock.now())
        try persist()
        return result
    }

    /// Replaces an object's status.
    public func updateStatus(_ id: ResourceID, status: Value) throws(ClusterError) -> Value {
        let result = try store.updateStatus(id, status: status, now: clock.now())
        try persist()
        return result
    }

    /// Records a Kubernetes-style event, folding repeats into a count as the API server does.
    public func record(_ kind: ClusterEvent.Kind, _ reason: String, _ message: String, about object: ResourceID) {
        let now = clock.now()
        let key = StateDatabase.key(object: object, reason: reason, message: message)
        if let index = eventIndex[key] {
            recordedEvents[index].count += 1
            recordedEvents[index].lastTime = now
            unsavedEvents.insert(index)
            return
        }
        eventIndex[key] = recordedEvents.count
        recordedEvents.append(ClusterEvent(object: object, kind: kind, reason: reason, message: message, firstTime: now, lastTime: now))
        unsavedEvents.insert(recordedEvents.count - 1)
    }

    public var resourceVersion: Int { store.resourceVersion }

    /// The simulated traffic of every running pod, in Prometheus' text format.
    public func simulatedMetrics() -> String {
        SimulatedTraffic.exposition(pods: store.list(GroupKind(group: "", kind: "Pod"), namespace: nil), now: clock.now())
    }

    /// Runs the controllers until nothing is left to do now, and makes the result durable.
    /// Returns when timed work (a pod's start delay, a progress deadline) is next due.
    @discardableResult
    public func reconcile() throws(ClusterError) -> Double? {
        var context = ControllerContext(store: ObjectStore(empty: ()), now: clock.now())
        // Moved, not copied: the controllers change the one store in place.
        swap(&context.store, &store)
        var failure: ClusterError? = nil
        do {
            _ = try Reconciler.runUntilQuiescent(&context)
        } catch {
            failure = error
        }
        swap(&context.store, &store)
        for (kind, reason, message, id) in context.events {
            record(kind, reason, message, about: id)
        }
        try persist()
        if let failure { throw failure }
        return context.nextWakeup
    }

    /// Makes a node NotReady, as if its kubelet had stopped (`windlass cluster fail-node`); its
    /// pods are evicted after `graceSeconds`.
    public func failNode(_ name: String, graceSeconds: Double? = nil) throws(ClusterError) {
        try setNodeReady(name, ready: false, reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status.", graceSeconds: graceSeconds)
        try reconcile()
    }

    /// Brings a failed node back (`windlass cluster recover-node`).
    public func recoverNode(_ name: String) throws(ClusterError) {
        try setNodeReady(name, ready: true, reason: "KubeletReady", message: "kubelet is posting ready status", graceSeconds: nil)
        try reconcile()
    }

    /// Cordons a node and evicts its pods (DaemonSet pods stay), as `kubectl drain` does; their
    /// controllers recreate them elsewhere. A pod whose eviction would take a
    /// PodDisruptionBudget below its minimum stays, and is returned as blocked: drain again once
    /// its replacements are ready.
    @discardableResult
    public func drain(_ name: String) throws(ClusterError) -> (evicted: [ResourceID], blocked: [ResourceID]) {
        let id = ResourceID(group: "", version: "v1", kind: "Node", namespace: nil, name: name)
        var node = try store.get(id)
        if node[path: ["spec", "unschedulable"]]?.boolValue != true {
            node.set(true, at: ["spec", "unschedulable"])
            _ = try store.update(node, manager: "windlass-cli", now: clock.now())
        }
        let budgets = store.list(DisruptionController.kind, namespace: nil)
        var allowed: [String: Int] = [:]
        for budget in budgets {
            allowed[budget[path: ["metadata", "uid"]]?.stringValue ?? ""] = DisruptionController.status(of: budget, in: store)["disruptionsAllowed"]?.intValue ?? 0
        }
        var evicted: [ResourceID] = []
        var blocked: [ResourceID] = []
        for pod in store.list(GroupKind(group: "", kind: "Pod"), namespace: nil) where pod[path: ["spec", "nodeName"]]?.stringValue == name {
            let owners = pod[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? []
            if owners.contains(where: { $0["kind"] == "DaemonSet" }) { continue }
            guard let podID = ResourceID(object: pod) else { continue }
            // A VM that asks for live migration moves instead: its instance is told to migrate,
            // and the launcher pod goes only once the VM runs on another node.
            if let vmiID = owners.first(where: { $0["kind"] == "VirtualMachineInstance" }).flatMap({ reference -> ResourceID? in
                guard let vmiName = reference["name"]?.stringValue else { return nil }
                return ResourceID(group: "kubevirt.io", version: "v1", kind: "VirtualMachineInstance", namespace: podID.namespace, name: vmiName)
            }), var instance = try? store.get(vmiID), instance[path: ["spec", "evictionStrategy"]]?.stringValue == "LiveMigrate" {
                if instance[path: ["metadata", "annotations", VirtualMachineController.migrateFrom]] == nil {
                    instance.set(.string(name), at: ["metadata", "annotations", VirtualMachineController.migrateFrom])
                    _ = try store.update(instance, manager: "windlass-cli", now: clock.now())
                    record(.normal, "Migrating", "Live-migrating the virtual machine off node \(name)", about: vmiID)
                }
                evicted.append(podID)
                continue
            }
            let labels = ObjectStore.labels(of: pod)
            let covering = budgets.filter { budget in
                budget[path: ["metadata", "namespace"]] == pod[path: ["metadata", "namespace"]]
                    && ((try? LabelSelector(budget[path: ["spec", "selector"]] ?? .null))?.matches(labels) ?? false)
            }.compactMap { $0[path: ["metadata", "uid"]]?.stringValue }
            // Only a ready pod counts against a budget; an unready one may always go.
            let counts = ReplicaSetController.isReady(pod)
            if counts, covering.contains(where: { (allowed[$0] ?? 0) <= 0 }) {
                record(.warning, "FailedEviction", "Cannot evict pod as it would violate the pod's disruption budget.", about: podID)
                blocked.append(podID)
                continue
            }
            if counts { for uid in covering { allowed[uid, default: 0] -= 1 } }
            try store.delete(podID, propagation: .background)
            record(.normal, "Evicted", "Evicted pod \(podID.name) while draining node \(name)", about: podID)
            evicted.append(podID)
        }
        try persist()
        try reconcile()
        return (evicted, blocked)
    }

    /// Marks a node schedulable again (`kubectl uncordon`).
    public func uncordon(_ name: String) throws(ClusterError) {
        let id = ResourceID(group: "", version: "v1", kind: "Node", namespace: nil, name: name)
        var node = try store.get(id)
        node.remove(at: ["spec", "unschedulable"])
        _ = try store.update(node, manager: "windlass-cli", now: clock.now())
        try persist()
        try reconcile()
    }

    private func setNodeReady(_ name: String, ready: Bool, reason: String, message: String, graceSeconds: Double?) throws(ClusterError) {
        let id = ResourceID(group: "", version: "v1", kind: "Node", namespace: nil, name: name)
        var node = try store.get(id)
        let now = clock.now()
        if let graceSeconds {
            node.set(.string(String(Int(graceSeconds))), at: ["metadata", "annotations", "windlass.dev/eviction-grace-seconds"])
            _ = try store.update(node, manager: "windlass-cli", now: now)
            node = try store.get(id)
        }
        var status = node["status"] ?? [:]
        var conditions = status["conditions"]?.sequenceValue ?? []
        conditions.removeAll { $0["type"] == "Ready" }
        conditions.append([
            "type": "Ready", "status": .string(ready ? "True" : "Unknown"), "reason": .string(reason), "message": .string(message),
            "lastHeartbeatTime": .string(Timestamp.rfc3339(now)), "lastTransitionTime": .string(Timestamp.rfc3339(now)),
        ])
        status.set(.sequence(conditions), at: ["conditions"])
        _ = try store.updateStatus(id, status: status, now: now)
        record(ready ? .normal : .warning, ready ? "NodeReady" : "NodeNotReady", "Node \(name) status is now: \(ready ? "NodeReady" : "NodeNotReady")", about: id)
        try persist()
    }

    /// Creates the node pool (`windlass cluster init`): `count` nodes of `cpu` and `memory`.
    public func createNodes(count: Int, cpu: String, memory: String, labels: [String: String] = [:]) throws(ClusterError) {
        let now = clock.now()
        for index in 1...max(1, count) {
            let name = "node-\(index)"
            var node: Value = [
                "apiVersion": "v1", "kind": "Node",
                "metadata": ["name": .string(name), "labels": ["kubernetes.io/hostname": .string(name), "kubernetes.io/os": "linux"]],
                "spec": [:],
            ]
            for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
                node.set(.string(value), at: ["metadata", "labels", key])
            }
            _ = try store.create(node, manager: "windlass-core", now: now)
            let id = ResourceID(group: "", version: "v1", kind: "Node", namespace: nil, name: name)
            let resources: Value = ["cpu": .string(cpu), "memory": .string(memory), "pods": "110"]
            let status: Value = [
                "capacity": resources, "allocatable": resources,
                "conditions": [["type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                                "lastHeartbeatTime": .string(Timestamp.rfc3339(now)), "lastTransitionTime": .string(Timestamp.rfc3339(now))]],
            ]
            _ = try store.updateStatus(id, status: status, now: now)
        }
        try persist()
    }

    // MARK: - Internals

    /// Makes the store's changes durable, then tells watchers. If the database refuses the write,
    /// the in-memory store is reloaded from it, so nothing half-written is visible.
    private func persist() throws(ClusterError) {
        let changes = store.takeChanges()
        let events = unsavedEvents.sorted().map { recordedEvents[$0] }
        unsavedEvents.removeAll()
        if recordedEvents.count > 20_000 {
            recordedEvents.removeFirst(recordedEvents.count - 10_000)
            eventIndex = Self.index(of: recordedEvents)
        }
        do {
            try database.save(changes, events: events, settings: ["resourceVersion": String(store.resourceVersion)])
        } catch {
            if let reloaded = try? Self.load(database, now: clock.now()) { store = reloaded }
            throw error
        }
        guard !watchers.isEmpty else {
            notifiedVersion = store.resourceVersion
            return
        }
        let fresh = (try? store.events(since: notifiedVersion)) ?? []
        for event in fresh {
            for watcher in watchers.values where Self.matches(event, watcher) {
                watcher.continuation.yield(event)
            }
        }
        notifiedVersion = store.resourceVersion
    }

    private static func index(of events: [ClusterEvent]) -> [String: Int] {
        var index: [String: Int] = [:]
        for (position, event) in events.enumerated() {
            index[StateDatabase.key(object: event.object, reason: event.reason, message: event.message)] = position
        }
        return index
    }

    private func removeWatcher(_ id: Int) {
        watchers[id] = nil
    }

    private static func matches(_ event: ClusterWatchEvent, _ watcher: Watcher) -> Bool {
        guard let id = ResourceID(object: event.object) else { return false }
        if let kind = watcher.kind, id.groupKind != kind { return false }
        if let namespace = watcher.namespace, id.namespace != namespace { return false }
        return true
    }
}
