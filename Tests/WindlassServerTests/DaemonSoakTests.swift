import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassPipeline
import WindlassPlan
import WindlassRollout
import WindlassTesting
@testable import WindlassServer

/// Four applications on one repository and a stream of commits mixing what teams do: plain
/// changes, canaries that pass, canaries that fail, paused canaries promoted through the API,
/// rollbacks and drift: 100 commits, about 50 s.
@Suite("The daemon under a stream of commits", .serialized)
struct DaemonSoakTests {
    static let applications = ["alpha", "bravo", "charlie", "delta"]

    static func manifests(_ app: String, image: String, pause: String = "{duration: 0s}", crash: Bool = false, setting: String = "1") -> String {
        """
        apiVersion: v1
        kind: Namespace
        metadata: {name: \(app)}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings, namespace: \(app)}
        data: {value: "\(setting)"}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: \(app)}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata:
              labels: {app: web}
              annotations: {sim.windlass.dev/start-seconds: "0"\(crash ? ", sim.windlass.dev/crash-loop: \"true\"" : "")}
            spec:
              containers: [{name: web, image: "\(image)"}]
        ---
        apiVersion: windlass.dev/v1
        kind: RolloutStrategy
        metadata: {name: web, namespace: \(app)}
        spec:
          targetRef: {kind: Deployment, name: web}
          canary:
            steps:
              - setWeight: 50
              - pause: \(pause)
        """
    }

    @Test("100 commits over four applications: history, cluster and API agree; no canary workload left; no commit released twice")
    func soak() async throws {
        let state = try TemporaryDirectory()
        let repository = try GitFixture()
        for app in Self.applications { _ = try repository.write("apps/\(app)/app.yaml", Self.manifests(app, image: "\(app):1")) }
        _ = try repository.commit("first")
        let cluster = try EmbeddedCluster(stateDirectory: state.path + "/state")
        try await cluster.createNodes(count: 3, cpu: "16", memory: "64Gi")
        var config = DaemonConfig()
        config.server.port = 0
        config.applications = Self.applications.map { name in
            var app = DaemonConfig.Application(name: name, repository: repository.path)
            app.path = "apps/\(name)"
            app.namespace = name
            app.interval = 0.3
            app.selfHeal = name == "charlie" || name == "delta"
            app.drift = .interval(seconds: 1)
            return app
        }
        let daemon = try Daemon(
            options: Daemon.Options(config: config, stateDirectory: state.path + "/state", log: DaemonLog(format: .text, level: .error)),
            cluster: .embedded(cluster))
        let running = Task { try await daemon.run() }
        defer { running.cancel() }
        let backend = daemon.cluster.connection.backend

        func status(_ app: String) async -> ApplicationReconciler.Status { await daemon.reconcilers[app]!.status }
        func wait(_ app: String, _ what: String, timeout: Double = 120, until predicate: (ApplicationReconciler.Status) -> Bool) async throws {
            let start = ContinuousClock.now
            while !predicate(await status(app)) {
                if ContinuousClock.now - start > .seconds(timeout) {
                    Issue.record("\(app): timed out waiting for \(what): \(await status(app))")
                    return
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        for app in Self.applications {
            try await wait(app, "the first sync") { $0.syncedRevision != nil && $0.lastSync?.outcome == .synced }
        }

        var expectedImage = Dictionary(uniqueKeysWithValues: Self.applications.map { ($0, "\($0):1") })
        for round in 1...25 {
            for (index, app) in Self.applications.enumerated() {
                let kind = (round + index) % 5
                let image = "\(app):\(round + 1)"
                switch kind {
                case 0:
                    // A plain change: a setting, no canary.
                    _ = try repository.write("apps/\(app)/app.yaml", Self.manifests(app, image: expectedImage[app]!, setting: "r\(round)"))
                    let sha = try repository.commit("\(app) setting \(round)")
                    try await wait(app, "setting \(round)") { $0.syncedRevision == sha }
                case 1:
                    // A canary that passes.
                    _ = try repository.write("apps/\(app)/app.yaml", Self.manifests(app, image: image))
                    let sha = try repository.commit("\(app) \(image)")
                    try await wait(app, "the canary of \(image)") { $0.syncedRevision == sha }
                    expectedImage[app] = image
                case 2:
                    // A canary whose pods crash-loop: aborted, rolled back.
                    _ = try repository.write("apps/\(app)/app.yaml", Self.manifests(app, image: image, crash: true))
                    let sha = try repository.commit("\(app) \(image) broken")
                    try await wait(app, "the failed canary of \(image)") { $0.lastSync?.revision == sha && $0.lastSync?.outcome == .failed }
                    // The fix: back to the image that works.
                    _ = try repository.write("apps/\(app)/app.yaml", Self.manifests(app, image: expectedImage[app]!, setting: "fixed \(round)"))
                    let fixed = try repository.commit("\(app) fixed")
                    try await wait(app, "the fix") { $0.syncedRevision == fixed }
                case 3:
                    // A canary paused until promoted through the API.
                    _ = try repository.write("apps/\(app)/app.yaml", Self.manifests(app, image: image, pause: "{}"))
                    let sha = try repository.commit("\(app) \(image) paused")
                    try await wait(app, "the pause of \(image)") { $0.lastSync?.revision == sha && $0.lastSync?.outcome == .paused }
                    #expect(await daemon.rollout(namespace: app, name: "web", .promote).status == .accepted)
                    try await wait(app, "the promotion of \(image)") { $0.syncedRevision == sha && $0.lastSync?.outcome == .synced }
                    expectedImage[app] = image
                default:
                    // Drift made by another client; self-healing applications take it back.
                    let id = ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: app, name: "web")
                    _ = try await backend.patch(id, .merge(["spec": ["replicas": 5]]), options: PatchOptions(fieldManager: "kubectl-scale"))
                    if app == "charlie" || app == "delta" {
                        let start = ContinuousClock.now
                        while (try? await backend.get(id))?[path: ["spec", "replicas"]]?.intValue != 2 && ContinuousClock.now - start < .seconds(60) {
                            try await Task.sleep(for: .milliseconds(100))
                        }
                    } else {
                        _ = try await backend.patch(id, .merge(["spec": ["replicas": 2]]), options: PatchOptions(fieldManager: "kubectl-scale"))
                    }
                }
            }
        }
        // A rollback of alpha, then a manual sync back to the head.
        // (The manual sync fetches: it goes back to the repository's head, whatever the last
        // poll had seen when the rollback started.)
        let alpha = daemon.reconcilers["alpha"]!
        alpha.rollback(to: nil)
        try await wait("alpha", "the rollback") { $0.lastSync?.outcome == .rolledBack }
        alpha.syncNow()
        try await wait("alpha", "the manual sync") {
            $0.lastSync?.outcome == .synced && $0.syncedRevision != nil && $0.syncedRevision == $0.headRevision
        }

        for app in Self.applications {
            let current = await status(app)
            let history = try await daemon.reconcilers[app]!.pipeline.revisions().history(app)
            let deployed = history.filter { $0.status == .deployed }
            #expect(deployed.count == 1, "\(app): one deployed revision")
            // The API's synced revision is the last commit compared (as Argo CD's): the deployed
            // revision's, or a later one that changed nothing of this application. Either way
            // the cluster holds it: its plan has no changes.
            let pipeline = await daemon.reconcilers[app]!.pipeline
            let plan = try await pipeline.plan(current.syncedRevision, judging: false)
            #expect(!plan.plan.summary.hasChanges, "\(app): the cluster is what the API says is synced: \(plan.plan.summary.line())")
            if let commit = deployed.first?.commit, let synced = current.syncedRevision, commit != synced {
                let changed = try repository.git(["diff", "--name-only", commit, synced, "--", "apps/\(app)"])
                #expect(changed.isEmpty, "\(app): commits after the deployed revision change only other applications: \(changed)")
            }
            #expect(current.syncStatus == .synced, "\(app)")
            #expect(!history.contains { $0.status == .pending }, "\(app): nothing left in progress")
            // No commit released twice by auto-sync (a rollback or a self-heal re-applies on purpose).
            var released: [String: Int] = [:]
            for revision in history where revision.trigger == "auto-sync" { released[revision.commit ?? "", default: 0] += 1 }
            #expect(released.values.allSatisfy { $0 == 1 }, "\(app): \(released)")
            let web = try await backend.get(ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: app, name: "web"))
            #expect(web[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.first?["image"]?.stringValue == expectedImage[app], "\(app)")
            #expect(web[path: ["spec", "replicas"]]?.intValue == 2, "\(app)")
            await #expect(throws: ClusterError.self) {
                try await backend.get(ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: app, name: "web-canary"))
            }
        }
        running.cancel()
        _ = await running.result
    }
}
