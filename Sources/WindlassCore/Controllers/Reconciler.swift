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

    public init(store: ObjectStore, now: Double) {
        self.store = store
        self.now = now
    }

    mutating func event(_ kind: ClusterEvent.Kind, _ reason: String, _ message: String, _ id: ResourceID) {
        events.append((kind, reason, message, id))
    }

    mutating func wake(at time: Double) {
        nextWakeup = min(nextWakeup ?? time, time)
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
        return store.dependents(of: uid).filter { $0.kind == kind }.compactMap { try? store.get($0) }
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
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
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
