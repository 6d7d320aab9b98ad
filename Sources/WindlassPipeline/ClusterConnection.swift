public import WindlassCluster
public import WindlassRollout

/// The cluster an application is applied to, as the process that runs the pipeline wires it:
/// the backend, how time passes while a sync waits, and how the cluster is brought up to date
/// before it is read. The pipeline never knows which cluster it is.
public struct ClusterConnection: Sendable {
    public var backend: any ClusterBackend
    /// How time passes while a sync waits (the embedded core runs its controllers; a
    /// Kubernetes cluster runs its own, so waiting only sleeps).
    public var driver: SyncDriver
    /// Brings the cluster's own state up to date before it is read (the embedded core runs
    /// its controllers until quiescent; a remote cluster needs nothing).
    public var settle: @Sendable () async throws(ClusterError) -> Void
    /// How errors name the cluster: `the cluster in .windlass`.
    public var displayName: String

    public init(
        backend: any ClusterBackend, driver: SyncDriver, displayName: String,
        settle: @escaping @Sendable () async throws(ClusterError) -> Void = {}
    ) {
        self.backend = backend
        self.driver = driver
        self.displayName = displayName
        self.settle = settle
    }
}
