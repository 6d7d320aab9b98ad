import Foundation
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassPlan
import WindlassRollout
import WindlassTesting

/// Forecasts as users run them: `windlass plan --forecast --format json` (a child process) on a
/// state synced beforehand, beside the same `windlass plan` without the forecast.
///
/// - *large*: 1,000 Deployments × 10 replicas on 100 nodes, in 20 waves of 50, pods ready
///   25 s after they start, rolling one extra pod at a time: a new image for all of them is
///   over an hour of cluster time (each wave about 250 s, inside the 300 s wave timeout).
/// - *canary*: the bundled OpenStack manifests, a new Keystone image (its canary: weights,
///   pauses and a Prometheus gate, assumed to pass; the abort path run too).
enum ForecastBench {
    struct Case {
        var name: String
        var commandSeconds: Double
        var planSeconds: Double
        /// The forecast's own wall time, as it reports it.
        var forecastSeconds: Double
        var virtualSeconds: Double
        var peakRSSKiB: Int
        var verdict: String
    }

    static func deployment(_ index: Int, image: String, perWave: Int) -> Value {
        let name = "app-\(index)"
        return [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(name), "namespace": "bench", "annotations": ["windlass.dev/sync-wave": .string(String(index / perWave))]],
            "spec": [
                "replicas": 10,
                "selector": ["matchLabels": ["app": .string(name)]],
                "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 1, "maxUnavailable": 0]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)], "annotations": ["sim.windlass.dev/start-seconds": "25"]],
                    "spec": ["containers": [["name": "app", "image": .string(image), "resources": ["requests": ["cpu": "10m", "memory": "16Mi"]]]]],
                ],
            ],
        ]
    }

    /// Syncs `set` into the cluster in `state` on a manual clock hours in the past (so the
    /// pods' start delays pass at once), and closes the cluster.
    static func prepare(state: String, nodes: Int, cpu: String, memory: String, labels: [String: String] = [:], set: ManifestSet) async throws {
        let clock = ManualClock(SystemClock().now() - 6 * 3600)
        let cluster = try EmbeddedCluster(stateDirectory: state, clock: clock)
        try await cluster.createNodes(count: nodes, cpu: cpu, memory: memory, labels: labels)
        let driver = SyncDriver(now: { clock.now() }, pass: { seconds in
            clock.advance(by: max(seconds, 0))
            try await cluster.reconcile()
        })
        let executor = SyncExecutor(backend: cluster, driver: driver, options: SyncOptions(waveTimeout: 3600, pollInterval: 1))
        let deployer = Deployer(
            store: try RevisionStore(stateDirectory: state), executor: executor, planner: Planner(), holder: "bench@\(getpid())",
            providers: ["health": HealthProvider(backend: cluster)])
        let outcome = try await deployer.sync(set, source: Plan.Source(location: "bench", path: ".", revision: nil), live: SyncBench.reader(cluster), trigger: "bench")
        guard case .deployed = outcome else { fail("the forecast case's first sync did not deploy: \(outcome)") }
    }

    static func measure(_ name: String, manifests: String, state: String, runs: Int) -> Case {
        let plain = [ProcessBench.windlass, "plan", "--source", manifests, "--path", ".", "--no-policies", "--state-dir", state, "--format", "json"]
        var planTimes: [Double] = []
        var commandTimes: [Double] = []
        var forecastTimes: [Double] = []
        var virtual = 0.0
        var peak = 0
        var verdict = ""
        for _ in 0..<runs {
            let start = now()
            let (output, status, _) = Peers.spawn(plain)
            planTimes.append(now() - start)
            guard status == 0 else { fail("\(name): plan failed: \(output)") }
        }
        for _ in 0..<runs {
            let start = now()
            let (output, status, rss) = Peers.spawn(plain + ["--forecast"])
            commandTimes.append(now() - start)
            peak = max(peak, rss)
            guard status == 0, let data = output.data(using: .utf8),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let forecast = json["forecast"] as? [String: Any],
                forecast["available"] as? Bool == true, let wall = forecast["wall_seconds"] as? Double
            else { fail("\(name): plan --forecast failed (\(status)): \(output.prefix(2000))") }
            forecastTimes.append(wall)
            virtual = forecast["virtual_seconds"] as? Double ?? 0
            verdict = forecast["verdict"] as? String ?? ""
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return Case(
            name: name, commandSeconds: median(commandTimes), planSeconds: median(planTimes), forecastSeconds: median(forecastTimes), virtualSeconds: virtual,
            peakRSSKiB: peak, verdict: verdict)
    }

    /// `keep`: where to leave the state and manifests for profiling by hand (else a
    /// temporary directory).
    static func large(deployments: Int, nodes: Int, runs: Int, keep: String? = nil) async throws -> Case {
        let scratch = keep == nil ? try TemporaryDirectory() : nil
        let root = keep ?? scratch!.path
        let state = root + "/state"
        let manifests = root + "/manifests"
        try FileManager.default.createDirectory(atPath: manifests, withIntermediateDirectories: true)
        let perWave = max(1, deployments / 20)
        let namespace: Value = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "bench"]]
        func set(_ image: String) -> ManifestSet {
            let objects = [namespace] + (0..<deployments).map { deployment($0, image: image, perWave: perWave) }
            return ManifestSet(files: ["bench"], resources: objects.map { Resource(id: ResourceID(object: $0)!, object: $0, span: .synthesized) })
        }
        try await prepare(state: state, nodes: nodes, cpu: "16", memory: "64Gi", set: set("app:1"))
        let objects = [namespace] + (0..<deployments).map { deployment($0, image: "app:2", perWave: perWave) }
        try YAMLWriter().write(documents: objects).write(toFile: manifests + "/all.yaml", atomically: true, encoding: .utf8)
        return measure("\(deployments) Deployments × 10 on \(nodes) nodes, 20 waves", manifests: manifests, state: state, runs: runs)
    }

    static func canary(runs: Int) async throws -> Case {
        let root = try TemporaryDirectory()
        let state = root.path + "/state"
        let manifests = root.path + "/manifests"
        try FileManager.default.copyItem(atPath: repositoryRoot + "/manifests", toPath: manifests)
        try await prepare(
            state: state, nodes: 3, cpu: "8", memory: "32Gi", labels: ["openstack.org/compute-node": "true"],
            set: ManifestLoader.load(DirectoryTree(root: manifests)))
        let path = manifests + "/20-identity/keystone.yaml"
        try (try String(contentsOfFile: path, encoding: .utf8)).replacingOccurrences(of: "keystone:2024.1", with: "keystone:2024.2")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return measure("bundled manifests, a Keystone canary release", manifests: manifests, state: state, runs: runs)
    }
}
