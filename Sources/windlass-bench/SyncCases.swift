import Foundation
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassPlan
import WindlassRollout
import WindlassTesting

/// The rollout executor's cases, on the real clock.
enum SyncBench {
    static func deployer(_ cluster: EmbeddedCluster, state: String) throws -> Deployer {
        let clock = SystemClock()
        let driver = SyncDriver.realTime(now: { clock.now() }, reconcile: { try await cluster.reconcile(budget: EmbeddedCluster.waitingBudget) })
        let executor = SyncExecutor(backend: cluster, driver: driver, options: SyncOptions(waveTimeout: 120, pollInterval: 0.05))
        return Deployer(
            store: try RevisionStore(stateDirectory: state), executor: executor, planner: Planner(), holder: "bench@\(getpid())",
            providers: ["health": HealthProvider(backend: cluster)])
    }

    static func reader(_ cluster: EmbeddedCluster) -> (ManifestSet) async throws -> LiveSnapshot {
        { set in
            try await cluster.snapshot(desiredKinds: Set(set.resources.map(\.id.groupKind)), trackingSelector: Tracking(application: "default").selector)
        }
    }

    /// 1,000 Deployments of 10 replicas: applied directly and converged, against a sync of the
    /// same objects through the executor (plan, revision, applies, health waits), each on a
    /// fresh cluster. Returns (direct, executor) seconds.
    static func overhead(deployments: Int) async throws -> (direct: Double, executor: Double) {
        let direct = try await ClusterBench(deployments: deployments).runApplyOnly()

        let state = try TemporaryDirectory()
        let cluster = try EmbeddedCluster(stateDirectory: state.path)
        try await cluster.createNodes(count: 20, cpu: "1000", memory: "4000Gi")
        var objects: [Value] = [["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "bench"]]]
        for i in 0..<deployments { objects.append(ClusterBench.manifest(i, image: "app:1")) }
        let set = ManifestSet(files: ["bench"], resources: objects.map { Resource(id: ResourceID(object: $0)!, object: $0, span: .synthesized) })
        let deployer = try deployer(cluster, state: state.path)
        let start = now()
        let outcome = try await deployer.sync(set, source: Plan.Source(location: "bench", path: ".", revision: nil), live: reader(cluster), trigger: "bench")
        let seconds = now() - start
        guard case .deployed = outcome else { fail("the executor's sync did not deploy: \(outcome)") }
        return (direct, seconds)
    }

    /// The bundled manifests with their two canaries (pauses 0 s, gates on the canaries' health
    /// instead of Prometheus, pods Ready as they start): a first sync (not timed), then a release
    /// of Keystone and Nova API.
    static func canaries(instantPods: Bool) async throws -> Double {
        let root = try TemporaryDirectory()
        let manifests = root.path + "/manifests"
        try FileManager.default.copyItem(atPath: repositoryRoot + "/manifests", toPath: manifests)
        func edit(_ relative: String, _ change: (String) -> String) throws {
            let path = manifests + "/" + relative
            try change(try String(contentsOfFile: path, encoding: .utf8)).write(toFile: path, atomically: true, encoding: .utf8)
        }
        try edit("20-identity/keystone-rollout.yaml") { text in
            let strategy = text.components(separatedBy: "\n---\n")[1].replacingOccurrences(of: "pause: {duration: 2s}", with: "pause: {duration: 0s}")
            let template = """
                apiVersion: windlass.dev/v1
                kind: AnalysisTemplate
                metadata: {name: success-rate, namespace: openstack}
                spec:
                  metrics:
                    - name: ready
                      interval: 0s
                      count: 1
                      successCondition: result[0] == 1 && result[1] == 0
                      provider: {health: {}}
                """
            return template + "\n---\n" + strategy
        }
        try edit("30-services/nova-api-rollout.yaml") { $0.replacingOccurrences(of: "pause: {duration: 2s}", with: "pause: {duration: 0s}") }

        let state = try TemporaryDirectory()
        let cluster = try EmbeddedCluster(stateDirectory: state.path)
        try await cluster.createNodes(count: 3, cpu: "8", memory: "32Gi", labels: ["openstack.org/compute-node": "true"])
        let deployer = try deployer(cluster, state: state.path)
        let source = Plan.Source(location: manifests, path: ".", revision: nil)
        // As in the cluster case, pods are Ready as soon as they start: the case measures
        // Windlass, not the simulated boot time.
        func load() -> ManifestSet {
            var set = ManifestLoader.load(DirectoryTree(root: manifests))
            for index in set.resources.indices where instantPods && set.resources[index].id.kind == "Deployment" {
                set.resources[index].object.set("0", at: ["spec", "template", "metadata", "annotations", "sim.windlass.dev/start-seconds"])
            }
            return set
        }
        let first = load()
        guard case .deployed = try await deployer.sync(first, source: source, live: reader(cluster), trigger: "bench") else { fail("first sync failed") }

        try edit("20-identity/keystone.yaml") { $0.replacingOccurrences(of: "keystone:2024.1", with: "keystone:2024.2") }
        try edit("30-services/nova-api.yaml") { $0.replacingOccurrences(of: "nova-api:2024.1", with: "nova-api:2024.2") }
        let release = load()
        let plan = deployer.planner.plan(release, source: source, live: try await reader(cluster)(release))
        let changed = plan.changes.filter { $0.action != .noop }
        guard changed.count == 2, changed.allSatisfy({ $0.canary != nil }) else { fail("the release should be two canaries and nothing else") }
        let start = now()
        let outcome = try await deployer.sync(release, source: source, live: reader(cluster), trigger: "bench")
        let seconds = now() - start
        guard case .deployed(_, let result) = outcome, result.resources.filter({ $0.status == "promoted" }).count == 2 else {
            fail("the release did not promote both canaries: \(outcome)")
        }
        return seconds
    }
}

extension ClusterBench {
    /// Applies every Deployment directly and reconciles until converged; the seconds.
    func runApplyOnly() async throws -> Double {
        let result = try await run()
        return result.convergeSeconds
    }
}
