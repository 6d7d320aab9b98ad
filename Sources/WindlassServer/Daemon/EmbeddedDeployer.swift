public import WindlassCluster
public import WindlassCore
public import WindlassPlan
public import WindlassRollout

#if canImport(Glibc)
import Glibc
#endif

/// This process as a lease holder: `pid@host`.
public enum LocalProcess {
    public static let holder: String = {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(getpid())@\(host)"
    }()

    /// Whether a lease holder `pid@host` is a process of this machine that no longer exists.
    public static func isGone(_ holder: String) -> Bool {
        let parts = holder.split(separator: "@", maxSplits: 1).map(String.init)
        guard parts.count == 2, let pid = Int32(parts[0]), parts[1] == String(Self.holder.split(separator: "@", maxSplits: 1).last ?? "") else {
            return false
        }
        return kill(pid, 0) == -1 && errno == ESRCH
    }
}

extension Deployer {
    /// A deployer over the embedded cluster, with real time passing through its controllers and
    /// the analysis providers (Prometheus, web, health); the CLI and the daemon both sync with it.
    public static func embedded(
        cluster: EmbeddedCluster, stateDirectory: String, planner: Planner, waveTimeout: Double, holder: String = LocalProcess.holder
    ) throws(ClusterError) -> Deployer {
        let clock = SystemClock()
        let driver = SyncDriver.realTime(now: { clock.now() }, reconcile: { try await cluster.reconcile() })
        let executor = SyncExecutor(backend: cluster, driver: driver, options: SyncOptions(waveTimeout: waveTimeout))
        let providers: [String: any MetricProvider] = ["prometheus": PrometheusProvider(), "web": WebProvider(), "health": HealthProvider(backend: cluster)]
        var deployer = Deployer(
            store: try RevisionStore(stateDirectory: stateDirectory), executor: executor, planner: planner, holder: holder, providers: providers)
        deployer.holderIsGone = { LocalProcess.isGone($0) }
        return deployer
    }
}
