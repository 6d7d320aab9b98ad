import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization
import HummingbirdTesting
import Testing
import WindlassCluster
import WindlassManifest
import WindlassPipeline
import WindlassRollout
import WindlassTesting
@testable import WindlassServer

/// The daemon's HTTP API through Hummingbird's router test framework: no socket, no process;
/// the applications' pipelines run over ``MemoryCluster``.
struct RouteBed {
    let state: TemporaryDirectory
    let daemon: Daemon
    static let token = "route-test-token"
    static let readToken = "route-read-token"

    init(host: String = "127.0.0.1", anonymousReads: Bool = true) throws {
        state = try TemporaryDirectory()
        let tokenFile = try state.write("token", Self.token + "\n")
        let secretFile = try state.write("secret", "hook-secret")
        let readFile = try state.write("read-token", Self.readToken + "\n")
        var config = DaemonConfig()
        config.server.host = host
        config.server.anonymousLoopbackReads = anonymousReads
        config.server.apiTokens = [.file(tokenFile)]
        config.server.readOnlyTokens = [.file(readFile)]
        config.server.webhooks = ["github": .file(secretFile)]
        config.applications = [DaemonConfig.Application(name: "shop", repository: state.path + "/nowhere")]
        let clock = VirtualClock()
        let connection = ClusterConnection(
            backend: MemoryCluster(), driver: SyncDriverFactory.manual(clock), displayName: "the memory cluster")
        daemon = try Daemon(
            options: Daemon.Options(config: config, stateDirectory: state.path, log: DaemonLog(format: .text, level: .error)),
            cluster: DaemonCluster(connection: connection))
    }

    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let application = Application(router: daemon.router())
        try await application.test(.router, body)
    }
}

final class VirtualClock: Sendable {
    private let time = Mutex(1_800_000_000.0)
    var now: Double { time.withLock { $0 } }
    func pass(_ seconds: Double) { time.withLock { $0 += seconds } }
}

enum SyncDriverFactory {
    static func manual(_ clock: VirtualClock) -> SyncDriver { SyncDriver(now: { clock.now }, pass: { clock.pass($0) }) }
}

/// A response body as a JSON object (empty when it is not one).
func json(_ buffer: ByteBuffer) -> [String: Any] {
    ((try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any]) ?? [:]
}

@Suite("The daemon's routes")
struct RouteTests {
    @Test("an application before its first fetch: every field present, absent values null, status Unknown")
    func applications() async throws {
        let bed = try RouteBed()
        try await bed.test { client in
            try await client.execute(uri: "/api/v1/applications", method: .get) { response in
                #expect(response.status == .ok)
                let apps = json(response.body)["applications"] as? [[String: Any]]
                let app = apps?.first ?? [:]
                #expect(app["name"] as? String == "shop")
                #expect(app["syncStatus"] as? String == "Unknown" && app["health"] as? String == "Unknown")
                #expect(app["syncedRevision"] is NSNull && app["lastSync"] is NSNull && app["rollout"] is NSNull)
                #expect((app["destination"] as? [String: Any])?["cluster"] as? String == "embedded")
            }
            try await client.execute(uri: "/api/v1/applications/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(json(response.body)["error"] as? String == "no application nope")
            }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test("writes need a bearer token; a bad rollback body is refused; reads are open on loopback")
    func authentication() async throws {
        let bed = try RouteBed()
        try await bed.test { client in
            try await client.execute(uri: "/api/v1/applications/shop/sync", method: .post) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/applications/shop/sync", method: .post, headers: [.authorization: "Bearer wrong"]) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/api/v1/applications/shop/sync", method: .post, headers: [.authorization: "Bearer \(RouteBed.token)"]) {
                #expect($0.status == .accepted)
                #expect(json($0.body)["sync"] as? String == "queued")
            }
            try await client.execute(
                uri: "/api/v1/applications/shop/rollback", method: .post, headers: [.authorization: "Bearer \(RouteBed.token)"],
                body: ByteBuffer(string: #"{"revision": "three"}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(json(response.body)["error"] as? String == "revision must be a revision number")
            }
            try await client.execute(
                uri: "/api/v1/applications/shop/rollback", method: .post, headers: [.authorization: "Bearer \(RouteBed.token)"],
                body: ByteBuffer(string: #"{"revision": 2}"#)
            ) { response in
                #expect(response.status == .accepted)
                #expect(json(response.body)["rollback"] as? Int == 2)
            }
            try await client.execute(uri: "/api/v1/rollouts/shop/web/promote", method: .post) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/rollouts/shop/web/dance", method: .post, headers: [.authorization: "Bearer \(RouteBed.token)"]) {
                #expect($0.status == .notFound)
            }
            // The daemon runs no CLI code: the CLI beside it calls these routes and the cluster's API.
            try await client.execute(uri: "/api/v1/cli", method: .post, headers: [.authorization: "Bearer \(RouteBed.token)"]) {
                #expect($0.status == .notFound)
            }
            // Node operations are writes, and only the embedded cluster has them.
            try await client.execute(uri: "/api/v1/cluster/nodes/node-1/fail", method: .post) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/cluster/nodes/node-1/fail", method: .post, headers: [.authorization: "Bearer \(RouteBed.readToken)"]) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/cluster/nodes/node-1/fail", method: .post, headers: [.authorization: "Bearer \(RouteBed.token)"]) { response in
                #expect(response.status == .notFound)
                #expect(json(response.body)["error"] as? String == "the memory cluster runs its own nodes: fail, recover and uncordon them there")
            }
        }
    }

    @Test("a rollback or plan body that cannot be read whole is 400 or 413 and queues nothing")
    func unreadableBodies() async throws {
        let bed = try RouteBed()
        let reconciler = try #require(bed.daemon.reconcilers["shop"])
        let auth: HTTPFields = [.authorization: "Bearer \(RouteBed.token)"]
        try await bed.test { client in
            try await client.execute(
                uri: "/api/v1/applications/shop/rollback", method: .post, headers: auth, body: ByteBuffer(string: #"{"revision": 2"#)
            ) { #expect($0.status == .badRequest) }
            let oversized = #"{"revision": 2, "padding": ""# + String(repeating: "x", count: 1_100_000) + #""}"#
            try await client.execute(uri: "/api/v1/applications/shop/rollback", method: .post, headers: auth, body: ByteBuffer(string: oversized)) {
                #expect($0.status == .contentTooLarge)
                #expect(json($0.body)["error"] as? String == "the body is larger than 1048576 bytes")
            }
            try await client.execute(uri: "/api/v1/applications/shop/plan", method: .post, headers: auth, body: ByteBuffer(string: oversized)) {
                #expect($0.status == .contentTooLarge)
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(await reconciler.queuedWork.isEmpty)
        // A good body is queued: the check above can fail.
        try await bed.test { client in
            try await client.execute(
                uri: "/api/v1/applications/shop/rollback", method: .post, headers: auth, body: ByteBuffer(string: #"{"revision": 2}"#)
            ) { #expect($0.status == .accepted) }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(await reconciler.queuedWork == [.rollback(2)])
    }

    @Test("a plan is work: it needs a token; with anonymousReads: none, loopback reads need one too")
    func planAndClosedReads() async throws {
        try await RouteBed().test { client in
            try await client.execute(uri: "/api/v1/applications/shop/plan", method: .post, body: ByteBuffer(string: "{}")) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/applications", method: .get) { #expect($0.status == .ok) }
        }
        try await RouteBed(anonymousReads: false).test { client in
            try await client.execute(uri: "/api/v1/applications", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/applications", method: .get, headers: [.authorization: "Bearer \(RouteBed.token)"]) { #expect($0.status == .ok) }
        }
    }

    @Test("off loopback, reads need a token too")
    func remoteReads() async throws {
        let bed = try RouteBed(host: "0.0.0.0")
        try await bed.test { client in
            try await client.execute(uri: "/api/v1/applications", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/applications", method: .get, headers: [.authorization: "Bearer \(RouteBed.token)"]) {
                #expect($0.status == .ok)
            }
            // Health and metrics stay open: probes and Prometheus carry no token.
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test("webhooks: a wrong signature is refused, an unconfigured provider is not found, a signed push triggers")
    func webhooks() async throws {
        let bed = try RouteBed()
        let body = #"{"repository": {"clone_url": "https://example.com/other.git"}}"#
        let signature = "sha256=" + HMACSHA256.mac(key: Array("hook-secret".utf8), message: Array(body.utf8)).map { String(format: "%02x", $0) }.joined()
        try await bed.test { client in
            try await client.execute(
                uri: "/api/v1/webhooks/github", method: .post, headers: [HTTPField.Name("X-Hub-Signature-256")!: "sha256=00", HTTPField.Name("X-GitHub-Event")!: "push"],
                body: ByteBuffer(string: body)
            ) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/webhooks/gitlab", method: .post, body: ByteBuffer(string: body)) { #expect($0.status == .notFound) }
            try await client.execute(
                uri: "/api/v1/webhooks/github", method: .post,
                headers: [HTTPField.Name("X-Hub-Signature-256")!: signature, HTTPField.Name("X-GitHub-Event")!: "push", HTTPField.Name("X-GitHub-Delivery")!: "d-1"],
                body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .accepted)
                // Another repository: nothing of this daemon's is triggered.
                #expect(json(response.body)["triggered"] as? [String] == [])
            }
            try await client.execute(
                uri: "/api/v1/webhooks/github", method: .post,
                headers: [HTTPField.Name("X-Hub-Signature-256")!: signature, HTTPField.Name("X-GitHub-Event")!: "push", HTTPField.Name("X-GitHub-Delivery")!: "d-1"],
                body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["replayed"] as? String == "d-1")
            }
            // The same signed body under a new delivery id (the id is not signed): still a replay.
            try await client.execute(
                uri: "/api/v1/webhooks/github", method: .post,
                headers: [HTTPField.Name("X-Hub-Signature-256")!: signature, HTTPField.Name("X-GitHub-Event")!: "push", HTTPField.Name("X-GitHub-Delivery")!: "d-2"],
                body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["replayed"] as? String == "d-2")
            }
        }
    }
}
