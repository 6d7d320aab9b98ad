import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import WindlassTesting

/// A `windlass serve` process, its log, and HTTP calls to it.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let log: String
    private(set) var port = 0
    /// The API token of the config, for reads (they need one once tokens are configured).
    let readToken: String?

    init(_ arguments: [String], log: String, in directory: String, environment: [String: String]) throws {
        self.log = log
        readToken = environment["WINDLASS_API_TOKEN"]
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: CLI.executable)
        process.arguments = ["serve"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // One handle for both, so their writes share an offset instead of overwriting each other.
        let handle = FileHandle(forWritingAtPath: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var text: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits for the "listening" line and reads the port from it.
    func waitForListening(timeout: Double = 120) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let match = text.firstMatch(of: /listening"?,? ?"?address"?[=:]"?127\.0\.0\.1:(\d+)/) {
                port = Int(match.1)!
                return
            }
            guard process.isRunning else { throw ServeError(message: "serve exited: \(text)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServeError(message: "serve did not listen: \(text)")
    }

    func request(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let collected = try await response.body.collect(upTo: 4 << 20)
        return (Int(response.status.code), String(buffer: collected))
    }

    /// A GET with the config's token, when it has one.
    func read(_ path: String) async throws -> (status: Int, body: String) {
        try await request(.GET, path, headers: readToken.map { [("Authorization", "Bearer \($0)")] } ?? [])
    }

    func application(_ name: String) async throws -> [String: Any] {
        let (status, body) = try await read("/api/v1/applications/\(name)")
        guard status == 200, let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
            throw ServeError(message: "GET /api/v1/applications/\(name): \(status) \(body)")
        }
        return object
    }

    /// Polls until `condition` holds for the application, returning how long it took.
    func waitFor(_ name: String, timeout: Double, _ condition: ([String: Any]) -> Bool) async throws -> Double {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if condition(try await application(name)) { return Date().timeIntervalSince(start) }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ServeError(message: "timed out waiting for \(name): \(try await application(name))\n\(text)")
    }

    /// SIGTERM, and the exit status once it stops (nil: still running after `timeout`).
    func terminate(timeout: Double = 10) async throws -> (status: Int32?, seconds: Double) {
        try await WindlassTesting.terminate(process, timeout: timeout)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

struct ServeError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A repository served by `git daemon`, with a work tree that pushes to it.
struct ServedRepository {
    let work: GitFixture
    let served: TemporaryDirectory
    let daemon: GitDaemon

    /// The first commit, served from the start.
    let initial: String

    init() throws {
        work = try GitFixture()
        served = try TemporaryDirectory()
        try work.write("manifests/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
        try work.write("manifests/settings.yaml", Self.settings("v1"))
        initial = try work.commit("v1")
        _ = try run("git", ["clone", "-q", "--bare", work.path, served.path + "/cloud.git"])
        _ = try work.git(["remote", "add", "served", served.path + "/cloud.git"])
        daemon = try GitDaemon(base: served.path)
    }

    static func settings(_ version: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {version: \(version)}\n"
    }

    var url: String { daemon.url("cloud.git") }

    /// Writes a manifest, commits it and pushes it; returns the commit.
    func publish(_ path: String, _ text: String, message: String) throws -> String {
        try work.write(path, text)
        let sha = try work.commit(message)
        try work.git(["push", "-q", "served", "HEAD:main"])
        return sha
    }

    /// Commits a new version of the settings ConfigMap and pushes it; returns the commit.
    func release(_ version: String) throws -> String {
        try publish("manifests/settings.yaml", Self.settings(version), message: version)
    }
}

@Suite("windlass serve, end to end", .serialized)
struct ServeTests {
    static let secret = "webhook-secret-for-tests"
    static let token = "api-token-for-tests"

    static func config(_ repo: ServedRepository, extra: String = "") -> String {
        """
        apiVersion: windlass.dev/v1
        kind: Config
        server:
          listen: 127.0.0.1:0
          apiTokens: [{env: WINDLASS_API_TOKEN}]
          webhooks:
            github: {secret: {env: WINDLASS_WEBHOOK_SECRET}}
            generic: {secret: {env: WINDLASS_WEBHOOK_SECRET}}
        applications:
          - name: cloud
            source: {repo: "\(repo.url)", ref: main, path: manifests}
            destination: {cluster: embedded, namespace: shop}
            syncPolicy: {automated: true, prune: true}
            interval: 1h
        \(extra)
        """
    }

    static func signature(_ body: [UInt8]) -> String {
        let mac = hmacSHA256(key: Array(secret.utf8), message: body)
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    func start(_ repo: ServedRepository, state: TemporaryDirectory, extra: String = "", log: String = "serve.log", arguments: [String] = []) async throws -> ServeProcess {
        _ = try state.write("windlass.yaml", Self.config(repo, extra: extra))
        let serve = try ServeProcess(
            ["--config", "windlass.yaml", "--state-dir", state.path + "/state"] + arguments, log: state.path + "/" + log, in: state.path,
            environment: ["WINDLASS_API_TOKEN": Self.token, "WINDLASS_WEBHOOK_SECRET": Self.secret])
        try await serve.waitForListening()
        return serve
    }

    @Test("the config's clusters.embedded.api serves the daemon's cluster to kubectl, in the same process")
    func kubeAPIBesideDaemon() async throws {
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let state = try TemporaryDirectory()
        let serve = try await start(repo, state: state, extra: "clusters:\n  embedded:\n    api: {listen: 127.0.0.1:0}\n")
        _ = try await serve.waitFor("cloud", timeout: 90) { $0["syncedRevision"] as? String == repo.initial }
        let line = try #require(serve.text.firstMatch(of: /serving the Kubernetes API on (https:\/\/127\.0\.0\.1:\d+)/), "\(serve.text)")
        _ = line
        let kubeconfig = state.path + "/state/kubeconfig"
        let got = try WindlassTesting.run(
            "/usr/lib/google-cloud-sdk/bin/kubectl.1.33", ["--kubeconfig", kubeconfig, "--cache-dir", state.path + "/cache", "get", "cm", "settings", "-n", "shop", "-o", "jsonpath={.data.version}"],
            check: false)
        #expect(got.stdout == "v1", "\(got.stderr)")
        let stopped = try await serve.terminate()
        #expect(stopped.status == 0)
    }

    @Test("a signed push webhook syncs the new commit within 2 s; a bad signature is 401 and fetches nothing; a replay fetches nothing; SIGTERM exits 0")
    func webhook() async throws {
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let state = try TemporaryDirectory()
        let serve = try await start(repo, state: state)
        let first = repo.initial
        _ = try await serve.waitFor("cloud", timeout: 90) { $0["syncedRevision"] as? String == first }
        #expect(try await serve.request(.GET, "/readyz").status == 200)

        let second = try repo.release("v2")
        let body = Array(#"{"ref": "refs/heads/main", "repository": {"clone_url": "\#(repo.url)"}}"#.utf8)
        let before = try await serve.application("cloud")["fetches"] as? Int ?? 0

        // A bad signature: 401, and nothing is fetched.
        let forged = try await serve.request(
            .POST, "/api/v1/webhooks/github", headers: [("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "d-0"), ("X-Hub-Signature-256", "sha256=" + String(repeating: "0", count: 64))],
            body: body)
        #expect(forged.status == 401)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await serve.application("cloud")["fetches"] as? Int == before)

        let signed = try await serve.request(
            .POST, "/api/v1/webhooks/github", headers: [("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "d-1"), ("X-Hub-Signature-256", Self.signature(body))],
            body: body)
        #expect(signed.status == 202 && signed.body.contains("\"cloud\""), "\(signed)")
        let seconds = try await serve.waitFor("cloud", timeout: 10) { $0["syncedRevision"] as? String == second }
        #expect(seconds <= 2, "synced \(seconds) s after the webhook")
        let app = try await serve.application("cloud")
        #expect(app["syncStatus"] as? String == "Synced")
        let fetched = app["fetches"] as? Int ?? 0

        // The same delivery again: acknowledged, nothing fetched.
        let replay = try await serve.request(
            .POST, "/api/v1/webhooks/github", headers: [("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "d-1"), ("X-Hub-Signature-256", Self.signature(body))],
            body: body)
        #expect(replay.status == 200 && replay.body.contains("replayed"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await serve.application("cloud")["fetches"] as? Int == fetched)

        // Mutations need the token; so do reads, once tokens are configured.
        #expect(try await serve.request(.POST, "/api/v1/applications/cloud/sync").status == 401)
        #expect(try await serve.request(.GET, "/api/v1/applications/cloud").status == 401)
        #expect(try await serve.request(.POST, "/api/v1/applications/cloud/sync", headers: [("Authorization", "Bearer \(Self.token)")]).status == 202)
        // The daemon runs no CLI code: there is no route for it.
        #expect(try await serve.request(.POST, "/api/v1/cli", headers: [("Authorization", "Bearer \(Self.token)")]).status == 404)

        let metrics = try await serve.request(.GET, "/metrics")
        #expect(metrics.body.contains("windlass_app_info{name=\"cloud\",sync_status=\"Synced\""), "\(metrics.body.prefix(2000))")
        #expect(metrics.body.contains("windlass_webhook_requests_total{provider=\"github\",outcome=\"unauthorized\"} 1"))

        let (status, elapsed) = try await serve.terminate()
        #expect(status == 0, "\(serve.text)")
        #expect(elapsed < 10)
        #expect(serve.text.contains("msg") || serve.text.contains("sync finished"))
    }

    @Test("bad webhook input: oversized, not JSON, unknown events, unconfigured providers; nothing is fetched")
    func badWebhooks() async throws {
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let state = try TemporaryDirectory()
        let serve = try await start(repo, state: state)
        _ = try await serve.waitFor("cloud", timeout: 90) { ($0["fetches"] as? Int ?? 0) >= 1 }
        let before = try await serve.application("cloud")["fetches"] as? Int ?? 0
        let huge = [UInt8](repeating: UInt8(ascii: "a"), count: 2 << 20)
        #expect(try await serve.request(.POST, "/api/v1/webhooks/github", headers: [("X-GitHub-Event", "push")], body: huge).status == 413)
        let junk = Array("{not json".utf8)
        #expect(try await serve.request(.POST, "/api/v1/webhooks/generic", headers: [("X-Windlass-Signature-256", Self.signature(junk))], body: junk).status == 400)
        let issue = Array(#"{"action": "opened"}"#.utf8)
        let ignored = try await serve.request(.POST, "/api/v1/webhooks/github", headers: [("X-GitHub-Event", "issues"), ("X-Hub-Signature-256", Self.signature(issue))], body: issue)
        #expect(ignored.status == 202 && ignored.body.contains("not a push"))
        #expect(try await serve.request(.POST, "/api/v1/webhooks/gitlab", headers: [("X-Gitlab-Token", Self.secret)], body: issue).status == 404)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await serve.application("cloud")["fetches"] as? Int == before)
        #expect(try await serve.terminate().status == 0)
    }

    @Test("drift made with `windlass cluster scale` (beside the daemon, through its Kubernetes API) is found on schedule and healed")
    func driftSelfHeal() async throws {
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let head = try repo.publish("manifests/web.yaml", Self.web(image: "registry.example/web:1.0"), message: "web")
        let state = try TemporaryDirectory()
        let serve = try await start(repo, state: state, extra: "    drift: {interval: 1s, selfHeal: true}")
        _ = try await serve.waitFor("cloud", timeout: 90) { $0["syncedRevision"] as? String == head && $0["health"] as? String == "Healthy" }

        // The CLI beside the daemon: the state directory's lock is the daemon's, so the command
        // reaches the cluster through the daemon's Kubernetes API.
        let scale = try CLI.run(["cluster", "scale", "deployment/web", "--replicas", "5", "-n", "shop", "--state-dir", state.path + "/state"], in: state.path)
        #expect(scale.status == 0, "\(scale.stdout)\(scale.stderr)")
        #expect(scale.stdout == "deployment.apps/web scaled\n")
        _ = try await serve.waitFor("cloud", timeout: 15) { _ in serve.text.contains("msg=drift") || serve.text.contains("INFO drift ") }
        #expect(serve.text.contains("resource=apps/Deployment/shop/web"), "\(serve.text)")
        let drift = try await serve.read("/api/v1/applications/cloud/drift")
        #expect(drift.status == 200)
        // Healed: a self-heal sync puts the replicas back to the manifest's 2.
        let deadline = Date().addingTimeInterval(20)
        var replicas = ""
        while Date() < deadline {
            replicas = try CLI.run(["cluster", "get", "deployment", "web", "-n", "shop", "-o", "json", "--state-dir", state.path + "/state"], in: state.path).stdout
            if replicas.contains("\"replicas\": 2") || replicas.contains("\"replicas\":2") { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(replicas.contains("\"replicas\": 2") || replicas.contains("\"replicas\":2"), "\(replicas)")
        #expect(serve.text.contains("trigger=self-heal"))
        let history = try CLI.run(["history", "--state-dir", state.path + "/state", "--app", "cloud"], in: state.path)
        #expect(history.status == 0 && history.stdout.contains("self-heal"), "\(history.stdout)\(history.stderr)")
        #expect(try await serve.terminate().status == 0)
        // The daemon gone, the CLI opens the state directory itself again.
        #expect(try CLI.run(["history", "--state-dir", state.path + "/state", "--app", "cloud"], in: state.path).status == 0)
    }

    /// A Deployment of two pods that start at once.
    static func web(image: String) -> String {
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
              annotations: {sim.windlass.dev/start-seconds: "0"}
            spec:
              containers: [{name: web, image: "\(image)"}]
        """
    }

    @Test("the CLI beside a daemon runs in its own process: objects through the daemon's Kubernetes API, nodes and metrics through its HTTP API, plans and history as without it")
    func cliBesideDaemon() async throws {
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let head = try repo.publish("manifests/web.yaml", Self.web(image: "registry.example/web:1.0"), message: "web")
        let state = try TemporaryDirectory()
        let serve = try await start(repo, state: state)
        _ = try await serve.waitFor("cloud", timeout: 90) { $0["syncedRevision"] as? String == head && $0["health"] as? String == "Healthy" }
        let stateDir = state.path + "/state"
        func windlass(_ arguments: [String]) throws -> CommandResult { try CLI.run(arguments + ["--state-dir", stateDir], in: state.path) }

        let pods = try windlass(["cluster", "get", "pods", "-n", "shop"])
        #expect(pods.status == 0 && pods.stdout.hasPrefix("NAME") && pods.stdout.contains("web-"), "\(pods.stdout)\(pods.stderr)")
        let nodes = try windlass(["cluster", "nodes"])
        #expect(nodes.status == 0 && nodes.stdout.contains("node-1"), "\(nodes.stdout)\(nodes.stderr)")
        // What only the embedded cluster does goes to the daemon's HTTP API.
        let failed = try windlass(["cluster", "fail-node", "node-1", "--grace-period", "1"])
        #expect(failed.status == 0, "\(failed.stdout)\(failed.stderr)")
        let notReady = try windlass(["cluster", "get", "node", "node-1", "-o", "json"])
        #expect(notReady.stdout.contains("NodeStatusUnknown"), "\(notReady.stdout)")
        #expect(try windlass(["cluster", "recover-node", "node-1"]).status == 0)
        let unknown = try windlass(["cluster", "fail-node", "node-99"])
        #expect(unknown.status == 2 && unknown.stderr.contains("node-99"), "\(unknown.stderr)")
        let metrics = try windlass(["cluster", "metrics"])
        #expect(metrics.status == 0 && metrics.stdout.contains("# TYPE"), "\(metrics.stdout.prefix(500))\(metrics.stderr)")
        let again = try windlass(["cluster", "init"])
        #expect(again.status == 2 && again.stderr.contains("already has 3 nodes"), "\(again.stderr)")
        // A plan of the same manifests (as the daemon's own application) reads the daemon's cluster: nothing to do.
        let plan = try CLI.run(
            ["plan", "--source", repo.url, "--ref", "main", "--path", "manifests", "--app", "cloud", "-n", "shop", "--state-dir", stateDir, "--no-policies"],
            in: state.path)
        #expect(plan.status == 0 && plan.stdout.contains("No changes"), "\(plan.stdout)\(plan.stderr)")
        let history = try CLI.run(["history", "--app", "cloud", "--state-dir", stateDir], in: state.path)
        #expect(history.status == 0 && history.stdout.contains("deployed"), "\(history.stdout)\(history.stderr)")
        // None of it ran in the daemon: its log names no CLI command.
        #expect(!serve.text.contains("msg=cli") && !serve.text.contains(" cli "), "\(serve.text)")
        #expect(try await serve.terminate().status == 0)
    }

    @Test("/metrics passes promtool check metrics")
    func promtool() async throws {
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let state = try TemporaryDirectory()
        let serve = try await start(repo, state: state)
        _ = try await serve.waitFor("cloud", timeout: 90) { $0["syncedRevision"] is String }
        let metrics = try await serve.request(.GET, "/metrics")
        let file = try state.write("metrics.txt", metrics.body)
        let checked = try run("/bin/sh", ["-c", "promtool check metrics < \"$0\"", file], check: false)
        // promtool prints lint findings (such as missing HELP) and exits non-zero on errors.
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(metrics.body.contains("windlass_git_fetch_duration_seconds_bucket{name=\"cloud\""))
        #expect(metrics.body.contains("windlass_reconcile_duration_seconds_count{name=\"cloud\"}"))
        #expect(try await serve.terminate().status == 0)
    }

    @Test("1,000 signed webhooks in under 10 s: each answered, coalesced into few fetches, the API responsive, the last push synced")
    func webhookLoad() async throws {
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let state = try TemporaryDirectory()
        let serve = try await start(repo, state: state)
        _ = try await serve.waitFor("cloud", timeout: 90) { $0["syncedRevision"] is String }
        let before = try await serve.application("cloud")["fetches"] as? Int ?? 0
        let last = try repo.release("v9")
        let body = Array(#"{"repository": "\#(repo.url)"}"#.utf8)
        let signature = Self.signature(body)
        let start = Date()
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for worker in 0..<20 {
                group.addTask {
                    var out: [Int] = []
                    for i in 0..<50 {
                        let response = try await serve.request(
                            .POST, "/api/v1/webhooks/generic", headers: [("X-Windlass-Signature-256", signature), ("X-Windlass-Delivery", "load-\(worker)-\(i)")],
                            body: body)
                        out.append(response.status)
                    }
                    return out
                }
            }
            var all: [Int] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(statuses.count == 1_000 && statuses.allSatisfy { $0 == 202 }, "\(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
        #expect(elapsed < 10, "\(elapsed) s")
        let probe = Date()
        _ = try await serve.application("cloud")
        #expect(Date().timeIntervalSince(probe) < 1)
        _ = try await serve.waitFor("cloud", timeout: 10) { $0["syncedRevision"] as? String == last }
        let fetches = (try await serve.application("cloud")["fetches"] as? Int ?? 0) - before
        #expect(fetches >= 1 && fetches < 100, "\(fetches) fetches for 1,000 webhooks")
        #expect(try await serve.terminate().status == 0)
    }

    @Test("SIGTERM in the middle of a canary: exit 0 within 10 s; a restart resumes the same revision at the same step")
    func canaryAcrossRestart() async throws {
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let v1 = try repo.publish("manifests/web.yaml", Self.canary(image: "registry.example/web:1.0", pause: "{duration: 12s}"), message: "web 1.0")
        let state = try TemporaryDirectory()
        let stateDir = state.path + "/state"
        var serve = try await start(repo, state: state)
        _ = try await serve.waitFor("cloud", timeout: 90) { $0["syncedRevision"] as? String == v1 }

        let v2 = try repo.publish("manifests/web.yaml", Self.canary(image: "registry.example/web:2.0", pause: "{duration: 12s}"), message: "web 2.0")
        #expect(try await serve.request(.POST, "/api/v1/applications/cloud/sync", headers: [("Authorization", "Bearer \(Self.token)")]).status == 202)
        // The daemon runs no CLI code: there is no route for it.
        #expect(try await serve.request(.POST, "/api/v1/cli", headers: [("Authorization", "Bearer \(Self.token)")]).status == 404)
        // In the pause (step 2 of 3): the status, through the daemon.
        var status = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            status = try CLI.run(["rollout", "status", "web", "-n", "shop", "--app", "cloud", "--state-dir", stateDir], in: state.path).stdout
            if status.contains("Step:         2/3") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status.contains("Step:         2/3"), "\(status)\n\(serve.text)")
        let started = status.split(separator: "\n").first { $0.contains("Step started:") }
        let (code, seconds) = try await serve.terminate()
        #expect(code == 0, "\(serve.text)")
        #expect(seconds < 10, "stopped in \(seconds) s")
        // The stop is logged, and the canary takes no step after it.
        let afterStop = serve.text.components(separatedBy: "stopping").dropFirst().joined()
        #expect(serve.text.contains("INFO stopping"), "\(serve.text)")
        #expect(!afterStop.contains("step=3/3"), "a step after the stop:\n\(serve.text)")
        // The sync says why it paused: the stop, not a canary waiting.
        #expect(afterStop.contains("the next start goes on from here") && !afterStop.contains("a canary waits"), "\(serve.text)")

        // The state directory is free again; the restarted daemon resumes the same revision.
        let paused = try CLI.run(["rollout", "status", "web", "-n", "shop", "--app", "cloud", "--state-dir", stateDir], in: state.path).stdout
        #expect(paused.contains("Step:         2/3"), "\(paused)")
        #expect(paused.split(separator: "\n").first { $0.contains("Step started:") } == started, "the pause keeps its start time")
        serve = try await start(repo, state: state, log: "serve-2.log")
        _ = try await serve.waitFor("cloud", timeout: 60) { $0["syncedRevision"] as? String == v2 }
        let history = try CLI.run(["history", "--app", "cloud", "--state-dir", stateDir], in: state.path).stdout
        let rows = history.split(separator: "\n").dropFirst()
        #expect(rows.count == 2, "two revisions, the second resumed rather than a third:\n\(history)")
        #expect(rows.last?.contains("deployed") == true, "\(history)")
        #expect(!serve.text.contains("step=1/3"), "step 1 is not run again:\n\(serve.text)")
        #expect(try await serve.terminate().status == 0)
    }

    /// `web` released through a canary: half the pods, a pause, then all.
    static func canary(image: String, pause: String) -> String {
        web(image: image) + """

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
              - setWeight: 100
        """
    }

    @Test("the API: history, plan, rollback (auto-sync pinned until a manual sync), and promote of a paused canary")
    func api() async throws {
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let v1 = try repo.publish("manifests/web.yaml", Self.canary(image: "registry.example/web:1.0", pause: "{}"), message: "web 1.0")
        let state = try TemporaryDirectory()
        let serve = try await start(repo, state: state)
        let auth = [("Authorization", "Bearer \(Self.token)")]
        _ = try await serve.waitFor("cloud", timeout: 90) { $0["syncedRevision"] as? String == v1 }

        // A release whose canary pauses until promoted.
        let v2 = try repo.publish("manifests/web.yaml", Self.canary(image: "registry.example/web:2.0", pause: "{}"), message: "web 2.0")
        #expect(try await serve.request(.POST, "/api/v1/applications/cloud/plan", body: Array("{}".utf8)).status == 401, "a plan is work: it needs a token")
        let plan = try await serve.request(.POST, "/api/v1/applications/cloud/plan", headers: auth, body: Array("{}".utf8))
        #expect(plan.status == 200 && plan.body.contains("\"resource_changes\"") && plan.body.contains("registry.example/web:2.0"), "\(plan.body.prefix(300))")
        #expect(!plan.body.contains("\"forecast\""), "a forecast only when asked for")
        // The same plan with its forecast: the canary's steps on a twin, the pause assumed promoted.
        let forecasted = try await serve.request(.POST, "/api/v1/applications/cloud/plan", headers: auth, body: Array(#"{"forecast": true}"#.utf8))
        let forecast = try #require(
            (try JSONSerialization.jsonObject(with: Data(forecasted.body.utf8)) as? [String: Any])?["forecast"] as? [String: Any], "\(forecasted.body.prefix(500))")
        #expect(forecast["available"] as? Bool == true && forecast["fits"] as? Bool == true, "\(forecast)")
        let steps = (forecast["canary_steps"] as? [[String: Any]])?.compactMap { $0["summary"] as? String }
        #expect(steps == ["setWeight 50", "pause (until promoted)", "setWeight 100", "promote"], "\(forecast)")
        #expect(try await serve.request(.POST, "/api/v1/applications/cloud/plan", headers: auth, body: Array(#"{"forecast": "yes"}"#.utf8)).status == 400)
        #expect(try await serve.request(.POST, "/api/v1/applications/cloud/sync", headers: auth).status == 202)
        _ = try await serve.waitFor("cloud", timeout: 90) { ($0["lastSync"] as? [String: Any])?["outcome"] as? String == "paused" }
        let rollout = try await serve.application("cloud")["rollout"] as? String
        #expect(rollout == "apps/Deployment/shop/web step 2/3, weight 50%, Paused", "\(rollout ?? "nil")")
        #expect(try await serve.request(.GET, "/metrics").body.contains("windlass_rollout_phase{name=\"cloud\"} 2"))
        #expect(try await serve.request(.POST, "/api/v1/rollouts/shop/web/promote").status == 401)
        #expect(try await serve.request(.POST, "/api/v1/rollouts/shop/nothing/promote", headers: auth).status == 404)
        #expect(try await serve.request(.POST, "/api/v1/rollouts/shop/web/promote", headers: auth).status == 202)
        _ = try await serve.waitFor("cloud", timeout: 90) { $0["syncedRevision"] as? String == v2 }

        // Rollback to revision 1; auto-sync leaves the head alone until a manual sync.
        #expect(try await serve.request(.POST, "/api/v1/applications/cloud/rollback", headers: auth, body: Array(#"{"revision": 1}"#.utf8)).status == 202)
        _ = try await serve.waitFor("cloud", timeout: 90) { ($0["lastSync"] as? [String: Any])?["outcome"] as? String == "rolled back" }
        let deployment = try CLI.run(["cluster", "get", "deployment", "web", "-n", "shop", "-o", "yaml", "--state-dir", state.path + "/state"], in: state.path).stdout
        #expect(deployment.contains("image: registry.example/web:1.0"), "the rollback went straight to 1.0, no canary steps:\n\(deployment)")
        let history = try await serve.read("/api/v1/applications/cloud/history")
        #expect(history.status == 200 && history.body.contains("Rollback to 1"), "\(history.body)")
        let fetches = try await serve.application("cloud")["fetches"] as? Int ?? 0
        let body = Array(#"{"repository": "\#(repo.url)"}"#.utf8)
        _ = try await serve.request(.POST, "/api/v1/webhooks/generic", headers: [("X-Windlass-Signature-256", Self.signature(body))], body: body)
        _ = try await serve.waitFor("cloud", timeout: 10) { ($0["fetches"] as? Int ?? 0) > fetches }
        #expect(try await serve.application("cloud")["syncStatus"] as? String == "OutOfSync", "pinned: the head is not synced again")
        #expect(try await serve.request(.POST, "/api/v1/applications/cloud/sync", headers: auth).status == 202)
        // The manual sync releases 2.0 again, through its canary: paused until promoted.
        _ = try await serve.waitFor("cloud", timeout: 90) { ($0["lastSync"] as? [String: Any])?["outcome"] as? String == "paused" }
        #expect(serve.text.contains("trigger=manual"))
        #expect(try await serve.request(.POST, "/api/v1/rollouts/shop/web/promote", headers: auth).status == 202)
        _ = try await serve.waitFor("cloud", timeout: 90) { $0["syncedRevision"] as? String == v2 }
        // Paused twice (the release, and its second release); the rollback between them never.
        #expect(serve.text.components(separatedBy: "phase=Paused").count - 1 == 2, "\(serve.text)")
        #expect(try await serve.terminate().status == 0)
    }

    @Test("JSON logs: one object per line, numbers as numbers, booleans as booleans; the stop is logged")
    func jsonLogs() async throws {
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let state = try TemporaryDirectory()
        let serve = try await start(repo, state: state, arguments: ["--log-format", "json"])
        _ = try await serve.waitFor("cloud", timeout: 90) { $0["syncedRevision"] as? String == repo.initial }
        // A commit that does not load: its sync ends invalid, logged as a warning.
        let broken = try repo.publish("manifests/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n", message: "broken")
        let body = Array(#"{"repository": "\#(repo.url)"}"#.utf8)
        _ = try await serve.request(.POST, "/api/v1/webhooks/generic", headers: [("X-Windlass-Signature-256", Self.signature(body))], body: body)
        _ = try await serve.waitFor("cloud", timeout: 30) { ($0["lastSync"] as? [String: Any])?["revision"] as? String == broken }
        #expect(try await serve.terminate().status == 0)
        let records = serve.text.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
        #expect(records.count == serve.text.split(separator: "\n").count, "every line is a JSON object:\n\(serve.text)")
        let finished = try #require(records.first { $0["msg"] as? String == "sync finished" })
        #expect(finished["seconds"] is Double || finished["seconds"] is Int, "\(finished)")
        #expect(!(finished["seconds"] is String))
        #expect(finished["number"] == nil || finished["number"] is Int)
        let stages = records.filter { $0["msg"] as? String == "stage started" }
        #expect(!stages.isEmpty && stages.allSatisfy { $0["resources"] is Int }, "\(stages)")
        #expect(records.contains { $0["msg"] as? String == "stopping" })
        let invalid = records.first { $0["msg"] as? String == "sync finished" && $0["outcome"] as? String == "invalid" }
        #expect(invalid?["level"] as? String == "warning", "\(String(describing: invalid))")
    }

    @Test("an invalid config: located errors, exit 2, nothing started")
    func invalidConfig() throws {
        let state = try TemporaryDirectory()
        _ = try state.write("windlass.yaml", "apiVersion: windlass.dev/v1\nkind: Config\nserver:\n  listen: nowhere\napplications:\n  - name: a\n")
        let result = try CLI.run(["serve", "--config", "windlass.yaml", "--state-dir", state.path + "/state"], in: state.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("windlass.yaml:4:11: error: server.listen \"nowhere\" is not HOST:PORT"), "\(result.stderr)")
        #expect(result.stderr.contains("windlass.yaml:6:5: error: application a needs a source"))
        #expect(!FileManager.default.fileExists(atPath: state.path + "/state"))

        // An absolute path, as a systemd unit gives it, from another working directory.
        let elsewhere = try TemporaryDirectory()
        let absolute = try CLI.run(["serve", "--config", state.path + "/windlass.yaml", "--state-dir", state.path + "/state"], in: elsewhere.path)
        #expect(absolute.status == 2)
        #expect(absolute.stderr.contains(state.path + "/windlass.yaml:4:11: error: server.listen"), "\(absolute.stderr)")
        let missing = try CLI.run(["serve", "--config", state.path + "/nothing.yaml", "--state-dir", state.path + "/state"], in: elsewhere.path)
        #expect(missing.status != 0 && missing.stderr.contains(state.path + "/nothing.yaml: cannot read file: No such file or directory"), "\(missing.stderr)")
    }
}

/// Signs as GitHub does, with Python's hmac module: independent of the daemon's own HMAC.
func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    let script = "import hmac, hashlib, sys; sys.stdout.write(hmac.new(bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), hashlib.sha256).hexdigest())"
    let digest = Array(((try? run("python3", ["-c", script, hex(key), hex(message)]))?.stdout ?? "").utf8)
    return stride(from: 0, to: digest.count - 1, by: 2).map { UInt8(String(decoding: digest[$0...$0 + 1], as: UTF8.self), radix: 16)! }
}
