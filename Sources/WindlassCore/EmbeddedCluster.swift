public import WindlassCluster
public import WindlassManifest

/// The embedded cluster: a ``ClusterBackend`` over an ``ObjectStore`` kept in SQLite under the
/// state directory. Every write is durable before it returns, watchers see every change in
/// order, and one process at a time owns the directory.
public actor EmbeddedCluster: SimulatedCluster {
    public nonisolated let stateDirectory: String
    public nonisolated let clock: any ClusterClock
    private var store: ObjectStore
    /// Where the objects are durable; nil for a cluster held in memory only (a twin).
    private let database: StateDatabase?
    private let lock: StateLock?
    private var watchers: [Int: Watcher] = [:]
    /// How long pods of a workload take to become ready (``TwinState/workloadKey(ofPod:)``),
    /// where a pod's template does not say (`sim.windlass.dev/start-seconds`).
    private var startDelays: [String: Double] = [:]
    /// What the incremental controllers remember between reconciles.
    private var marks = ControllerMarks()
    /// After a reconcile that finished: the store's version then and when timed work is next
    /// due. While the store is unchanged and nothing is due, a reconcile would change nothing.
    private var settled: (version: Int, due: Double?)? = nil
    /// Whether the controllers' events are kept (off for a twin: a forecast reads objects).
    private var recordsEvents = true
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
        let database = try StateDatabase(path: stateDirectory + "/cluster.sqlite")
        self.database = database
        store = try Self.load(database, now: clock.now())
        recordedEvents = try database.loadEvents()
        notifiedVersion = store.resourceVersion
        eventIndex = Self.index(of: recordedEvents)
    }

    /// A cluster held in memory only, with `objects` as they are (uids, owners, statuses and
    /// resourceVersions kept): a twin of another cluster, for forecasts. Nothing is written to
    /// disk and no lock is taken; `clock` is usually a ``ManualClock`` moved by ``advance(by:)``.
    public init(memoryWith objects: [Value], startDelays: [String: Double] = [:], clock: any ClusterClock) {
        stateDirectory = ""
        self.clock = clock
        self.startDelays = startDelays
        lock = nil
        database = nil
        var store = ObjectStore(empty: ())
        store.interning = false
        store.recordsUpdateOwnership = false
        store.keepsUnsaved = false
        recordsEvents = false
        // Definitions of custom kinds first, so their objects are mapped.
        let crd = GroupKind(group: "apiextensions.k8s.io", kind: "CustomResourceDefinition")
        let isDefinition = { (object: Value) in object["kind"]?.stringValue == crd.kind && ResourceID(object: object)?.groupKind == crd }
        for object in objects.filter(isDefinition) + objects.filter({ !isDefinition($0) }) {
            store.restore(StoredObject(object: object))
        }
        self.store = store
        notifiedVersion = store.resourceVersion
    }

    /// Twins for forecasts: the embedded core held in memory, on a manual clock that starts at
    /// the live cluster's now.
    public static let makeTwin: TwinFactory = { state in
        EmbeddedCluster(memoryWith: state.objects, startDelays: state.startDelays, clock: ManualClock(state.start))
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

    /// The built-in resources, those of the stored CustomResourceDefinitions, and any other
    /// kind stored (named as the API machinery would name it).
    public func discovery() async throws(ClusterError) -> RESTMapping {
        var mapping = store.mapping
        for kind in store.kinds where mapping.resource(for: kind) == nil {
            mapping.add(APIResource(group: kind.group, version: "v1", kind: kind.kind, name: RESTMapping.guessedPlural(kind.kind), namespaced: true))
        }
        return mapping
    }

    public func list(_ kind: GroupKind, namespace: String?, options: ListOptions) async throws(ClusterError) -> ObjectList {
        var items = store.list(kind, namespace: namespace, selector: options.labelSelector)
        if !options.fieldSelector.isEmpty { items = items.filter(options.fieldSelector.matches) }
        let version = String(store.resourceVersion)
        if let token = options.continueToken {
            // `<resourceVersion>:<namespace>/<name>` of the last item of the page before.
            guard let colon = token.firstIndex(of: ":") else { throw ClusterError(.badRequest, "invalid continue token \"\(token)\"") }
            let last = String(token[token.index(after: colon)...])
            items = items.filter { Self.pageKey($0) > last }
        }
        guard let limit = options.limit, limit > 0, items.count > limit else {
            return ObjectList(items: items, resourceVersion: version)
        }
        let page = Array(items.prefix(limit))
        return ObjectList(items: page, resourceVersion: version, continueToken: "\(version):\(Self.pageKey(page[page.count - 1]))")
    }

    /// Where an object sorts in a list: by namespace, then name.
    private static func pageKey(_ object: Value) -> String {
        (object[path: ["metadata", "namespace"]]?.stringValue ?? "") + "/" + (object[path: ["metadata", "name"]]?.stringValue ?? "")
    }

    public func get(_ id: ResourceID) async throws(ClusterError) -> Value {
        try store.get(id)
    }

    public func create(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        let now = clock.now()
        if options.dryRun { return try store.dryRun { (store) throws(ClusterError) in try store.create(object, manager: options.fieldManager, now: now) } }
        return try create(object, manager: options.fieldManager)
    }

    public func update(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        let now = clock.now()
        if options.dryRun { return try store.dryRun { (store) throws(ClusterError) in try store.update(object, manager: options.fieldManager, now: now) } }
        return try update(object, manager: options.fieldManager)
    }

    public func updateStatus(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        guard let id = ResourceID(object: object) else { throw ClusterError(.badRequest, "the object has no apiVersion, kind or metadata.name") }
        let current = try store.get(id)
        if let sent = object[path: ["metadata", "resourceVersion"]]?.stringValue, sent != current[path: ["metadata", "resourceVersion"]]?.stringValue {
            throw ClusterError(
                .conflict,
                "Operation cannot be fulfilled on \(store.mapping.qualifiedName(of: id.groupKind)) \"\(id.name)\": the object has been modified; please apply your changes to the latest version and try again")
        }
        let status = object["status"] ?? .null
        let now = clock.now()
        if options.dryRun { return try store.dryRun { (store) throws(ClusterError) in try store.updateStatus(id, status: status, now: now) } }
        return try updateStatus(id, status: status)
    }

    public func patch(_ id: ResourceID, _ patch: Patch, options: PatchOptions) async throws(ClusterError) -> Value {
        switch patch {
        case .apply(let object):
            guard let sent = ResourceID(object: object), sent.groupKind == id.groupKind, sent.name == id.name,
                store.isClusterScoped(id.groupKind) || sent.namespace == id.namespace
            else {
                throw ClusterError(.badRequest, "the object does not match the name, namespace or kind of the request (\(id))")
            }
            let result = try store.apply(object, options: options, now: clock.now())
            if !options.dryRun { try persist() }
            return result
        case .merge, .strategic, .json:
            let live = try store.get(id)
            guard var merged = try patch.patched(live) else { return live }
            // A patch that names no resourceVersion applies to the object as it is now.
            if merged[path: ["metadata", "resourceVersion"]] == nil, let version = live[path: ["metadata", "resourceVersion"]] {
                merged.set(version, at: ["metadata", "resourceVersion"])
            }
            try Self.checkIdentity(merged, against: id)
            return try await update(merged, options: WriteOptions(fieldManager: options.fieldManager, dryRun: options.dryRun))
        }
    }

    /// A patch may not rename, move or change the kind of what it patches.
    static func checkIdentity(_ patched: Value, against id: ResourceID) throws(ClusterError) {
        guard let after = ResourceID(object: patched), after.groupKind == id.groupKind, after.name == id.name,
            id.namespace == nil || after.namespace == nil || after.namespace == id.namespace
        else {
            throw ClusterError(.badRequest, "the patch changes the object's apiVersion, kind, name or namespace (\(id))")
        }
    }

    public func delete(_ id: ResourceID, options: DeleteOptions) async throws(ClusterError) {
        if let expected = options.resourceVersion, try store.get(id)[path: ["metadata", "resourceVersion"]]?.stringValue != expected {
            throw ClusterError(
                .conflict,
                "Operation cannot be fulfilled on \(store.mapping.qualifiedName(of: id.groupKind)) \"\(id.name)\": the precondition resourceVersion \(expected) does not hold")
        }
        try store.delete(id, propagation: options.propagation, dryRun: options.dryRun, now: clock.now())
        if !options.dryRun { try persist() }
    }

    public func watch(_ kind: GroupKind?, namespace: String?, since resourceVersion: String) async throws(ClusterError)
        -> AsyncStream<ClusterWatchEvent>
    {
        let since: Int
        if resourceVersion.isEmpty || resourceVersion == "0" {
            since = store.resourceVersion
        } else if let number = Int(resourceVersion) {
            since = number
        } else {
            throw ClusterError(.badRequest, "invalid resourceVersion \"\(resourceVersion)\"")
        }
        let backlog = try store.events(since: since)
        let (stream, continuation) = AsyncStream.makeStream(of: ClusterWatchEvent.self, bufferingPolicy: .bufferingOldest(watchBufferLimit))
        let watcher = Watcher(kind: kind, namespace: namespace, continuation: continuation)
        for change in backlog where Self.matches(change.object, watcher) {
            continuation.yield(change.event)
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

    /// The simulated kubelet's lines for a pod's container: its scheduling, its image, its
    /// start and readiness, its restarts, from the pod's status and events.
    public func logs(of pod: ResourceID, container: String?) async throws(ClusterError) -> [String] {
        let object = try store.get(pod)
        let containers = object[path: ["spec", "containers"]]?.sequenceValue ?? []
        let names = containers.compactMap { $0["name"]?.stringValue }
        let name = container ?? names.first ?? ""
        guard let spec = containers.first(where: { $0["name"]?.stringValue == name }) else {
            throw ClusterError(.badRequest, "container \(name) is not valid for pod \(pod.name)")
        }
        let status = (object[path: ["status", "containerStatuses"]]?.sequenceValue ?? []).first { $0["name"]?.stringValue == name }
        let created = object[path: ["metadata", "creationTimestamp"]]?.stringValue ?? Timestamp.rfc3339(clock.now())
        var lines = ["\(created) windlass-kubelet: container \(name) of pod \(pod.namespace ?? "default")/\(pod.name), image \(spec["image"]?.stringValue ?? "<none>")"]
        if let node = object[path: ["spec", "nodeName"]]?.stringValue { lines.append("\(created) windlass-kubelet: scheduled on node \(node)") }
        for event in recordedEvents where event.object.name == pod.name && event.object.namespace == pod.namespace && event.object.kind == "Pod" {
            lines.append("\(Timestamp.rfc3339(event.lastTime)) windlass-kubelet: \(event.reason): \(event.message)")
        }
        if let started = status?[path: ["state", "running", "startedAt"]]?.stringValue {
            lines.append("\(started) \(name): started")
            for port in spec["ports"]?.sequenceValue ?? [] {
                if let number = port["containerPort"]?.intValue { lines.append("\(started) \(name): listening on :\(number)") }
            }
        }
        if status?["ready"]?.boolValue == true { lines.append("\(Timestamp.rfc3339(clock.now())) \(name): ready") }
        if let restarts = status?["restartCount"]?.intValue, restarts > 0 { lines.append("\(Timestamp.rfc3339(clock.now())) \(name): restarted \(restarts) times") }
        return lines
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

    /// The wall time one reconcile may take while something waits on it (a sync's wave, the
    /// daemon's API): the rest is done by the next.
    public static let waitingBudget: Double = 1

    /// Runs the controllers until nothing is left to do now, and makes the result durable.
    /// Returns when timed work (a pod's start delay, a progress deadline) is next due. With a
    /// `budget` (seconds of wall time), it stops between two rounds once that is spent, and
    /// says the rest is due now: a waiting sync checks its deadline between runs, so 20,000
    /// replicas do not carry it far past its wave timeout.
    @discardableResult
    public func reconcile(budget: Double? = nil) throws(ClusterError) -> Double? {
        var context = ControllerContext(store: ObjectStore(empty: ()), now: clock.now())
        context.startDelays = startDelays
        context.recordsEvents = recordsEvents
        // Moved, not copied: the controllers change the one store in place.
        swap(&context.store, &store)
        swap(&context.marks, &marks)
        var failure: ClusterError? = nil
        do {
            let deadline = budget.map { ContinuousClock.now + .milliseconds(Int($0 * 1000)) }
            if try !Reconciler.runUntilQuiescent(&context, deadline: deadline).finished { context.wake(at: context.now) }
        } catch {
            failure = error
        }
        swap(&context.store, &store)
        swap(&context.marks, &marks)
        // A run that failed may have left objects unlooked at: the next looks at everything.
        if failure != nil { marks = ControllerMarks() }
        for (kind, reason, message, id) in context.events {
            record(kind, reason, message, about: id)
        }
        try persist()
        if let failure { throw failure }
        return context.nextWakeup
    }

    public nonisolated func virtualNow() -> Double { clock.now() }

    public func stateVersion() -> Int { store.resourceVersion }

    public func nextChange() -> Double {
        guard let settled, settled.version == store.resourceVersion else { return clock.now() }
        return settled.due ?? .infinity
    }

    /// From the scheduler's placement and the changes since it last ran; else from the pods.
    public func requested() throws(ClusterError) -> (cpu: Quantity, memory: Quantity) {
        if !marks.placement.stale, let since = marks.versions["scheduler"], let changes = try? store.events(since: since) {
            return marks.placement.total(after: changes)
        }
        var placement = Placement()
        placement.rebuild(from: store.list(Scheduler.podKind, namespace: nil))
        return placement.total
    }

    /// Lets `seconds` of virtual time pass on a cluster whose clock is a ``ManualClock``: the
    /// clock jumps from one due time (a pod's start delay, a grace period) to the next, and
    /// the controllers run at each, as they would have in real time. Returns the time reached.
    @discardableResult
    public func advance(by seconds: Double) throws(ClusterError) -> Double {
        guard let manual = clock as? ManualClock else {
            try reconcile()
            return clock.now()
        }
        let target = manual.now() + max(0, seconds)
        while true {
            let due = try reconcileUnlessSettled(until: target)
            guard let due, due > manual.now(), due <= target else { break }
            manual.set(to: due)
        }
        if manual.now() < target {
            manual.set(to: target)
            try reconcileUnlessSettled(until: target)
        }
        return manual.now()
    }

    /// Reconciles, unless nothing was written since the last reconcile that finished and no
    /// timed work falls due by `time` (then the controllers would change nothing: on a virtual
    /// clock most polls between two pod starts cost nothing). Returns when work is next due.
    @discardableResult
    private func reconcileUnlessSettled(until time: Double) throws(ClusterError) -> Double? {
        if let settled, settled.version == store.resourceVersion, settled.due.map({ $0 > time }) ?? true { return settled.due }
        let due = try reconcile()
        settled = (store.resourceVersion, due)
        return due
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
        var evicted: [ResourceID] = []
        var blocked: [ResourceID] = []
        for pod in store.list(GroupKind(group: "", kind: "Pod"), namespace: nil) where pod[path: ["spec", "nodeName"]]?.stringValue == name {
            let owners = pod[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? []
            if owners.contains(where: { $0["kind"] == "DaemonSet" }) { continue }
            guard let podID = ResourceID(object: pod) else { continue }
            do {
                try evictPod(podID)
                evicted.append(podID)
            } catch {
                guard error.code == .tooManyRequests else { throw error }
                blocked.append(podID)
            }
        }
        try persist()
        try reconcile()
        return (evicted, blocked)
    }

    public func evict(_ pod: ResourceID) async throws(ClusterError) {
        do {
            try evictPod(pod)
        } catch {
            try persist()
            throw error
        }
        try persist()
    }

    /// The Eviction API: a pod goes unless a disruption budget covering it allows no more
    /// disruptions (only a ready pod counts against a budget). A VM's launcher pod whose VM asks
    /// for live migration moves instead: its instance is told to migrate, and the pod goes only
    /// once the VM runs on another node.
    private func evictPod(_ podID: ResourceID) throws(ClusterError) {
        let pod = try store.get(podID)
        let node = pod[path: ["spec", "nodeName"]]?.stringValue ?? ""
        let owners = pod[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? []
        if let vmiID = owners.first(where: { $0["kind"] == "VirtualMachineInstance" }).flatMap({ reference -> ResourceID? in
            guard let vmiName = reference["name"]?.stringValue else { return nil }
            return ResourceID(group: "kubevirt.io", version: "v1", kind: "VirtualMachineInstance", namespace: podID.namespace, name: vmiName)
        }), var instance = try? store.get(vmiID), instance[path: ["spec", "evictionStrategy"]]?.stringValue == "LiveMigrate" {
            if instance[path: ["metadata", "annotations", VirtualMachineController.migrateFrom]] == nil {
                instance.set(.string(node), at: ["metadata", "annotations", VirtualMachineController.migrateFrom])
                _ = try store.update(instance, manager: "windlass-cli", now: clock.now())
                record(.normal, "Migrating", "Live-migrating the virtual machine off node \(node)", about: vmiID)
            }
            return
        }
        let labels = ObjectStore.labels(of: pod)
        let covering = store.list(DisruptionController.kind, namespace: podID.namespace).filter { budget in
            (try? LabelSelector(budget[path: ["spec", "selector"]] ?? .null))?.matches(labels) ?? false
        }
        if ReplicaSetController.isReady(pod),
            covering.contains(where: { (DisruptionController.status(of: $0, in: store)["disruptionsAllowed"]?.intValue ?? 0) <= 0 })
        {
            record(.warning, "FailedEviction", "Cannot evict pod as it would violate the pod's disruption budget.", about: podID)
            throw ClusterError(.tooManyRequests, "Cannot evict pod as it would violate the pod's disruption budget.")
        }
        try store.delete(podID, propagation: .background)
        record(.normal, "Evicted", "Evicted pod \(podID.name)\(node.isEmpty ? "" : " while draining node \(node)")", about: podID)
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
        if let database {
            do {
                try database.save(changes, events: events, settings: ["resourceVersion": String(store.resourceVersion)])
            } catch {
                if let reloaded = try? Self.load(database, now: clock.now()) { store = reloaded }
                throw error
            }
        }
        guard !watchers.isEmpty else {
            notifiedVersion = store.resourceVersion
            return
        }
        let fresh = (try? store.events(since: notifiedVersion)) ?? []
        var overflowed: [Int] = []
        for change in fresh {
            let event = change.event
            for (id, watcher) in watchers where Self.matches(change.object, watcher) {
                if case .dropped = watcher.continuation.yield(event) { overflowed.append(id) }
            }
        }
        // A watcher that stopped reading is dropped (its stream ends after what it holds; it
        // resumes from its last version, or lists again), never buffered without bound.
        for id in Set(overflowed) {
            watchers[id]?.continuation.finish()
            watchers[id] = nil
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

    /// Changes that may wait for a watcher before it is dropped: by default more than the log
    /// keeps, so a watch resumed from the oldest kept version fits.
    public private(set) var watchBufferLimit = 32_768

    /// Sets how many changes the cluster keeps for watches to resume from (20,000 by default):
    /// a watch from an older version is `expired` and lists again.
    public func limitChangeLog(to count: Int) {
        store.logLimit = max(1, count)
    }

    /// Sets how many changes may wait for one watcher (for new watches).
    public func limitWatchBuffers(to count: Int) {
        watchBufferLimit = max(1, count)
    }

    /// How many watchers are open (for tests and metrics).
    public var watcherCount: Int { watchers.count }

    private func removeWatcher(_ id: Int) {
        watchers[id] = nil
    }

    private static func matches(_ object: Value, _ watcher: Watcher) -> Bool {
        guard let id = ResourceID(object: object) else { return false }
        if let kind = watcher.kind, id.groupKind != kind { return false }
        if let namespace = watcher.namespace, id.namespace != namespace { return false }
        return true
    }
}
