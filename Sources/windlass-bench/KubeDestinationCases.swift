import AsyncHTTPClient
import Foundation
import Glibc
import WindlassCluster
import WindlassCore
import WindlassKube
import WindlassManifest
import WindlassPipeline
import WindlassPlan
import WindlassRollout
import WindlassTesting

/// Kubernetes destinations, measured against `windlass cluster serve` (the API server that
/// runs here): a sync of ~1,000 objects by the `windlass` binary beside `kubectl apply
/// --server-side` of the same directory; a plan of 10,000 objects cold (`windlass plan`, a
/// child process, listing included) and warm (in process, from the watch cache) beside the
/// embedded cluster's own plan of the same objects; how long a kubectl change takes to show
/// as drift through the watch; and what the watch cache costs per object beside the embedded
/// store.
enum KubeDestinationBench {
    struct Result {
        var syncObjects = 0
        var syncSeconds = 0.0
        var kubectlSeconds = 0.0
        var planObjects = 0
        var coldPlanSeconds = 0.0
        var warmPlanSeconds = 0.0
        var embeddedPlanSeconds = 0.0
        var driftP50 = 0.0
        var driftP90 = 0.0
        var informerObjects = 0
        var informerKiBPerObject = 0.0
        var embeddedKiBPerObject = 0.0
    }

    /// `count` applications (a Deployment with no replicas, a Service, a ConfigMap) in
    /// `namespace`, under `root/manifests`.
    static func writeApps(_ count: Int, namespace: String, to root: String) {
        mkdir(root, 0o755)
        mkdir(root + "/manifests", 0o755)
        TreeGenerator.writeFile(root + "/manifests/00-namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: \(namespace)}\n")
        for i in 0..<count {
            let name = ProcessBench.appName(i)
            TreeGenerator.writeFile(
                root + "/manifests/\(name).yaml",
                """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: \(name), namespace: \(namespace)}
                spec:
                  replicas: 0
                  selector: {matchLabels: {app: \(name)}}
                  template:
                    metadata: {labels: {app: \(name)}}
                    spec:
                      containers: [{name: app, image: "registry.example/app:1", resources: {requests: {cpu: 10m, memory: 16Mi}}}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: \(name), namespace: \(namespace)}
                spec:
                  selector: {app: \(name)}
                  ports: [{port: 80}]
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: \(name), namespace: \(namespace)}
                data: {greeting: hello, app: \(name)}

                """)
        }
    }

    static func pipeline(_ root: String, app: String, namespace: String, backend: any ClusterBackend, state: String) -> ApplicationPipeline {
        let application = Application(
            name: app, source: Application.Source(repository: root, path: "manifests"), destination: Application.Destination(namespace: namespace))
        let connection = ClusterConnection(backend: backend, driver: .realTime(now: { now() }, reconcile: {}), displayName: "bench")
        return ApplicationPipeline(application: application, cluster: connection, stateDirectory: state)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func run(syncApps: Int, planApps: Int, runs: Int) async throws -> Result {
        var result = Result()
        let root = NSTemporaryDirectory() + "windlass-bench-kube-\(getpid())"
        mkdir(root, 0o755)
        defer { _ = try? FileManager.default.removeItem(atPath: root) }
        let serverState = root + "/server"
        guard Peers.spawn([ProcessBench.windlass, "cluster", "init", "--state-dir", serverState]).status == 0 else { fail("cluster init failed") }
        let server = try KubeAPIBench.start(state: serverState, log: root + "/serve.log")
        let kubeconfig = serverState + "/kubeconfig"
        let client = root + "/client"

        // Sync of ~1,000 objects: windlass, then kubectl on a copy in another namespace.
        writeApps(syncApps, namespace: "dest1", to: root + "/sync1")
        writeApps(syncApps, namespace: "dest2", to: root + "/sync2")
        var start = now()
        let (syncOut, syncCode, _) = Peers.spawn([
            ProcessBench.windlass, "sync", "--kubeconfig", kubeconfig, "--source", root + "/sync1", "--state-dir", client, "--app", "dest1", "--no-policies",
        ])
        result.syncSeconds = now() - start
        guard syncCode == 0 else { fail("windlass sync failed: \(syncOut.suffix(600))") }
        result.syncObjects = syncApps * 3 + 1
        let kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"
        start = now()
        let (kubectlOut, kubectlCode, _) = Peers.spawn([kubectl, "--kubeconfig", kubeconfig, "--cache-dir", root + "/cache", "apply", "--server-side", "-f", root + "/sync2/manifests"])
        result.kubectlSeconds = now() - start
        guard kubectlCode == 0 else { fail("kubectl apply failed: \(kubectlOut.suffix(400))") }

        // 10,000 objects to plan against.
        writeApps(planApps, namespace: "plan", to: root + "/plan")
        let (planSyncOut, planSyncCode, _) = Peers.spawn([
            ProcessBench.windlass, "sync", "--kubeconfig", kubeconfig, "--source", root + "/plan", "--state-dir", client, "--app", "plan", "--no-policies",
        ])
        guard planSyncCode == 0 else { fail("windlass sync of the plan set failed: \(planSyncOut.suffix(600))") }
        result.planObjects = planApps * 3 + 1
        var cold: [Double] = []
        for _ in 0..<max(1, min(runs, 3)) {
            start = now()
            let (out, code, _) = Peers.spawn([
                ProcessBench.windlass, "plan", "--kubeconfig", kubeconfig, "--source", root + "/plan", "--state-dir", client, "--app", "plan", "--no-policies",
            ])
            cold.append(now() - start)
            guard code == 0, out.contains("No changes") else { fail("windlass plan: \(out.suffix(400))") }
        }
        result.coldPlanSeconds = median(cold)

        // Warm: in process, from the watch cache.
        let selection = try Kubeconfig.load(explicitPath: kubeconfig).select()
        let cache = KubeCache()
        let cluster = try KubeCluster(selection, cache: cache)
        let warmPipeline = pipeline(root + "/plan", app: "plan", namespace: "plan", backend: cluster, state: client)
        let rendered = try await warmPipeline.render()
        _ = try await warmPipeline.plan(rendered, judging: false)
        await cache.waitUntilSynced((try await cluster.kinds()).filter { !KubeCache.excluded.contains($0) }, timeout: 120)
        var warm: [Double] = []
        // One plan first: what it starts (the kinds with no watch, discovery) is not measured.
        _ = try await warmPipeline.plan(rendered, judging: false)
        for _ in 0..<max(1, runs) {
            start = now()
            let report = try await warmPipeline.plan(rendered, judging: false)
            warm.append(now() - start)
            guard !report.plan.summary.hasChanges else { fail("the warm plan found changes") }
        }
        result.warmPlanSeconds = median(warm)

        // Drift through the watch: kubectl changes a ConfigMap of the 1,000-object application;
        // measured until the drift report names it.
        let driftPipeline = pipeline(root + "/sync1", app: "dest1", namespace: "dest1", backend: cluster, state: client)
        let driftRendered = try await driftPipeline.render()
        _ = try await driftPipeline.drift(driftRendered)
        let changes = cache.changes()
        var iterator = changes.makeAsyncIterator()
        var driftTimes: [Double] = []
        for i in 0..<min(10, syncApps) {
            let name = ProcessBench.appName(i)
            start = now()
            let (out, code, _) = Peers.spawn([
                kubectl, "--kubeconfig", kubeconfig, "--cache-dir", root + "/cache", "patch", "configmap", name, "-n", "dest1", "--type=merge", "-p", "{\"data\":{\"greeting\":\"by-hand-\(i)\"}}",
            ])
            guard code == 0 else { fail("kubectl patch: \(out)") }
            while let event = await iterator.next() {
                if event.object[path: ["metadata", "name"]]?.stringValue == name, event.object[path: ["metadata", "namespace"]]?.stringValue == "dest1" { break }
            }
            let (report, _) = try await driftPipeline.drift(driftRendered)
            guard report.items.contains(where: { $0.id.name == name && $0.id.kind == "ConfigMap" }) else { fail("drift did not name configmap \(name)") }
            driftTimes.append(now() - start)
        }
        driftTimes.sort()
        result.driftP50 = driftTimes[driftTimes.count / 2]
        result.driftP90 = driftTimes[min(driftTimes.count - 1, (driftTimes.count * 9) / 10)]
        cache.stop()

        // The watch cache's memory per object, in a child process of its own.
        let (informerOut, informerCode, _) = Peers.spawn([CommandLine.arguments[0], "--kube-rss", "informer", kubeconfig])
        guard informerCode == 0, let informerLine = informerOut.split(separator: "\n").first(where: { $0.hasPrefix("RSS ") }) else { fail("informer RSS: \(informerOut)") }
        let informer = informerLine.split(separator: " ").dropFirst().map { Double($0) ?? 0 }
        result.informerObjects = Int(informer[0])
        result.informerKiBPerObject = informer[1] / max(informer[0], 1)

        server.process.stop()
        try? await server.client.shutdown()
        while kill(server.pid, 0) == 0 { usleep(50_000) }

        let (embeddedOut, embeddedCode, _) = Peers.spawn([CommandLine.arguments[0], "--kube-rss", "embedded", serverState])
        guard embeddedCode == 0, let embeddedLine = embeddedOut.split(separator: "\n").first(where: { $0.hasPrefix("RSS ") }) else { fail("embedded RSS: \(embeddedOut)") }
        let store = embeddedLine.split(separator: " ").dropFirst().map { Double($0) ?? 0 }
        result.embeddedKiBPerObject = store[1] / max(store[0], 1)

        // The embedded cluster's plan of the same objects (the server's state, opened in process).
        let embedded = try EmbeddedCluster(stateDirectory: serverState)
        let embeddedPipeline = pipeline(root + "/plan", app: "plan", namespace: "plan", backend: embedded, state: root + "/embedded-client")
        let embeddedRendered = try await embeddedPipeline.render()
        _ = try await embeddedPipeline.plan(embeddedRendered, judging: false)
        var local: [Double] = []
        for _ in 0..<max(1, runs) {
            start = now()
            _ = try await embeddedPipeline.plan(embeddedRendered, judging: false)
            local.append(now() - start)
        }
        result.embeddedPlanSeconds = median(local)

        return result
    }

    /// A child: the RSS the objects of Deployments, Services and ConfigMaps cost, held by the
    /// watch cache (`informer KUBECONFIG`) or by an embedded store holding the same objects
    /// (`embedded STATE`, read from the server's state). Prints `RSS objects KiB`.
    static func rss(mode: String, argument: String) async throws {
        var before = KubeAPIBench.rssKiB(getpid())
        switch mode {
        case "informer":
            let cache = KubeCache()
            let cluster = try KubeCluster(try Kubeconfig.load(explicitPath: argument).select(), cache: cache)
            // The client's own cost (TLS, the pool, discovery) is not the objects'.
            _ = try await cluster.directList(GroupKind(group: "", kind: "Namespace"), namespace: nil, options: ListOptions())
            _ = trimFreeMemory(0)
            before = KubeAPIBench.rssKiB(getpid())
            let kinds = [GroupKind(group: "apps", kind: "Deployment"), GroupKind(group: "", kind: "Service"), GroupKind(group: "", kind: "ConfigMap")]
            for kind in kinds { _ = try await cluster.list(kind, namespace: nil, options: ListOptions()) }
            await cache.waitUntilSynced(kinds, timeout: 120)
            _ = trimFreeMemory(0)
            print("RSS \(cache.count) \(KubeAPIBench.rssKiB(getpid()) - before)")
        default:
            // The same objects as the watch cache holds, in an embedded store of their own: read
            // from the server's state, kept as JSON text while the state is closed, then read
            // into the store as the embedded cluster restores objects (interned).
            let kinds = [GroupKind(group: "apps", kind: "Deployment"), GroupKind(group: "", kind: "Service"), GroupKind(group: "", kind: "ConfigMap")]
            var texts: [String] = []
            do {
                let cluster = try EmbeddedCluster(stateDirectory: argument)
                for kind in kinds {
                    for object in try await cluster.list(kind, namespace: nil, options: ListOptions()).items { texts.append(JSONWriter().write(object)) }
                }
            }
            _ = trimFreeMemory(0)
            before = KubeAPIBench.rssKiB(getpid())
            var store = ObjectStore(now: 0)
            // The texts stay until the end: memory they freed would be reused by the store.
            for text in texts {
                if let object = try JSONReader.read(text) { store.restore(StoredObject(object: object)) }
            }
            _ = trimFreeMemory(0)
            print("RSS \(texts.count) \(KubeAPIBench.rssKiB(getpid()) - before)")
            _ = store
        }
    }
}

/// glibc's `malloc_trim`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
private func trimFreeMemory(_ pad: Int) -> Int32
