import Prometheus
import Synchronization

/// The daemon's metrics in Prometheus' registry (swift-prometheus), named as Argo CD names its
/// own (REFERENCE.md §12): `windlass_app_info`, `windlass_reconcile_duration_seconds`,
/// `windlass_git_fetch_duration_seconds`, `windlass_drift_resources`, `windlass_rollout_phase`,
/// plus webhook and sync counters.
public final class DaemonMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// The label sets last set per application, so a changed status replaces the old series.
    private let appInfo = Mutex<[String: [(String, String)]]>([:])
    private let rollout = Mutex<[String: [(String, String)]]>([:])

    static let secondsBuckets: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

    public init() {}

    func application(_ name: String, syncStatus: String, health: String) {
        let labels = [("name", name), ("sync_status", syncStatus), ("health_status", health)]
        appInfo.withLock { info in
            if let old = info[name], old.map(\.1) != labels.map(\.1) {
                registry.unregisterGauge(registry.makeGauge(name: "windlass_app_info", labels: old, help: Self.appInfoHelp))
            }
            info[name] = labels
        }
        registry.makeGauge(name: "windlass_app_info", labels: labels, help: Self.appInfoHelp).set(1.0)
    }

    static let appInfoHelp = "Information about an application: its sync status and health (value 1)."

    func reconcile(_ name: String, seconds: Double) {
        registry.makeValueHistogram(
            name: "windlass_reconcile_duration_seconds", labels: [("name", name)], buckets: Self.secondsBuckets,
            help: "Time a reconcile (load, plan, sync) took."
        ).record(seconds)
    }

    func fetch(_ name: String, seconds: Double, failed: Bool) {
        registry.makeValueHistogram(
            name: "windlass_git_fetch_duration_seconds", labels: [("name", name)], buckets: Self.secondsBuckets,
            help: "Time a fetch of the application's repository took."
        ).record(seconds)
        registry.makeCounter(
            name: "windlass_git_requests_total", labels: [("name", name), ("result", failed ? "error" : "ok")], help: "Fetches of repositories."
        ).increment()
    }

    func drift(_ name: String, resources: Int) {
        registry.makeGauge(name: "windlass_drift_resources", labels: [("name", name)], help: "Resources whose live state differs from git, at the last drift check.")
            .set(Double(resources))
    }

    /// 0 none, 1 progressing, 2 paused, 3 degraded or aborted.
    func rolloutPhase(_ name: String, phase: Int) {
        registry.makeGauge(name: "windlass_rollout_phase", labels: [("name", name)], help: "The application's canary: 0 none, 1 progressing, 2 paused, 3 aborted.")
            .set(Double(phase))
    }

    func webhook(_ provider: String, outcome: String) {
        registry.makeCounter(
            name: "windlass_webhook_requests_total", labels: [("provider", provider), ("outcome", outcome)], help: "Webhook requests, by outcome."
        ).increment()
    }

    /// The registry in Prometheus' text format.
    public func text() -> String { registry.emitToString() }
}
