import Logging
import Testing
import WindlassCluster
import WindlassManifest
import WindlassRollout
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

    @Test("an address in use ends the run before any work: nothing synced, nothing recorded")
    func bindFirst() async throws {
        let repository = try GitFixture()
        _ = try repository.write("manifests/cm.yaml", configMapYAML("settings"))
        _ = try repository.commit("one")
        // The first daemon holds a port.
        let first = try TemporaryDirectory()
        let holder = try Daemon(
            options: Daemon.Options(config: Self.config(port: 0, repository: repository.path), stateDirectory: first.path, log: DaemonLog(format: .text, level: .critical)),
            cluster: .embedded(try EmbeddedCluster(stateDirectory: first.path)))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let holding = Task { try await holder.run(onListening: { continuation.yield($0) }) }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())

        let second = try TemporaryDirectory()
        let cluster = try EmbeddedCluster(stateDirectory: second.path)
        let daemon = try Daemon(
            options: Daemon.Options(config: Self.config(port: port, repository: repository.path), stateDirectory: second.path, log: DaemonLog(format: .text, level: .critical)),
            cluster: .embedded(cluster))
        let error = await #expect(throws: ListenError.self) { try await daemon.run() }
        #expect(error?.description == "cannot listen on 127.0.0.1:\(port): the address is in use (by another windlass serve?); nothing was synced")
        #expect(await daemon.reconcilers["app"]?.status.fetches == 0)
        #expect(try await cluster.list(GroupKind(group: "", kind: "ConfigMap"), namespace: nil, selector: LabelSelector()).items.isEmpty)
        let pipeline = await daemon.reconcilers["app"]!.pipeline
        #expect(try pipeline.revisions().history("app").isEmpty)
        // The holder is stopped once its own first sync is done.
        for _ in 0..<400 where await holder.reconcilers["app"]?.status.lastSync == nil {
            try await Task.sleep(for: .milliseconds(50))
        }
        holding.cancel()
        _ = await holding.result
    }

    static func config(port: Int, repository: String) -> DaemonConfig {
        var config = DaemonConfig()
        config.server.port = port
        config.applications = [DaemonConfig.Application(name: "app", repository: repository)]
        return config
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
