public import ServiceLifecycle
public import WindlassCore
public import WindlassPipeline
public import WindlassCluster
import WindlassRollout

/// The cluster a daemon's applications are applied to, as the daemon's start wires it: the
/// pipeline's connection, the services that keep the cluster itself running (the embedded
/// core's controller loop; none for a cluster that runs its own) and what the cluster adds
/// to `/metrics`.
public struct DaemonCluster: Sendable {
    public var connection: ClusterConnection
    public var services: [any Service]
    public var metrics: @Sendable () async -> String
    /// What only the embedded cluster does to its nodes (`POST /api/v1/cluster/nodes/…`); nil
    /// for a cluster that runs its own.
    public var nodes: NodeOperations?

    public init(
        connection: ClusterConnection, services: [any Service] = [], metrics: @escaping @Sendable () async -> String = { "" }, nodes: NodeOperations? = nil
    ) {
        self.connection = connection
        self.services = services
        self.metrics = metrics
        self.nodes = nodes
    }
}

/// Failing, recovering and uncordoning the embedded cluster's nodes, as `windlass cluster
/// fail-node|recover-node|uncordon` do.
public struct NodeOperations: Sendable {
    public var fail: @Sendable (_ node: String, _ graceSeconds: Double?) async throws(ClusterError) -> Void
    public var recover: @Sendable (_ node: String) async throws(ClusterError) -> Void
    public var uncordon: @Sendable (_ node: String) async throws(ClusterError) -> Void
}

extension DaemonCluster {
    /// The embedded cluster: real time passing through its controllers, its controller loop
    /// as a service, and its pods' simulated traffic on `/metrics` (for canary gates to query).
    /// The only place the daemon names the concrete cluster.
    /// Twins for the applications' forecasts: the embedded core held in memory, whatever the
    /// destination.
    static let twins: TwinFactory = EmbeddedCluster.makeTwin

    public static func embedded(_ cluster: EmbeddedCluster) -> DaemonCluster {
        let clock = SystemClock()
        let connection = ClusterConnection(
            backend: cluster,
            driver: .realTime(now: { clock.now() }, reconcile: { try await cluster.reconcile(budget: EmbeddedCluster.waitingBudget) }),
            displayName: "the cluster in \(cluster.stateDirectory)")
        let nodes = NodeOperations(
            fail: { (node, grace) async throws(ClusterError) in try await cluster.failNode(node, graceSeconds: grace) },
            recover: { (node) async throws(ClusterError) in try await cluster.recoverNode(node) },
            uncordon: { (node) async throws(ClusterError) in try await cluster.uncordon(node) })
        return DaemonCluster(
            connection: connection, services: [ClusterService(cluster: cluster)], metrics: { await cluster.simulatedMetrics() }, nodes: nodes)
    }
}

/// The embedded cluster's controllers: reconciled whenever something is due, at least each second.
public struct ClusterService: Service {
    let cluster: EmbeddedCluster

    public init(cluster: EmbeddedCluster) {
        self.cluster = cluster
    }

    /// Reconciles when an object changed (through the API, the CLI beside the daemon, a sync) or when
    /// timed work is due (a sync drives the controllers itself while it waits); otherwise it only
    /// looks at the store's version, so an idle cluster of any size costs next to nothing. The
    /// gap between rounds follows their cost: five times the last round's time, between 0.1 s
    /// and 1 s, so a small cluster answers a `kubectl scale` at once and a large one spends at
    /// most a fifth of a core on its controllers.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var seen = -1
            var due: Double? = 0
            var last = -Double.infinity
            var gap = 1.0
            while !Task.isCancelled {
                let now = cluster.clock.now()
                let changed = await cluster.resourceVersion != seen
                if (changed || (due.map { $0 <= now } ?? false)) && now - last >= gap {
                    let started = ContinuousClock.now
                    due = try? await cluster.reconcile(budget: EmbeddedCluster.waitingBudget)
                    gap = min(1, max(0.1, 5 * ApplicationReconciler.seconds(since: started)))
                    seen = await cluster.resourceVersion
                    last = cluster.clock.now()
                }
                let wait = due.map { min(max($0 - cluster.clock.now(), 0.05), 0.1) } ?? 0.1
                try? await Task.sleep(for: .seconds(wait))
            }
        }
    }
}
