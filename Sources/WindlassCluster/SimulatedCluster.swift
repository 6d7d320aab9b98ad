public import WindlassManifest

/// A cluster whose time is simulated: a twin of a live cluster, on which a plan's sync is run
/// as fast as the CPU allows to forecast how it would go. Writes change the twin only.
public protocol SimulatedCluster: ClusterBackend {
    /// The twin's time, in seconds since 1970.
    nonisolated func virtualNow() -> Double

    /// Lets `seconds` of virtual time pass, the controllers running at every moment something
    /// is due (a pod's start, a grace period); returns the time reached.
    @discardableResult
    func advance(by seconds: Double) async throws(ClusterError) -> Double

    /// A number that changes whenever any object of the twin changes: equal numbers mean
    /// nothing was written in between.
    func stateVersion() async -> Int

    /// What the pods bound to nodes (and not finished) request in all.
    func requested() async throws(ClusterError) -> (cpu: Quantity, memory: Quantity)

    /// When the twin next changes by itself, as far as it knows now: the time its next timed
    /// work falls due (a pod's start), `.infinity` when none is, the current time when it has
    /// not settled since the last write.
    func nextChange() async -> Double
}

/// What a twin starts from: the live objects it copies and how long pods take to become ready.
public struct TwinState: Sendable {
    /// The live objects, as the cluster has them (uids, owners, statuses kept).
    public var objects: [Value]
    /// Seconds from a pod's start to its readiness, by workload (``workloadKey(ofPod:)``):
    /// what the live cluster showed for that workload's pods, or what its probes imply.
    public var startDelays: [String: Double]
    /// The keys of ``startDelays`` learnt from live pods (the others come from probes).
    public var observed: Set<String>
    /// The twin's clock starts here (the live cluster's now).
    public var start: Double

    public init(objects: [Value], startDelays: [String: Double], observed: Set<String> = [], start: Double) {
        self.objects = objects
        self.startDelays = startDelays
        self.observed = observed
        self.start = start
    }

    /// `namespace/workload` for a pod: its controller's name, with a ReplicaSet's
    /// pod-template-hash and a canary's `-canary` suffix removed, so the pods of every
    /// revision of a Deployment (and of its canary) share one key.
    public static func workloadKey(ofPod pod: Value) -> String? {
        guard let owner = (pod[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? []).first(where: { $0["controller"]?.boolValue == true }),
            let kind = owner["kind"]?.stringValue, var name = owner["name"]?.stringValue
        else { return nil }
        if kind == "ReplicaSet", let dash = name.lastIndex(of: "-") { name = String(name[..<dash]) }
        return workloadKey(namespace: pod[path: ["metadata", "namespace"]]?.stringValue ?? "", name: name)
    }

    /// `namespace/name`, a canary's name counted as its target's.
    public static func workloadKey(namespace: String, name: String) -> String {
        let suffix = "-canary"
        return namespace + "/" + (name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name)
    }
}

/// Makes a twin from a ``TwinState`` (the process's wiring supplies it: the embedded core held
/// in memory).
public typealias TwinFactory = @Sendable (TwinState) throws(ClusterError) -> any SimulatedCluster
