import Foundation
import Testing
import WindlassTesting

/// `windlass serve` with applications whose paths are kustomize overlays, fetched from
/// `git daemon` and rendered by the kustomize on this machine.
@Suite("windlass serve with kustomize applications", .serialized)
struct KustomizeDaemonTests {
    @Test("an overlay syncs, a change to its base outside its path syncs it again, and an overlay kustomize refuses leaves the others running")
    func overlays() async throws {
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        try KustomizeFixture.write(into: repo.work)
        try repo.work.write("overlays/broken/kustomization.yaml", "resources:\n  - ../../base\n  - https://example.com/remote.yaml\n")
        let first = try repo.publish("overlays/broken/.keep", "", message: "kustomize overlays")
        let state = try TemporaryDirectory()
        _ = try state.write("windlass.yaml", """
            apiVersion: windlass.dev/v1
            kind: Config
            server: {listen: 127.0.0.1:0}
            applications:
              - name: staging
                source: {repo: "\(repo.url)", ref: main, path: overlays/staging}
                destination: {namespace: staging}
                syncPolicy: {automated: true, syncOptions: [CreateNamespace=true]}
                interval: 1s
              - name: broken
                source: {repo: "\(repo.url)", ref: main, path: overlays/broken}
                destination: {namespace: broken}
                syncPolicy: {automated: true, syncOptions: [CreateNamespace=true]}
                interval: 1s
              - name: cloud
                source: {repo: "\(repo.url)", ref: main, path: manifests}
                destination: {namespace: shop}
                syncPolicy: {automated: true}
                interval: 1s
            """)
        let serve = try ServeProcess(["--config", "windlass.yaml", "--state-dir", state.path + "/state"], log: state.path + "/serve.log", in: state.path, environment: [:])
        try await serve.waitForListening()
        _ = try await serve.waitFor("staging", timeout: 90) { $0["syncedRevision"] as? String == first && $0["health"] as? String == "Healthy" }
        _ = try await serve.waitFor("cloud", timeout: 60) { $0["syncedRevision"] as? String == first }
        _ = try await serve.waitFor("broken", timeout: 60) { ($0["lastError"] as? String)?.contains("refused") == true }
        let broken = try await serve.application("broken")
        #expect(broken["syncedRevision"] as? String == nil)
        #expect((broken["lastError"] as? String)?.contains("overlays/broken/kustomization.yaml@") == true, "\(broken)")

        // A change to the base only (outside every application's path) is an input of the overlay.
        let second = try repo.publish("base/deployment.yaml", KustomizeFixture.deployment(image: "registry.example/web:1.0", port: 8081), message: "base: port 8081")
        _ = try await serve.waitFor("staging", timeout: 60) { $0["syncedRevision"] as? String == second && ($0["lastSync"] as? [String: Any])?["number"] as? Int == 2 }
        let history = try await serve.read("/api/v1/applications/staging/history")
        #expect(history.body.contains(/"renderer" ?: ?"kustomize v/), "\(history.body)")
        // The plain application's path did not change: it records no new revision.
        _ = try await serve.waitFor("cloud", timeout: 30) { $0["syncedRevision"] as? String == second }
        #expect((try await serve.application("cloud")["lastSync"] as? [String: Any])?["number"] as? Int == 1)
        #expect((try await serve.terminate()).status == 0)
    }
}
