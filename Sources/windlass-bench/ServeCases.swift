import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import WindlassCore
import WindlassManifest
import WindlassServer
import WindlassTesting

/// The daemon's cases: push → synced through a signed webhook (the daemon in this process,
/// the repository behind a real `git daemon`), and an idle daemon tracking a large set.
enum ServeBench {
    static let secret = "bench-webhook-secret"

    /// Seconds from each webhook to the commit being synced, over `pushes` one-resource changes.
    static func pushToSynced(pushes: Int) async throws -> [Double] {
        let root = try TemporaryDirectory()
        let work = root.path + "/work"
        let environment = [
            "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "Bench",
            "GIT_COMMITTER_EMAIL": "bench@example.com", "GIT_CONFIG_NOSYSTEM": "1",
        ]
        func git(_ arguments: [String], in directory: String = work) throws -> String {
            try WindlassTesting.run("git", arguments, in: directory, environment: environment).stdout
        }
        func settings(_ version: Int) -> String {
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {version: \"\(version)\"}\n"
        }
        try FileManager.default.createDirectory(atPath: work + "/manifests", withIntermediateDirectories: true)
        try "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n".write(toFile: work + "/manifests/namespace.yaml", atomically: true, encoding: .utf8)
        try settings(0).write(toFile: work + "/manifests/settings.yaml", atomically: true, encoding: .utf8)
        _ = try git(["init", "-q", "-b", "main"])
        _ = try git(["add", "-A"])
        _ = try git(["commit", "-q", "-m", "v0"])
        _ = try git(["init", "-q", "--bare", "-b", "main", root.path + "/served/cloud.git"], in: root.path)
        _ = try git(["push", "-q", root.path + "/served/cloud.git", "HEAD:refs/heads/main"])
        let daemon = try GitDaemon(base: root.path + "/served")
        defer { daemon.stop() }

        setenv("WINDLASS_BENCH_WEBHOOK_SECRET", secret, 1)
        let text = """
            apiVersion: windlass.dev/v1
            kind: Config
            server:
              listen: 127.0.0.1:0
              webhooks: {generic: {secret: {env: WINDLASS_BENCH_WEBHOOK_SECRET}}}
            applications:
              - name: cloud
                source: {repo: "\(daemon.url("cloud.git"))", ref: main, path: manifests}
                destination: {namespace: shop}
                interval: 1h
            """
        guard let config = DaemonConfig.read(text, path: "bench.yaml").config else { fail("the bench's config does not read") }
        let state = root.path + "/state"
        let cluster = try EmbeddedCluster(stateDirectory: state)
        try await cluster.createNodes(count: 3, cpu: "8", memory: "32Gi")
        let server = try Daemon(options: Daemon.Options(config: config, stateDirectory: state, log: DaemonLog(format: .text, level: .error)), cluster: .embedded(cluster))
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let running = Task { try await server.run(onListening: { portContinuation.yield($0) }) }
        var portIterator = ports.makeAsyncIterator()
        guard let port = await portIterator.next() else { fail("the daemon did not listen") }

        func synced() async throws -> String? {
            let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/applications/cloud")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (try? YAMLReader.read(Array(buffer: body)).first?.root)?["syncedRevision"]?.stringValue
        }
        func waitFor(_ sha: String) async throws {
            let deadline = Date().addingTimeInterval(30)
            while try await synced() != sha {
                guard Date() < deadline else { fail("commit \(sha) was not synced within 30 s") }
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        try await waitFor(try git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines))

        let body = Array(#"{"repository": "\#(daemon.url("cloud.git"))"}"#.utf8)
        let signature = "sha256=" + HMACSHA256.mac(key: Array(secret.utf8), message: body).map { String(format: "%02x", $0) }.joined()
        var latencies: [Double] = []
        for version in 1...pushes {
            try settings(version).write(toFile: work + "/manifests/settings.yaml", atomically: true, encoding: .utf8)
            _ = try git(["commit", "-q", "-am", "v\(version)"])
            _ = try git(["push", "-q", root.path + "/served/cloud.git", "HEAD:refs/heads/main"])
            let sha = try git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
            let start = Date()
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/webhooks/generic")
            request.method = .POST
            request.headers.add(name: "X-Windlass-Signature-256", value: signature)
            request.headers.add(name: "X-Windlass-Delivery", value: "bench-\(version)")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            guard response.status.code == 202 else { fail("webhook answered \(response.status.code)") }
            try await waitFor(sha)
            latencies.append(Date().timeIntervalSince(start))
        }
        running.cancel()
        _ = await running.result
        return latencies
    }

    /// An idle daemon tracking a generated set of `resources` (synced before measuring), with
    /// its repository and state under `root`: its RSS and its CPU over `seconds`, as a share of
    /// one core. `restarted(root:)`, in a fresh process once this one has ended, measures the
    /// same daemon started again on the state it left.
    static func idle(resources: Int, seconds: Double, root: String) async throws -> (rssKiB: Int, cpu: Double, syncSeconds: Double) {
        let work = root + "/work"
        let environment = [
            "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "Bench",
            "GIT_COMMITTER_EMAIL": "bench@example.com", "GIT_CONFIG_NOSYSTEM": "1",
        ]
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let applications = (resources + 2) / 3
        _ = TreeGenerator.write(count: applications, to: work + "/manifests")
        let namespaces = (0..<((applications + 99) / 100)).map { "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-\($0)}\n" }
        TreeGenerator.writeFile(work + "/manifests/namespaces.yaml", namespaces.joined(separator: "---\n"))
        for arguments in [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "set"]] {
            try WindlassTesting.run("git", arguments, in: work, environment: environment)
        }
        let cluster = try EmbeddedCluster(stateDirectory: root + "/state")
        try await cluster.createNodes(count: 20, cpu: "64", memory: "256Gi")
        let (stop, syncSeconds) = try await runUntilSynced(root: root, cluster: cluster)
        // Settle, then measure.
        try await Task.sleep(for: .seconds(5))
        let before = cpuSeconds()
        let clock = Date()
        try await Task.sleep(for: .seconds(seconds))
        let cpu = (cpuSeconds() - before) / Date().timeIntervalSince(clock)
        let rss = currentRSSKiB()
        await stop()
        return (rss, cpu, syncSeconds)
    }

    /// The daemon of `idle`, started again on the state under `root` in this (fresh) process:
    /// its RSS once it has synced and settled, and the seconds from opening the state (which
    /// restores the cluster) to synced.
    static func restarted(root: String) async throws -> (rssKiB: Int, seconds: Double) {
        let started = Date()
        let cluster = try EmbeddedCluster(stateDirectory: root + "/state")
        let (stop, _) = try await runUntilSynced(root: root, cluster: cluster)
        let seconds = Date().timeIntervalSince(started)
        try await Task.sleep(for: .seconds(5))
        let rss = currentRSSKiB()
        await stop()
        return (rss, seconds)
    }

    /// Runs a daemon serving `root/work` on `cluster` until its application is synced and
    /// healthy; returns how to stop it and the seconds that took (start included).
    static func runUntilSynced(root: String, cluster: EmbeddedCluster) async throws -> (stop: @Sendable () async -> Void, seconds: Double) {
        let text = """
            apiVersion: windlass.dev/v1
            kind: Config
            server: {listen: "127.0.0.1:0"}
            applications:
              - name: fleet
                source: {repo: "\(root)/work", ref: main, path: manifests}
            """
        guard let config = DaemonConfig.read(text, path: "bench.yaml").config else { fail("the bench's config does not read") }
        let started = Date()
        let server = try Daemon(options: Daemon.Options(config: config, stateDirectory: root + "/state", log: DaemonLog(format: .text, level: .error)), cluster: .embedded(cluster))
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let running = Task { try await server.run(onListening: { portContinuation.yield($0) }) }
        var portIterator = ports.makeAsyncIterator()
        guard let port = await portIterator.next() else { fail("the daemon did not listen") }
        while true {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/applications/fleet"), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            let value = try? YAMLReader.read(Array(buffer: body)).first?.root
            if value?["syncStatus"]?.stringValue == "Synced" && value?["health"]?.stringValue == "Healthy" { break }
            if let error = value?["lastError"]?.stringValue { fail("the idle case's sync failed: \(error)") }
            guard Date().timeIntervalSince(started) < 600 else { fail("the idle case did not sync in 10 minutes") }
            try await Task.sleep(for: .milliseconds(500))
        }
        let seconds = Date().timeIntervalSince(started)
        return ({
            running.cancel()
            _ = await running.result
        }, seconds)
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// The resident set now, from /proc/self/statm.
    static func currentRSSKiB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
    }
}
