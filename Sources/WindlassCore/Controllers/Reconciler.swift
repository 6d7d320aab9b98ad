public import WindlassCluster
public import WindlassManifest

/// What a controller run needs: the store to change, the time, and a place for events.
public struct ControllerContext {
    public var store: ObjectStore
    public let now: Double
    public var events: [(ClusterEvent.Kind, String, String, ResourceID)] = []
    /// The earliest future time at which timed work (a pod becoming ready) is due.
    public var nextWakeup: Double? = nil
    /// Seconds from start to readiness by workload, where a pod's template does not say.
    public var startDelays: [String: Double] = [:]
    /// What the incremental controllers remember between runs (kept by the cluster).
    public var marks = ControllerMarks()

    public init(store: ObjectStore, now: Double) {
        self.store = store
        self.now = now
    }

    /// Whether ``event(_:_:_:_:)`` keeps events (a twin's controllers make none: their
    /// messages are not even built).
    public var recordsEvents = true

    mutating func event(_ kind: ClusterEvent.Kind, _ reason: String, _ message: @autoclosure () -> String, _ id: @autoclosure () -> ResourceID) {
        guard recordsEvents else { return }
        events.append((kind, reason, message(), id()))
    }

    mutating func wake(at time: Double) {
        nextWakeup = min(nextWakeup ?? time, time)
    }

    /// Timed work on one object of `controller`: the object is looked at again at `time`.
    mutating func due(_ controller: String, _ name: NamespacedName, at time: Double) {
        wake(at: time)
        marks.timers[controller, default: [:]][name] = time
    }

    /// The objects of `kind` that `controller` must look at now, in list order: those the
    /// store's changes since its last run affect (`affected` maps a change to the names of
    /// `kind` it touches, or nil for "all of them"), and those whose timed work is due. Every
    /// object when the controller has not run yet or the change log no longer reaches back.
    /// Changes the run makes itself are looked at by the next run.
    mutating func objects(
        of kind: GroupKind, for controller: String, affected: (ObjectStore.Change) -> [NamespacedName]?
    ) -> [Value] {
        changedObjects(of: kind, for: controller, affected: affected).objects
    }

    /// Writes `status` of `id` for `controller`, and remembers the write so that its change
    /// does not bring the object back to the same controller (which would only compute the
    /// same status again).
    @discardableResult
    mutating func updateOwnStatus(_ id: ResourceID, status: Value, for controller: String) throws(ClusterError) -> Value {
        let before = store.resourceVersion
        let updated = try store.updateStatus(id, status: status, now: now)
        if store.resourceVersion != before { marks.written[controller, default: []].insert(store.resourceVersion) }
        return updated
    }

    /// Runs `body`'s writes for `controller`, remembering them as
    /// ``updateOwnStatus(_:status:for:)`` does: for a controller that accounts, in the same
    /// pass, for what it wrote (the pods a ReplicaSet creates are in the status it writes).
    mutating func recordingOwnWrites<T>(for controller: String, _ body: (inout ObjectStore) throws(ClusterError) -> T) throws(ClusterError) -> T {
        let before = store.resourceVersion
        defer {
            if store.resourceVersion > before { marks.written[controller, default: []].formUnion(before + 1...store.resourceVersion) }
        }
        return try body(&store)
    }

    /// Scales `id` for `controller` (which has taken, in the same pass, every step the new
    /// count allows), remembering the write as ``updateOwnStatus(_:status:for:)`` does.
    mutating func scale(_ id: ResourceID, to replicas: Int, for controller: String, manager: String) throws(ClusterError) {
        let before = store.resourceVersion
        _ = try store.scale(id, to: replicas, manager: manager, now: now)
        if store.resourceVersion != before { marks.written[controller, default: []].insert(store.resourceVersion) }
    }

    /// ``objects(of:for:affected:)``, and whether they are every object of `kind`.
    mutating func changedObjects(
        of kind: GroupKind, for controller: String, affected: (ObjectStore.Change) -> [NamespacedName]?
    ) -> (objects: [Value], all: Bool) {
        let start = store.resourceVersion
        defer { marks.versions[controller] = start }
        // Many changes (a burst: thousands of pods created at once) are cheaper to go through
        // object by object than change by change.
        guard let last = marks.versions[controller], let changes = try? store.events(since: last),
            changes.count <= max(store.count(kind), 64)
        else {
            marks.timers[controller] = [:]
            return (store.list(kind, namespace: nil), true)
        }
        var names = Set<NamespacedName>()
        let written = marks.written.removeValue(forKey: controller) ?? []
        for change in changes {
            // The controller's own write, seen again: it came from what the controller had
            // looked at, which has not changed since.
            if written.contains(change.resourceVersion) { continue }
            guard let touched = affected(change) else {
                marks.timers[controller] = [:]
                return (store.list(kind, namespace: nil), true)
            }
            names.formUnion(touched)
        }
        if var timers = marks.timers[controller] {
            for (name, time) in timers where time <= now {
                names.insert(name)
                timers[name] = nil
            }
            // Timed work not yet due is still due later: the cluster's next wake-up says so.
            if let next = timers.values.min() { wake(at: next) }
            marks.timers[controller] = timers
        }
        return (names.sorted().compactMap { store.object(kind, namespace: $0.namespace, name: $0.name) }, false)
    }
}

/// An object's namespace ("" for cluster-scoped ones) and name.
public struct NamespacedName: Hashable, Comparable, Sendable {
    public var namespace: String
    public var name: String

    init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    init(_ object: Value) {
        namespace = object[path: ["metadata", "namespace"]]?.stringValue ?? ""
        name = object[path: ["metadata", "name"]]?.stringValue ?? ""
    }

    public static func < (a: NamespacedName, b: NamespacedName) -> Bool { (a.namespace, a.name) < (b.namespace, b.name) }

    /// The object's controlling owner of `kind`, in its namespace.
    static func owner(of object: Value, kind: String) -> NamespacedName? {
        guard let reference = (object[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? []).first(where: { $0["controller"]?.boolValue == true }),
            reference["kind"]?.stringValue == kind, let name = reference["name"]?.stringValue
        else { return nil }
        return NamespacedName(namespace: object[path: ["metadata", "namespace"]]?.stringValue ?? "", name: name)
    }
}

/// What the incremental controllers (Deployment, ReplicaSet, scheduler, kubelet) remember
/// between runs: the store's version when each last ran, the objects whose timed work each has
/// pending, and the pods the scheduler could not place. Lost (on a failed run, a restart), it
/// only makes the next run look at everything.
public struct ControllerMarks: Sendable {
    var versions: [String: Int] = [:]
    var timers: [String: [NamespacedName: Double]] = [:]
    var unscheduled: Set<NamespacedName> = []
    /// The resourceVersions of each controller's own writes not yet seen in the change log.
    var written: [String: Set<Int>] = [:]
    /// The bound pods' requests by node, for the scheduler.
    var placement = Placement()
    /// What each node offers the scheduler, read again after a Node's change.
    var nodes: [Scheduler.NodeState]? = nil
    /// The nodes whose kubelet is silent (not Ready), read again after a Node's change.
    var silentNodes: Set<String>? = nil

    public init() {}
}

/// What the scheduler needs of the bound pods, kept up to date from the store's changes so a
/// scheduling pass does not read every pod: each node's requests, pod count and residents.
struct Placement: Sendable {
    struct Usage: Sendable {
        var cpu = Quantity.zero
        var memory = Quantity.zero
        var residents: [NamespacedName: [String: String]] = [:]

        mutating func add(_ name: NamespacedName, cpu: Quantity, memory: Quantity, labels: [String: String]) {
            self.cpu = self.cpu + cpu
            self.memory = self.memory + memory
            residents[name] = labels
        }

        mutating func remove(_ name: NamespacedName, cpu: Quantity, memory: Quantity) {
            self.cpu = Quantity(milli: self.cpu.milli - cpu.milli)
            self.memory = Quantity(milli: self.memory.milli - memory.milli)
            residents[name] = nil
        }
    }

    private var entries: [NamespacedName: (node: String, cpu: Quantity, memory: Quantity, labels: Value?)] = [:]
    private(set) var nodes: [String: Usage] = [:]
    /// Set when changes went by without being counted: rebuild before use.
    var stale = true

    /// What the bound pods request in all.
    var total: (cpu: Quantity, memory: Quantity) {
        nodes.values.reduce((Quantity.zero, Quantity.zero)) { ($0.0 + $1.cpu, $0.1 + $1.memory) }
    }

    /// What the bound pods request in all once `changes` (made after the placement was last
    /// brought up to date) are counted too; the placement itself stays as it is.
    func total(after changes: some Sequence<ObjectStore.Change>) -> (cpu: Quantity, memory: Quantity) {
        var latest: [NamespacedName: Value?] = [:]
        for change in changes where change.object["kind"]?.stringValue == "Pod" {
            latest[NamespacedName(change.object)] = change.kind == .deleted ? .some(nil) : change.object
        }
        var (cpu, memory) = total
        for (name, pod) in latest {
            if let known = entries[name] {
                cpu = Quantity(milli: cpu.milli - known.cpu.milli)
                memory = Quantity(milli: memory.milli - known.memory.milli)
            }
            guard let pod, pod[path: ["spec", "nodeName"]] != nil, !Kubelet.isTerminal(pod) else { continue }
            let (podCPU, podMemory) = Scheduler.requests(of: pod)
            cpu = cpu + podCPU
            memory = memory + podMemory
        }
        return (cpu, memory)
    }

    /// Every bound pod of `pods`, afresh.
    mutating func rebuild(from pods: [Value]) {
        entries = [:]
        nodes = [:]
        stale = false
        for pod in pods { update(pod, deleted: false) }
    }

    /// A pod as it is now (or gone).
    mutating func update(_ pod: Value, deleted: Bool) {
        if stale { return }
        let name = NamespacedName(pod)
        let node = deleted || Kubelet.isTerminal(pod) ? nil : pod[path: ["spec", "nodeName"]]?.stringValue
        let labels = pod[path: ["metadata", "labels"]]
        // Most changes are a kubelet's status: a pod's requests do not change once bound.
        if let node, let known = entries[name], known.node == node, known.labels == labels { return }
        // In place (never a copy of a node's usage out and back: its residents would be copied
        // whole on every pod's change).
        if let old = entries.removeValue(forKey: name) {
            nodes[old.node]?.remove(name, cpu: old.cpu, memory: old.memory)
        }
        guard let node else { return }
        let (cpu, memory) = Scheduler.requests(of: pod)
        entries[name] = (node, cpu, memory, labels)
        nodes[node, default: Usage()].add(name, cpu: cpu, memory: memory, labels: ObjectStore.labels(of: pod))
    }
}

/// One controller: looks at the store, moves the world one step toward what the specs ask,
/// and says whether it changed anything.
protocol Controller: Sendable {
    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool
}

/// Runs the controllers until nothing is left to do now (timed work in the future aside).
public enum Reconciler {
    static let controllers: [any Controller] = [
        DeploymentController(), ReplicaSetController(), StatefulSetController(), DaemonSetController(), JobController(),
        VirtualMachineController(), PersistentVolumeClaimBinder(), NodeLifecycleController(), Scheduler(), Kubelet(),
        EndpointsController(), DisruptionController(),
    ]

    /// Runs every controller in turn until a round changes nothing (at most `maxRounds`), or
    /// until `deadline` passes between two rounds (the work left is done by the next run).
    public static func runUntilQuiescent(
        _ context: inout ControllerContext, maxRounds: Int = 10_000, deadline: ContinuousClock.Instant? = nil
    ) throws(ClusterError) -> (rounds: Int, finished: Bool) {
        var rounds = 0
        while rounds < maxRounds {
            if let deadline, rounds > 0, ContinuousClock.now >= deadline { return (rounds, false) }
            rounds += 1
            var changed = false
            for controller in controllers {
                if try controller.sync(&context) { changed = true }
            }
            if !changed { return (rounds, true) }
        }
        return (rounds, false)
    }
}

/// Small helpers shared by controllers.
enum ObjectBuilder {
    static func ownerReference(to owner: Value) -> Value {
        [
            "apiVersion": owner["apiVersion"] ?? "v1",
            "kind": owner["kind"] ?? "",
            "name": owner[path: ["metadata", "name"]] ?? "",
            "uid": owner[path: ["metadata", "uid"]] ?? "",
            "controller": true,
            "blockOwnerDeletion": true,
        ]
    }

    /// The objects of `kind` controlled by `owner`.
    static func owned(by owner: Value, kind: String, in store: ObjectStore) -> [Value] {
        guard let uid = owner[path: ["metadata", "uid"]]?.stringValue else { return [] }
        return store.dependents(of: uid, kind: kind)
    }

    /// Creates an object named `prefix` plus a random suffix, as `generateName` does: a name
    /// already taken (five characters collide now and then among many objects) is retried with
    /// a fresh suffix.
    static func createWithGeneratedName(
        _ prefix: String,
        in store: inout ObjectStore,
        manager: String,
        now: Double,
        suffix: () -> String = { ObjectBuilder.suffix() },
        _ make: (String) -> Value
    ) throws(ClusterError) -> Value {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try store.create(make(prefix + suffix()), manager: manager, now: now)
            } catch where error.code == .alreadyExists && attempt < 8 {
                continue
            }
        }
    }

    /// A random suffix in Kubernetes' alphabet (no vowels, no confusable characters).
    static func suffix(_ length: Int = 5) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789".utf8)
        var generator = SystemRandomNumberGenerator()
        // One draw of the system generator gives twelve characters (27¹² is below 2⁶⁴).
        var bits: UInt64 = 0
        var characters: [UInt8] = []
        characters.reserveCapacity(length)
        for index in 0..<length {
            if index % 12 == 0 { bits = generator.next() }
            characters.append(alphabet[Int(bits % UInt64(alphabet.count))])
            bits /= UInt64(alphabet.count)
        }
        return String(decoding: characters, as: UTF8.self)
    }

    static func condition(_ type: String, _ status: Bool, reason: String, message: String = "", now: Double, previous: Value?) -> Value {
        let value = status ? "True" : "False"
        let previousCondition = previous?.sequenceValue?.first { $0["type"]?.stringValue == type }
        let unchanged = previousCondition?["status"]?.stringValue == value
        let transition = unchanged ? (previousCondition?["lastTransitionTime"] ?? .string(Timestamp.rfc3339(now))) : .string(Timestamp.rfc3339(now))
        return [
            "type": .string(type), "status": .string(value), "reason": .string(reason), "message": .string(message),
            "lastTransitionTime": transition,
        ]
    }

    static func int(_ object: Value, _ path: String...) -> Int { object[path: path]?.intValue ?? 0 }

    /// A pod from a template, owned by `owner`, in the owner's namespace.
    static func pod(named name: String, from template: Value, owner: Value, extraLabels: [String: String] = [:]) -> Value {
        var metadata: Value = [
            "name": .string(name),
            "namespace": owner[path: ["metadata", "namespace"]] ?? "default",
            "ownerReferences": [ownerReference(to: owner)],
        ]
        if let labels = template[path: ["metadata", "labels"]] { metadata.set(labels, at: ["labels"]) }
        for (key, value) in extraLabels { metadata.set(.string(value), at: ["labels", key]) }
        if let annotations = template[path: ["metadata", "annotations"]] { metadata.set(annotations, at: ["annotations"]) }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"] ?? [:]]
    }

    static func isReady(_ pod: Value) -> Bool { ReplicaSetController.isReady(pod) }

    static func id(_ object: Value) -> ResourceID { ResourceID(object: object)! }
}

