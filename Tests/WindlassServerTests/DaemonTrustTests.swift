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

/// A daemon in this process over a git repository on disk and an embedded cluster on the real
/// clock: the daemon's end-to-end behaviour without a child process.
struct InProcessDaemon {
    let state: TemporaryDirectory
    let repository: GitFixture
    let daemon: Daemon
    let running: Task<Void, any Error>

    init(files: [String: String], configure: (inout DaemonConfig.Application) -> Void) async throws {
        let repository = try GitFixture()
        for (path, text) in files { _ = try repository.write(path, text) }
        _ = try repository.commit("first")
        try await self.init(state: try TemporaryDirectory(), repository: repository, configure: configure)
    }

    /// A daemon on a state directory and repository of before (a restart).
    init(state: TemporaryDirectory, repository: GitFixture, configure: (inout DaemonConfig.Application) -> Void) async throws {
        self.state = state
        self.repository = repository
        // A daemon stopped just before lets go of the state directory once its tasks end.
        var opened: EmbeddedCluster?
        for _ in 0..<100 where opened == nil {
            opened = try? EmbeddedCluster(stateDirectory: state.path + "/state")
            if opened == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let cluster = try opened ?? EmbeddedCluster(stateDirectory: state.path + "/state")
        if try await cluster.list(GroupKind(group: "", kind: "Node"), namespace: nil, selector: LabelSelector()).items.isEmpty {
            try await cluster.createNodes(count: 3, cpu: "8", memory: "32Gi")
        }
        var config = DaemonConfig()
        config.server.port = 0
        var application = DaemonConfig.Application(name: "app", repository: repository.path)
        configure(&application)
        config.applications = [application]
        let daemon = try Daemon(
            options: Daemon.Options(config: config, stateDirectory: state.path + "/state", log: DaemonLog(format: .text, level: .error)),
            cluster: .embedded(cluster))
        self.daemon = daemon
        running = Task { try await daemon.run() }
    }

    var reconciler: ApplicationReconciler { daemon.reconcilers["app"]! }

    /// Waits (up to `timeout` seconds) until `predicate` holds for the application's status.
    @discardableResult
    func wait(_ what: String, timeout: Double = 180, until predicate: (ApplicationReconciler.Status) -> Bool) async throws -> ApplicationReconciler.Status {
        let start = ContinuousClock.now
        while true {
            let status = await reconciler.status
            if predicate(status) { return status }
            if ContinuousClock.now - start > .seconds(timeout) {
                Issue.record("timed out after \(timeout) s waiting for \(what); last status: \(status)")
                return status
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func commit(_ files: [String: String], message: String) throws -> String {
        for (path, text) in files { _ = try repository.write(path, text) }
        return try repository.commit(message)
    }

    func stop() async {
        running.cancel()
        _ = await running.result
    }
}

enum TrustFixtures {
    static let namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"

    static func web(_ image: String, pause: String = "{}", annotations: String = "") -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata:
              labels: {app: web}
              annotations: {sim.windlass.dev/start-seconds: "0"\(annotations)}
            spec:
              containers: [{name: web, image: "\(image)"}]
        ---
        apiVersion: windlass.dev/v1
        kind: RolloutStrategy
        metadata: {name: web, namespace: shop}
        spec:
          targetRef: {kind: Deployment, name: web}
          canary:
            steps:
              - setWeight: 50
              - pause: \(pause)
        """
    }

    static let canaryID = ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web-canary")
}

@Suite("Trust in the daemon", .serialized)
struct DaemonTrustTests {
    @Test("self-heal leaves a paused canary alone: no self-heal sync, the revision stays pending, the canary workload stays managed")
    func selfHealWaitsForPausedCanary() async throws {
        let bed = try await InProcessDaemon(files: ["manifests/ns.yaml": TrustFixtures.namespace, "manifests/web.yaml": TrustFixtures.web("web:1")]) {
            $0.selfHeal = true
            $0.interval = 0.3
            $0.drift = .interval(seconds: 0.2)
        }
        defer { Task { await bed.stop() } }
        try await bed.wait("the first sync") { $0.syncedRevision != nil && $0.lastSync?.outcome == .synced }
        _ = try bed.commit(["manifests/web.yaml": TrustFixtures.web("web:2")], message: "web 2")
        try await bed.wait("the release to pause") { $0.lastSync?.outcome == .paused }
        // Polls and drift checks every few hundred milliseconds, for two seconds.
        try await Task.sleep(for: .seconds(2))
        let history = try await bed.reconciler.pipeline.revisions().history("app")
        #expect(history.map(\.status) == [.deployed, .pending], "\(history.map { "\($0.number) \($0.status) \($0.trigger) \($0.message ?? "")" })")
        #expect(!history.contains { $0.trigger == "self-heal" })
        let canary = try await bed.daemon.cluster.connection.backend.get(TrustFixtures.canaryID)
        #expect(canary[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.first?["image"]?.stringValue == "web:2")
        #expect(await bed.reconciler.status.lastSync?.outcome == .paused)
        await bed.stop()
    }

    @Test("abort through the API while a canary waits at a weight step: aborted within a second; the next commit's canary is not aborted by it; no rollout, 409")
    func abortAtWeightStep() async throws {
        let bed = try await InProcessDaemon(files: ["manifests/ns.yaml": TrustFixtures.namespace, "manifests/web.yaml": TrustFixtures.web("web:1")]) {
            $0.interval = 0.3
        }
        defer { Task { await bed.stop() } }
        try await bed.wait("the first sync") { $0.syncedRevision != nil && $0.lastSync?.outcome == .synced }
        #expect(await bed.daemon.rollout(namespace: "shop", name: "web", .abort).status == .conflict, "no rollout in progress: nothing takes the request")

        // Pods that never get ready: the weight step waits (for the wave timeout, 300 s).
        _ = try bed.commit(["manifests/web.yaml": TrustFixtures.web("web:2", annotations: ", sim.windlass.dev/never-ready: \"true\"")], message: "web 2")
        try await bed.wait("the canary to wait at its weight step") { $0.rollout?.contains("weight 50%") == true }
        let asked = ContinuousClock.now
        #expect(await bed.daemon.rollout(namespace: "shop", name: "web", .abort).status == .accepted)
        let aborted = try await bed.wait("the abort", timeout: 10) { $0.lastSync?.outcome == .failed }
        // Within a poll (a quarter second) on an idle machine; the bound leaves room for a loaded
        // CI runner and is still far from the 300 s the abort used to wait.
        #expect(ContinuousClock.now - asked < .seconds(5), "aborted \(ContinuousClock.now - asked) after the request")
        #expect(aborted.lastSync?.message.contains("aborted by request") == true, "\(aborted.lastSync?.message ?? "")")

        // The next commit releases through its canary and pauses, as its strategy says.
        _ = try bed.commit(["manifests/web.yaml": TrustFixtures.web("web:3")], message: "web 3")
        let next = try await bed.wait("the next release") { $0.lastSync?.outcome == .paused }
        #expect(next.lastSync?.message.contains("paused") == true)
        await bed.stop()
    }

    @Test("after a rollback the API says why auto-sync leaves the head alone; a manual sync ends it")
    func autoSyncPausedIsShown() async throws {
        let plain = { (image: String) in
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}, annotations: {sim.windlass.dev/start-seconds: \"0\"}}\n    spec: {containers: [{name: web, image: \"\(image)\"}]}\n"
        }
        let bed = try await InProcessDaemon(files: ["manifests/ns.yaml": TrustFixtures.namespace, "manifests/web.yaml": plain("web:1")]) {
            $0.interval = 0.2
        }
        defer { Task { await bed.stop() } }
        try await bed.wait("the first sync") { $0.lastSync?.outcome == .synced }
        let head = try bed.commit(["manifests/web.yaml": plain("web:2")], message: "web 2")
        try await bed.wait("web 2") { $0.syncedRevision == head && $0.lastSync?.outcome == .synced }
        bed.reconciler.rollback(to: 1)
        let paused = try await bed.wait("the pause to show") { $0.autoSyncPaused != nil }
        #expect(paused.autoSyncPaused == "rolled back at \(head.prefix(12)): auto-sync waits for a newer commit or a manual sync")
        #expect(paused.syncStatus == .outOfSync)
        bed.reconciler.syncNow()
        try await bed.wait("the manual sync to end the pause") { $0.autoSyncPaused == nil && $0.syncedRevision == head && $0.lastSync?.outcome == .synced }
        await bed.stop()
    }

    @Test("after a rollback, commits that change only other paths keep auto-sync paused; one that changes the application ends it")
    func rollbackPinOutlivesOtherCommits() async throws {
        let plain = { (image: String) in
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}, annotations: {sim.windlass.dev/start-seconds: \"0\"}}\n    spec: {containers: [{name: web, image: \"\(image)\"}]}\n"
        }
        let state = try TemporaryDirectory()
        let repository = try GitFixture()
        _ = try repository.write("manifests/ns.yaml", TrustFixtures.namespace)
        _ = try repository.write("manifests/web.yaml", plain("web:1"))
        _ = try repository.commit("first")
        let id = ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web")
        do {
            // The first run, dropped when it ends (it holds the state directory until then).
            let bed = try await InProcessDaemon(state: state, repository: repository) { $0.interval = 0.2 }
            try await bed.wait("the first sync") { $0.lastSync?.outcome == .synced }
            let head = try bed.commit(["manifests/web.yaml": plain("web:2")], message: "web 2")
            try await bed.wait("web 2") { $0.syncedRevision == head && $0.lastSync?.outcome == .synced }
            bed.reconciler.rollback(to: 1)
            try await bed.wait("the rollback") { $0.autoSyncPaused != nil && $0.lastSync?.outcome == .rolledBack }
            // Another team's commits land (as they may between the poll a rollback pins and the next).
            var other = head
            for n in 1...3 { other = try bed.commit(["elsewhere/notes-\(n).md": "\(n)\n"], message: "elsewhere \(n)") }
            let kept = try await bed.wait("the pin to move to the newest commit", timeout: 30) { $0.autoSyncPaused?.contains(String(other.prefix(12))) == true }
            #expect(kept.lastSync?.outcome == .rolledBack, "the rollback was not undone: \(String(describing: kept.lastSync))")
            let live = try await bed.daemon.cluster.connection.backend.get(id)
            #expect(live[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.first?["image"]?.stringValue == "web:1")
            await bed.stop()
        }
        // A restart has rendered nothing yet: the pinned commit's inputs are read again.
        _ = try repository.write("elsewhere/notes-4.md", "4\n")
        let later = try repository.commit("elsewhere 4")
        let again = try await InProcessDaemon(state: state, repository: repository) { $0.interval = 0.2 }
        defer { Task { await again.stop() } }
        try await again.wait("the pin to move after the restart", timeout: 30) { $0.autoSyncPaused?.contains(String(later.prefix(12))) == true }
        let restarted = try await again.daemon.cluster.connection.backend.get(id)
        #expect(restarted[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.first?["image"]?.stringValue == "web:1")
        // A commit to the application's own path is the newer commit the pin waits for.
        let fixed = try again.commit(["manifests/web.yaml": plain("web:3")], message: "web 3")
        try await again.wait("web 3") { $0.autoSyncPaused == nil && $0.syncedRevision == fixed && $0.lastSync?.outcome == .synced }
        await again.stop()
    }

    @Test("one status: a restart knows what was deployed and its health, the metrics list the application at once, and a commit outside its path leaves it Synced")
    func statusAfterRestart() async throws {
        let state = try TemporaryDirectory()
        let repository = try GitFixture()
        _ = try repository.write("manifests/ns.yaml", TrustFixtures.namespace)
        _ = try repository.write("manifests/web.yaml", TrustFixtures.web("web:1"))
        let head = try repository.commit("first")
        do {
            // The first run, dropped when it ends (it holds the state directory until then).
            let first = try await InProcessDaemon(state: state, repository: repository) { $0.interval = 0.3 }
            try await first.wait("the first sync") { $0.lastSync?.outcome == .synced && $0.health == .healthy && $0.syncedRevision == head }
            await first.stop()
        }

        do {
            // Started again with automated sync: Synced without syncing anything.
            let again = try await InProcessDaemon(state: state, repository: repository) { $0.interval = 0.3 }
            let restarted = try await again.wait("Synced after the restart") { $0.syncStatus == .synced && $0.health == .healthy }
            #expect(restarted.syncedRevision == head && restarted.lastSync == nil, "nothing was synced again")
            await again.stop()
        }

        // Started again without automated sync: nothing syncs, yet the status is known.
        let second = try await InProcessDaemon(state: state, repository: repository) {
            $0.interval = 0.3
            $0.automated = false
        }
        defer { Task { await second.stop() } }
        let restored = try await second.wait("the restored status") { $0.fetches >= 1 && $0.health == .healthy }
        #expect(restored.syncedRevision == head)
        #expect(restored.syncStatus == .synced, "the plan has no changes")
        #expect(second.daemon.metrics.text().contains("windlass_app_info{name=\"app\",sync_status=\"Synced\",health_status=\"Healthy\"} 1"), "\(second.daemon.metrics.text())")

        // A commit that touches nothing under the application's path: still Synced.
        let other = try second.commit(["README.md": "notes\n"], message: "docs")
        let after = try await second.wait("the new head") { $0.headRevision == other }
        #expect(after.syncStatus == .synced && after.lastSync == nil)
        // A change under it: OutOfSync, and the metric says the same.
        let changed = try second.commit(["manifests/web.yaml": TrustFixtures.web("web:2")], message: "web 2")
        try await second.wait("OutOfSync") { $0.headRevision == changed && $0.syncStatus == .outOfSync }
        #expect(second.daemon.metrics.text().contains("windlass_app_info{name=\"app\",sync_status=\"OutOfSync\""))
        await second.stop()
    }

    @Test("a restart on a head whose sync failed: the deployed revision, health and drift checks go on")
    func restartOnFailedHead() async throws {
        let state = try TemporaryDirectory()
        let repository = try GitFixture()
        _ = try repository.write("manifests/ns.yaml", TrustFixtures.namespace)
        _ = try repository.write("manifests/web.yaml", TrustFixtures.web("web:1"))
        let good = try repository.commit("first")
        let bad: String
        do {
            let first = try await InProcessDaemon(state: state, repository: repository) { $0.interval = 0.3 }
            try await first.wait("the first sync") { $0.syncedRevision == good && $0.health == .healthy }
            bad = try first.commit(["manifests/broken.yaml": "kind: ConfigMap\nmetadata: {name: Broken_Name}\n"], message: "broken")
            try await first.wait("the failed sync") { $0.lastSync?.revision == bad && $0.lastSync?.outcome == .invalid }
            await first.stop()
        }
        let again = try await InProcessDaemon(state: state, repository: repository) {
            $0.interval = 0.3
            $0.selfHeal = true
        }
        defer { Task { await again.stop() } }
        let restored = try await again.wait("a drift check after the restart") { $0.drift != nil }
        #expect(restored.syncedRevision == good)
        #expect(restored.headRevision == bad && restored.syncStatus == .outOfSync)
        #expect(restored.health == .healthy)
        #expect(restored.autoSyncPaused?.contains("failed") == true)
        #expect(restored.drift?.report.items.isEmpty == true)
        await again.stop()
    }

    @Test("a failed fetch's lastError, in the status and the API, never shows a URL's credentials")
    func lastErrorRedacted() async throws {
        for url in ["http://alice:SECRET@127.0.0.1:1/repo.git", "https://SECRET@127.0.0.1:1/repo.git", "ssh://alice:SECRET@127.0.0.1:1/repo.git"] {
            let bed = try await InProcessDaemon(files: ["manifests/cm.yaml": configMapYAML("settings")]) {
                $0.repository = url
                $0.interval = 0.3
            }
            let status = try await bed.wait("the failed fetch of \(url)") { $0.lastError != nil }
            let error = status.lastError ?? ""
            #expect(!error.contains("SECRET") && error.contains("***@127.0.0.1:1"), "\(error)")
            let view = await Daemon.view(bed.reconciler)
            #expect(view.lastError == status.lastError)
            #expect(!view.source.repo.contains("SECRET"))
            await bed.stop()
        }
    }

    @Test("a committed analysis template naming a host the config does not allow: not queried, the canary aborted with the reason")
    func analysisHostsAllowed() async throws {
        let gated = { (image: String) in
            TrustFixtures.web(image).replacingOccurrences(of: "      - pause: {}", with: """
                      - analysis: {templates: [{templateName: gate}]}
                ---
                apiVersion: windlass.dev/v1
                kind: AnalysisTemplate
                metadata: {name: gate, namespace: shop}
                spec:
                  metrics:
                    - name: metadata
                      consecutiveErrorLimit: 0
                      successCondition: "true"
                      provider: {web: {url: "http://169.254.169.254/latest/meta-data/"}}
                """)
        }
        let bed = try await InProcessDaemon(files: ["manifests/ns.yaml": TrustFixtures.namespace, "manifests/web.yaml": gated("web:1")]) {
            $0.interval = 0.3
            $0.prometheus = "http://127.0.0.1:9090"
        }
        defer { Task { await bed.stop() } }
        try await bed.wait("the first sync") { $0.syncedRevision != nil && $0.lastSync?.outcome == .synced }
        _ = try bed.commit(["manifests/web.yaml": gated("web:2")], message: "web 2")
        let failed = try await bed.wait("the gate to fail", timeout: 60) { $0.lastSync?.outcome == .failed }
        let message = failed.lastSync?.message ?? ""
        #expect(
            message.contains("169.254.169.254:80 is not an allowed analysis host (analysis.allowedHosts: loopback, 127.0.0.1:9090)"),
            "\(message)")
        let history = try await bed.reconciler.pipeline.revisions().history("app")
        #expect(history.last?.trigger == "canary aborted", "\(history.map { "\($0.number) \($0.status) \($0.trigger)" })")
        await bed.stop()
    }

    @Test("a commit that changes nothing under the path is not synced (no revision, drift left alone); one under it is; a manual sync always runs")
    func pathScopedSyncs() async throws {
        let bed = try await InProcessDaemon(files: ["manifests/cm.yaml": configMapYAML("settings"), "docs/README.md": "one\n"]) { $0.interval = 0.3 }
        defer { Task { await bed.stop() } }
        let first = try await bed.wait("the first sync") { $0.lastSync?.outcome == .synced }
        #expect(first.lastSync?.number == 1)
        let backend = bed.daemon.cluster.connection.backend
        let id = ResourceID(group: "", version: "v1", kind: "ConfigMap", namespace: "default", name: "settings")
        // Someone edits the live object: drift, which only self-heal (off here) or a sync would undo.
        var edited = try await backend.get(id)
        edited.set("by hand", at: ["data", "key"])
        _ = try await backend.update(edited, options: WriteOptions(fieldManager: "kubectl-edit"))

        let docs = try bed.commit(["docs/README.md": "two\n"], message: "docs only")
        bed.reconciler.trigger()  // as a webhook does
        let skipped = try await bed.wait("the docs commit") { $0.headRevision == docs && $0.syncedRevision == docs }
        #expect(skipped.lastSync?.number == 1, "no sync for a commit outside the path")
        #expect(try await bed.reconciler.pipeline.revisions().history("app").count == 1)
        #expect(try await backend.get(id)[path: ["data", "key"]]?.stringValue == "by hand", "the drift was left alone")

        let changed = try bed.commit(["manifests/cm.yaml": configMapYAML("settings", data: "v2")], message: "settings v2")
        let synced = try await bed.wait("the manifest commit") { $0.syncedRevision == changed && $0.lastSync?.number == 2 }
        #expect(synced.lastSync?.outcome == .synced)
        #expect(try await backend.get(id)[path: ["data", "key"]]?.stringValue == "v2")

        // A manual sync runs whatever changed: the drift is healed.
        _ = try bed.commit(["docs/README.md": "three\n"], message: "docs again")
        edited = try await backend.get(id)
        edited.set("by hand again", at: ["data", "key"])
        _ = try await backend.update(edited, options: WriteOptions(fieldManager: "kubectl-edit"))
        bed.reconciler.syncNow()
        let forced = try await bed.wait("the manual sync") { $0.lastSync?.number == 3 }
        #expect(forced.lastSync?.outcome == .synced)
        #expect(try await backend.get(id)[path: ["data", "key"]]?.stringValue == "v2")
        await bed.stop()
    }

    @Test("a refused commit, then its revert: the revert changes nothing against what is deployed, so nothing syncs, and the application is Synced again")
    func revertOfARefusedCommit() async throws {
        let policy = privilegedPolicyYAML
        let plain = TrustFixtures.web("web:1")
        let bed = try await InProcessDaemon(files: ["manifests/ns.yaml": TrustFixtures.namespace, "manifests/web.yaml": plain, "policies/p.yaml": policy]) {
            $0.interval = 0.3
            $0.policies = .repository(path: "policies", required: true)
        }
        defer { Task { await bed.stop() } }
        try await bed.wait("the first sync") { $0.lastSync?.outcome == .synced && $0.syncStatus == .synced }
        let privileged = plain.replacingOccurrences(of: "containers: [{name: web, image: \"web:1\"}]", with: "containers: [{name: web, image: \"web:1\", securityContext: {privileged: true}}]")
        #expect(privileged != plain)
        _ = try bed.commit(["manifests/web.yaml": privileged], message: "a mistake")
        try await bed.wait("the refusal") { $0.lastSync?.outcome == .refused && $0.syncStatus == .outOfSync }
        let revert = try bed.commit(["manifests/web.yaml": plain], message: "revert")
        let after = try await bed.wait("Synced at the revert", timeout: 30) { $0.syncedRevision == revert && $0.syncStatus == .synced }
        #expect(after.lastSync?.outcome == .refused, "nothing synced for the revert")
        #expect(try await bed.reconciler.pipeline.revisions().history("app").count == 1)
        await bed.stop()
    }
}
