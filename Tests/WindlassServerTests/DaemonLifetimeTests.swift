import Foundation
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

    @Test("a body that trickles in is refused with 408 at the body deadline; the connection does not stay open", .timeLimit(.minutes(1)))
    func slowBody() async throws {
        let repository = try GitFixture()
        _ = try repository.write("manifests/cm.yaml", configMapYAML("settings"))
        _ = try repository.commit("one")
        let state = try TemporaryDirectory()
        let tokenFile = try state.write("token", "slow-test-token\n")
        var config = Self.config(port: 0, repository: repository.path)
        config.server.bodyTimeout = 1
        config.server.apiTokens = [.file(tokenFile)]
        let daemon = try Daemon(
            options: Daemon.Options(config: config, stateDirectory: state.path + "/state", log: DaemonLog(format: .text, level: .critical)),
            cluster: .embedded(try EmbeddedCluster(stateDirectory: state.path + "/state")))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let running = Task { try await daemon.run(onListening: { continuation.yield($0) }) }
        defer { running.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())

        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(connected == 0)
        let head = "POST /api/v1/applications/app/rollback HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer slow-test-token\r\nContent-Length: 100\r\n\r\n{"
        _ = head.withCString { send(fd, $0, strlen($0), 0) }
        let start = ContinuousClock.now
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        let answer = count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : ""
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
        #expect(ContinuousClock.now - start < .seconds(8))
        #expect(await daemon.reconcilers["app"]?.queuedWork.contains(.rollback(nil)) == false)
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
