import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Glibc
import NIOCore
import NIOSSL
import Synchronization
import WindlassManifest
import WindlassTesting

/// `windlass cluster serve` as a child process, measured through its HTTPS API: a LIST of
/// 10,000 pods (beside encoding the same objects in process, the floor), a write reaching
/// 100 watchers, the RSS 1,000 idle watches cost, and `kubectl apply --server-side` of 1,000
/// Deployments with the server's share of the CPU.
enum KubeAPIBench {
    struct Result {
        var pods = 0
        var listSeconds = 0.0
        var listBytes = 0
        var encodeFloor = 0.0
        var fanOutP50 = 0.0
        var fanOutP99 = 0.0
        var watchers = 0
        var idleWatches = 0
        var idleRSSDeltaKiB = 0
        var kubectlDeployments = 0
        var kubectlSeconds = 0.0
        var serverCPUSeconds = 0.0
    }

    /// A running `cluster serve`.
    struct Server: Sendable {
        let process: BackgroundProcess
        let url: String
        let token: String
        let client: HTTPClient
        var pid: Int32 { process.process.processIdentifier }
    }

    static func start(state: String, log: String) throws -> Server {
        let process = try BackgroundProcess(ProcessBench.windlass, ["cluster", "serve", "--state-dir", state, "--listen", "127.0.0.1:0"], logTo: log)
        var url = ""
        for _ in 0..<600 {
            if let text = try? String(contentsOfFile: log, encoding: .utf8), let match = text.firstMatch(of: /serving the Kubernetes API on (https:\/\/[0-9.:]+)/) {
                url = String(match.1)
                break
            }
            usleep(100_000)
        }
        guard !url.isEmpty else { fail("cluster serve did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")") }
        let tokens = (try? String(contentsOfFile: state + "/api/tokens", encoding: .utf8)) ?? ""
        let token = tokens.split(separator: "\n").first { $0.hasPrefix("admin ") }.map { String($0.dropFirst(6)) } ?? ""
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(state + "/api/ca.crt"))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 2_000)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        return Server(process: process, url: url, token: token, client: client)
    }

    static func request(_ server: Server, _ method: HTTPMethod, _ path: String, body: String? = nil, type: String = "application/json") async throws -> (Int, ByteBuffer) {
        var request = HTTPClientRequest(url: server.url + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(server.token)")
        if let body {
            request.headers.add(name: "Content-Type", value: type)
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await server.client.execute(request, timeout: .seconds(120))
        return (Int(response.status.code), try await response.body.collect(upTo: 1 << 30))
    }

    static func rssKiB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    /// User plus system CPU seconds of a process so far.
    static func cpuSeconds(_ pid: Int32) -> Double {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // utime and stime are fields 14 and 15 of the line; 12 and 13 after the command.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func run(apps: Int, watchers: Int, idleWatches: Int, runs: Int) async throws -> Result {
        let root = "/tmp/windlass-bench-kubeapi-\(getpid())"
        mkdir(root, 0o755)
        defer { Peers.removeTree(root) }
        var result = Result()

        // 1,000 Deployments × 10 replicas: 10,000 pods.
        let tree = root + "/apps"
        ProcessBench.writeApps(apps, to: tree)
        let state = root + "/state"
        _ = Peers.spawn([ProcessBench.windlass, "cluster", "init", "--state-dir", state, "--nodes", "20", "--cpu", "1000", "--memory", "4000Gi"])
        let (output, status, _) = Peers.spawn([ProcessBench.windlass, "cluster", "apply", "-f", tree, "--state-dir", state])
        guard status == 0 else { fail("cluster apply failed: \(output.suffix(400))") }
        let server = try start(state: state, log: root + "/serve.log")
        defer { server.process.stop() }

        // LIST of every pod, as JSON.
        var times: [Double] = []
        var body = ByteBuffer()
        for _ in 0..<max(3, runs) {
            let start = now()
            let (code, bytes) = try await request(server, .GET, "/api/v1/pods")
            times.append(now() - start)
            guard code == 200 else { fail("LIST pods: \(code)") }
            body = bytes
        }
        result.listSeconds = times.sorted()[times.count / 2]
        result.listBytes = body.readableBytes
        let text = String(buffer: body)
        guard let list = try JSONReader.read(text), let items = list["items"]?.sequenceValue else { fail("LIST pods: not a list") }
        result.pods = items.count
        var floors: [Double] = []
        for _ in 0..<max(3, runs) {
            let start = now()
            let encoded = JSONWriter().encode(list)
            floors.append(now() - start)
            if encoded.isEmpty { fail("empty encoding") }
        }
        result.encodeFloor = floors.sorted()[floors.count / 2]

        // A write reaching watchers: each watcher reads lines until it has seen every write.
        _ = try await request(server, .POST, "/api/v1/namespaces", body: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"watch"}}"#)
        _ = try await request(server, .POST, "/api/v1/namespaces/watch/configmaps", body: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"beat"},"data":{"n":"0"}}"#)
        let writes = 100
        let sent = SentTimes()
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            let ready = Counter()
            for _ in 0..<watchers {
                group.addTask {
                    // Watch from now: list for the version first.
                    let (_, listed) = try await Self.request(server, .GET, "/api/v1/namespaces/watch/configmaps")
                    let version = (try JSONReader.read(String(buffer: listed)))?[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
                    var watch = HTTPClientRequest(url: server.url + "/api/v1/namespaces/watch/configmaps?watch=1&resourceVersion=\(version)")
                    watch.headers.add(name: "Authorization", value: "Bearer \(server.token)")
                    let response = try await server.client.execute(watch, timeout: .seconds(300))
                    await ready.add()
                    var seen: [Double] = []
                    var pending = ""
                    for try await chunk in response.body {
                        let arrived = now()
                        pending += String(buffer: chunk)
                        while let newline = pending.firstIndex(of: "\n") {
                            let line = pending[..<newline]
                            pending = String(pending[pending.index(after: newline)...])
                            if let match = line.firstMatch(of: /"n":"(\d+)"/), let n = Int(match.1), n > 0, let at = sent.times.withLock({ $0[n] }) {
                                seen.append(arrived - at)
                            }
                        }
                        if seen.count >= writes { break }
                    }
                    return seen
                }
            }
            while await ready.value < watchers { try await Task.sleep(for: .milliseconds(20)) }
            for n in 1...writes {
                sent.times.withLock { $0[n] = now() }
                _ = try await request(server, .PATCH, "/api/v1/namespaces/watch/configmaps/beat", body: #"{"data":{"n":"\#(n)"}}"#, type: "application/merge-patch+json")
                try await Task.sleep(for: .milliseconds(10))
            }
            var all: [Double] = []
            for try await seen in group { all += seen }
            return all.sorted()
        }
        result.watchers = watchers
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)] }
        result.fanOutP50 = percentile(0.5)
        result.fanOutP99 = percentile(0.99)

        // Idle watches: the server's RSS before and after.
        let before = rssKiB(server.pid)
        let idle = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<idleWatches {
                    group.addTask {
                        var watch = HTTPClientRequest(url: server.url + "/api/v1/namespaces/watch/secrets?watch=1")
                        watch.headers.add(name: "Authorization", value: "Bearer \(server.token)")
                        let response = try await server.client.execute(watch, timeout: .seconds(600))
                        for try await _ in response.body {}
                    }
                }
                try await group.waitForAll()
            }
        }
        try await Task.sleep(for: .seconds(Double(idleWatches) / 100 + 5))
        result.idleWatches = idleWatches
        result.idleRSSDeltaKiB = rssKiB(server.pid) - before
        idle.cancel()

        // kubectl apply --server-side of the Deployments, into a fresh namespace.
        let kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"
        if access(kubectl, X_OK) == 0 {
            let second = root + "/apps2"
            ProcessBench.writeApps(apps, to: second)
            unlink(second + "/namespace.yaml")
            _ = try await request(server, .POST, "/api/v1/namespaces", body: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench2"}}"#)
            for file in (0..<apps).map({ second + "/" + ProcessBench.appName($0) + ".yaml" }) {
                let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
                TreeGenerator.writeFile(file, text.replacing("namespace: bench", with: "namespace: bench2").replacing("name: bench}", with: "name: bench2}"))
            }
            let cpuBefore = cpuSeconds(server.pid)
            let start = now()
            let (out, code, _) = Peers.spawn([kubectl, "--kubeconfig", state + "/kubeconfig", "--cache-dir", root + "/cache", "apply", "--server-side", "-f", second])
            result.kubectlSeconds = now() - start
            result.serverCPUSeconds = cpuSeconds(server.pid) - cpuBefore
            guard code == 0 else { fail("kubectl apply failed: \(out.suffix(400))") }
            result.kubectlDeployments = apps
        }
        try? await server.client.shutdown()
        return result
    }
}

/// When each write was sent, by its number.
final class SentTimes: Sendable {
    let times = Mutex<[Int: Double]>([:])
}

/// A count tasks wait on.
actor Counter {
    private(set) var value = 0
    func add() { value += 1 }
}
