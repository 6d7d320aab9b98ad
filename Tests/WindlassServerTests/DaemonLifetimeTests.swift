import Logging
import Testing
import WindlassCore
import WindlassPipeline
import WindlassTesting
@testable import WindlassServer

@Suite("The daemon's lifetime")
struct DaemonLifetimeTests {
    @Test("a stopped daemon lets go of its cluster: the state directory can be opened again in the same process")
    func releasesCluster() async throws {
        let state = try TemporaryDirectory()
        let repository = try GitFixture()
        _ = try repository.write("manifests/cm.yaml", configMapYAML("settings"))
        _ = try repository.commit("one")
        try await run(state: state.path + "/state", repository: repository.path)
        for _ in 0..<50 {
            if (try? EmbeddedCluster(stateDirectory: state.path + "/state")) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the state directory is still locked 5 s after the daemon stopped")
    }

    func run(state: String, repository: String) async throws {
        let cluster = try EmbeddedCluster(stateDirectory: state)
        var config = DaemonConfig()
        config.server.port = 0
        config.applications = [DaemonConfig.Application(name: "app", repository: repository)]
        let daemon = try Daemon(options: Daemon.Options(config: config, stateDirectory: state, log: DaemonLog(format: .text, level: .error)), cluster: .embedded(cluster))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let running = Task { try await daemon.run(onListening: { continuation.yield($0) }) }
        var iterator = ports.makeAsyncIterator()
        _ = await iterator.next()
        // Stopped after a whole sync, health check included.
        for _ in 0..<200 where await daemon.reconcilers["app"]?.status.lastSync == nil {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(await daemon.reconcilers["app"]?.status.lastSync?.outcome == .synced)
        running.cancel()
        _ = await running.result
    }
}
