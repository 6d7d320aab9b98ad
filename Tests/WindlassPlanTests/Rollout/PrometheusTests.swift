import Foundation
import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassPlan
import WindlassRollout
import WindlassServer
import WindlassTesting

/// An embedded cluster on the real clock with its simulated metrics served on 127.0.0.1, and
/// Debian's Prometheus scraping them every second.
final class MetricsBed: @unchecked Sendable {
    let state: TemporaryDirectory
    let cluster: EmbeddedCluster
    let metricsPort: Int
    let prometheus: PrometheusServer
    private var tasks: [Task<Void, any Error>] = []
    private var endpoint: MetricsEndpoint?

    init(deployments: [Value]) async throws {
        state = try TemporaryDirectory()
        cluster = try EmbeddedCluster(stateDirectory: state.path)
        try await cluster.createNodes(count: 3, cpu: "16", memory: "64Gi")
        _ = try await cluster.apply(shop, options: ApplyOptions(fieldManager: "test"))
        for deployment in deployments {
            _ = try await cluster.apply(deployment, options: ApplyOptions(fieldManager: "test"))
        }
        let cluster = self.cluster
        tasks.append(Task {
            while !Task.isCancelled {
                try await cluster.reconcile()
                try await Task.sleep(for: .milliseconds(200))
            }
        })
        metricsPort = try freePort()
        let port = metricsPort
        endpoint = try await MetricsEndpoint.start(host: "127.0.0.1", port: port, metrics: { await cluster.simulatedMetrics() })
        prometheus = try PrometheusServer(targets: ["127.0.0.1:\(metricsPort)"])
    }

    func stop() async {
        prometheus.stop()
        await endpoint?.stop()
        for task in tasks { task.cancel() }
    }

    var driver: SyncDriver {
        let clock = SystemClock()
        let cluster = self.cluster
        return SyncDriver.realTime(now: { clock.now() }, reconcile: { try await cluster.reconcile() })
    }

    /// Waits (up to 60 s) until Prometheus answers `query` with data.
    func waitForData(_ query: String) async throws {
        let metric = try parsedMetric(query: query, success: "len(result) > 0", address: prometheus.address)
        let provider = PrometheusProvider()
        for _ in 0..<120 {
            if let values = try? await provider.measure(metric, arguments: [:]), !values.isEmpty, !values.contains(where: \.isNaN) { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        Issue.record("Prometheus had no data for \(query) after 60 s")
    }
}

func successRate(_ workload: String) -> String {
    "sum(rate(windlass_sim_http_requests_total{namespace=\"shop\",workload=\"\(workload)\",code=\"200\"}[15s])) / sum(rate(windlass_sim_http_requests_total{namespace=\"shop\",workload=\"\(workload)\"}[15s]))"
}

/// A metric as a template in the manifests would declare it.
func parsedMetric(query: String, success: String? = nil, failure: String? = nil, noData: String = "inconclusive", address: String, count: Int = 2, errorLimit: Int = 2) throws -> Metric {
    var metric: Value = [
        "name": "m", "interval": "1s", "count": .int(count), "noData": .string(noData), "consecutiveErrorLimit": .int(errorLimit),
        "provider": ["prometheus": ["address": .string(address), "query": .string(query)]],
    ]
    if let success { metric.set(.string(success), at: ["successCondition"]) }
    if let failure { metric.set(.string(failure), at: ["failureCondition"]) }
    let template: Value = ["apiVersion": "windlass.dev/v1", "kind": "AnalysisTemplate", "metadata": ["name": "t", "namespace": "shop"], "spec": ["metrics": [metric]]]
    let strategy = strategyValue()
    let (strategies, problems) = CanaryStrategies.read(set([template, strategy, web()]))
    guard problems.isEmpty, case .analysis(let templates, _)? = strategies.values.first?.steps.first, let parsed = templates.first?.metrics.first else {
        throw ProviderError("bad test metric: \(problems)")
    }
    return parsed
}

func strategyValue() -> Value {
    [
        "apiVersion": "windlass.dev/v1", "kind": "RolloutStrategy", "metadata": ["name": "web", "namespace": "shop"],
        "spec": ["targetRef": ["kind": "Deployment", "name": "web"], "canary": ["steps": [["analysis": ["templates": [["templateName": "t"]]]]]]],
    ]
}

func simulated(_ name: String, errorRate: Double) -> Value {
    var deployment = web(replicas: 2)
    deployment.set(.string(name), at: ["metadata", "name"])
    deployment.set(["matchLabels": ["app": .string(name)]], at: ["spec", "selector"])
    deployment.set(["app": .string(name)], at: ["spec", "template", "metadata", "labels"])
    deployment.set(["sim.windlass.dev/rps": "50", "sim.windlass.dev/error-rate": .string(String(errorRate)), "sim.windlass.dev/start-seconds": "0"], at: ["spec", "template", "metadata", "annotations"])
    return deployment
}

@Suite("Analysis against a real Prometheus", .serialized)
struct PrometheusTests {
    @Test("pass, fail, inconclusive, no data (each choice), a query Prometheus refuses, and Prometheus unreachable")
    func rules() async throws {
        let bed = try await MetricsBed(deployments: [simulated("good", errorRate: 0), simulated("flaky", errorRate: 0.5)])
        do {
            try await rules(bed)
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }

    func rules(_ bed: MetricsBed) async throws {
        try await bed.waitForData(successRate("good"))
        try await bed.waitForData(successRate("flaky"))
        let runner = AnalysisRunner(providers: ["prometheus": PrometheusProvider()], driver: bed.driver, pollInterval: 0.2)
        let address = bed.prometheus.address

        func run(_ metric: Metric) async throws -> AnalysisOutcome { try await runner.run([metric]) }

        #expect(try await run(parsedMetric(query: successRate("good"), success: "result[0] >= 0.99", failure: "result[0] < 0.9", address: address)) == .successful)
        let failed = try await run(parsedMetric(query: successRate("flaky"), success: "result[0] >= 0.99", failure: "result[0] < 0.9", address: address))
        #expect(failed == .failed("metric m failed 1 time (failureLimit 0)"))
        guard case .inconclusive = try await run(parsedMetric(query: successRate("flaky"), success: "result[0] >= 0.99", failure: "result[0] < 0.3", address: address)) else {
            Issue.record("0.5 is neither ≥ 0.99 nor < 0.3: inconclusive")
            return
        }
        let nothing = successRate("absent")
        #expect(try await run(parsedMetric(query: nothing, success: "result[0] >= 0.99", noData: "fail", address: address)) == .failed("metric m failed 1 time (failureLimit 0)"))
        #expect(try await run(parsedMetric(query: nothing, success: "result[0] >= 0.99", noData: "pass", address: address)) == .successful)
        guard case .inconclusive = try await run(parsedMetric(query: nothing, success: "result[0] >= 0.99", noData: "inconclusive", address: address)) else {
            Issue.record("no data with noData: inconclusive")
            return
        }
        let refused = try await run(parsedMetric(query: "sum(rate(", success: "result[0] >= 0.99", address: address))
        guard case .failed(let reason) = refused else {
            Issue.record("a query Prometheus refuses fails the analysis: \(refused)")
            return
        }
        // What Prometheus said comes with the count.
        #expect(reason.hasPrefix("metric m errored 3 times in a row (consecutiveErrorLimit 2); last: GET \(address)/api/v1/query?query=sum%28rate%28: HTTP 400 Bad Request: "), "\(reason)")
        #expect(reason.hasSuffix("parse error: unclosed left parenthesis"), "\(reason)")

        let unreachablePort = try freePort()
        let provider = PrometheusProvider()
        let unreachable = try parsedMetric(query: "up", success: "true", address: "http://127.0.0.1:\(unreachablePort)", errorLimit: 1)
        await #expect(throws: ProviderError.self) { try await provider.measure(unreachable, arguments: [:]) }
        let down = try await run(unreachable)
        #expect(
            down == .failed("metric m errored 2 times in a row (consecutiveErrorLimit 1); last: GET http://127.0.0.1:\(unreachablePort)/api/v1/query?query=up: connection refused"),
            "errors, never success")
    }

    @Test("a canary whose new version errors fails its Prometheus gate: aborted and the release rolled back on its own")
    func failingCanary() async throws {
        let bed = try await MetricsBed(deployments: [])
        do {
            try await failingCanary(bed)
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }

    func failingCanary(_ bed: MetricsBed) async throws {
        let address = bed.prometheus.address
        let gate: Value = [
            "apiVersion": "windlass.dev/v1", "kind": "AnalysisTemplate", "metadata": ["name": "success-rate", "namespace": "shop"],
            "spec": [
                "metrics": [
                    [
                        "name": "success-rate", "initialDelay": "6s", "interval": "1s", "count": 2, "successCondition": "result[0] >= 0.99",
                        "failureCondition": "result[0] < 0.95",
                        "provider": ["prometheus": ["address": .string(address), "query": .string(successRate("{{args.canary}}"))]],
                    ]
                ]
            ],
        ]
        var rollout = strategyValue()
        rollout.set([["setWeight": 50], ["analysis": ["templates": [["templateName": "success-rate"]]]]], at: ["spec", "canary", "steps"])
        func release(_ image: String, errorRate: Double) -> [Value] {
            var deployment = simulated("web", errorRate: errorRate)
            deployment.set([["name": "web", "image": .string(image)]], at: ["spec", "template", "spec", "containers"])
            return [shop, deployment, gate, rollout]
        }
        let store = try RevisionStore(stateDirectory: bed.state.path)
        let executor = SyncExecutor(backend: bed.cluster, driver: bed.driver, options: SyncOptions(waveTimeout: 60, pollInterval: 0.2))
        let deployer = Deployer(store: store, executor: executor, planner: Planner(), holder: "test@host", providers: ["prometheus": PrometheusProvider()])
        let cluster = bed.cluster
        let live: (ManifestSet) async throws -> LiveSnapshot = { set in
            try await cluster.snapshot(desiredKinds: Set(set.resources.map(\.id.groupKind)), trackingSelector: Tracking(application: "default").selector)
        }
        func manifests(_ objects: [Value]) -> ManifestSet { set(objects) }
        guard case .deployed = try await deployer.sync(manifests(release("registry.example/web:1", errorRate: 0)), source: source, live: live, trigger: "manual") else {
            Issue.record("v1 deploys")
            return
        }
        let outcome = try await deployer.sync(manifests(release("registry.example/web:2", errorRate: 0.5)), source: source, live: live, trigger: "manual")
        guard case .failed(let failed, _, let rollback?) = outcome else {
            Issue.record("the gate should fail and the release roll back: \(outcome)")
            return
        }
        #expect(failed.message?.contains("analysis failed: metric success-rate failed 1 time") == true, "\(failed.message ?? "")")
        #expect(rollback.description == "Rollback to 1")
        let deployment = try await bed.cluster.get(ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web"))
        #expect(deployment[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.first?["image"] == "registry.example/web:1")
        #expect(try store.history("default").map(\.status) == [.superseded, .rolledBack, .deployed])
    }
}
