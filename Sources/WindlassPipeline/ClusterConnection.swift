public import WindlassCluster
public import WindlassRollout

/// The cluster an application is applied to, as the process that runs the pipeline wires it:
/// the backend and how time passes while a sync waits. The pipeline never knows which cluster
/// it is. (Keeping the cluster's own state current is the wiring's business: the daemon runs
/// the embedded core's controller loop, a CLI command brings it up to date when it opens it.)
public struct ClusterConnection: Sendable {
    public var backend: any ClusterBackend
    /// How time passes while a sync waits (the embedded core runs its controllers; a
    /// Kubernetes cluster runs its own, so waiting only sleeps).
    public var driver: SyncDriver
    /// How errors name the cluster: `the cluster in .windlass`.
    public var displayName: String

    public init(backend: any ClusterBackend, driver: SyncDriver, displayName: String) {
        self.backend = backend
        self.driver = driver
        self.displayName = displayName
    }
}
