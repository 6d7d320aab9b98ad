import Foundation
import Testing
import WindlassCluster
import WindlassKube
import WindlassManifest
import WindlassTesting

/// `Tests/Fixtures/kube-clients/fault_proxy.py` in front of a `windlass cluster serve`: plain
/// HTTP on 127.0.0.1 to the client, HTTPS to the server, faults switched on at will.
final class FaultProxy: @unchecked Sendable {
    let process: BackgroundProcess
    let port: Int
    let log: String

    init(server: KubeAPIProcess) async throws {
        let target = server.url.split(separator: ":").last.map(String.init) ?? ""
        log = server.state.path + "/proxy-\(UUID().uuidString.prefix(6)).log"
        process = try BackgroundProcess(
            "/usr/bin/python3", ["-u", repositoryRoot + "/Tests/Fixtures/kube-clients/fault_proxy.py", "127.0.0.1", target, server.stateDirectory + "/api/ca.crt"],
            logTo: log)
        var found: Int?
        for _ in 0..<200 where found == nil {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let match = text.firstMatch(of: /listening on (\d+)/) { found = Int(match.1) } else { try await Task.sleep(for: .milliseconds(25)) }
        }
        guard let found else { throw ServeError(message: "the fault proxy did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")") }
        port = found
    }

    /// Switches the fault mode.
    func mode(_ mode: String) throws {
        _ = try WindlassTesting.run("curl", ["-sS", "-X", "POST", "http://127.0.0.1:\(port)/__fault?mode=\(mode)"])
    }

    /// What the proxy counted.
    func stats() throws -> [String: Any] {
        let text = try WindlassTesting.run("curl", ["-sS", "http://127.0.0.1:\(port)/__stats"]).stdout
        return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    /// A kubeconfig that reaches the server through the proxy, with the admin token.
    func kubeconfig(_ server: KubeAPIProcess, in directory: TemporaryDirectory) throws -> String {
        let tokens = try String(contentsOfFile: server.stateDirectory + "/api/tokens", encoding: .utf8)
        let token = tokens.split(separator: "\n").first { $0.hasPrefix("admin ") }?.split(separator: " ").last ?? ""
        return try directory.write(
            "proxy-kubeconfig",
            """
            apiVersion: v1
            kind: Config
            current-context: proxied
            clusters: [{name: proxied, cluster: {server: "http://127.0.0.1:\(port)"}}]
            users: [{name: admin, user: {token: "\(token)"}}]
            contexts: [{name: proxied, context: {cluster: proxied, user: admin}}]
            """)
    }
}

@Suite("Kubernetes destinations under faults", .serialized)
struct KubeFaultTests {
    @Test("a sync through 429s (Retry-After) and 503s finishes, each object applied once; with the API down for 10 s it waits and finishes")
    func throttledAndDown() async throws {
        let server = try await KubeAPIProcess.start()
        let proxy = try await FaultProxy(server: server)
        let client = try TemporaryDirectory()
        let kubeconfig = try proxy.kubeconfig(server, in: client)
        let repository = try KubeDestinationTests.repository()
        func sync() throws -> CommandResult {
            try CLI.run(["sync", "--kubeconfig", kubeconfig, "--source", repository.path, "--state-dir", client.path, "--app", "shop"], in: client.path)
        }
        func generation() throws -> String {
            try server.kubectl("1.33", ["get", "deployment", "web", "-n", "shop", "-o", "jsonpath={.metadata.generation}"]).stdout
        }

        try proxy.mode("429")
        let first = try sync()
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(try generation() == "1")
        #expect((try proxy.stats()["injected"] as? Int ?? 0) > 3)

        try proxy.mode("503")
        _ = try repository.write("manifests/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: shop\ndata:\n  greeting: hi\n")
        _ = try repository.commit("greeting")
        let second = try sync()
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("configmap/web-config configured"), "\(second.stdout)")
        #expect(try generation() == "1")
        let greeting = try server.kubectl("1.33", ["get", "configmap", "web-config", "-n", "shop", "-o", "jsonpath={.data.greeting}"]).stdout
        #expect(greeting == "hi")

        // Down for 10 s: the sync waits for the server and then finishes.
        try proxy.mode("down")
        _ = try repository.write("manifests/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: shop\ndata:\n  greeting: hey\n")
        _ = try repository.commit("greeting again")
        // On a thread of its own: the sync below blocks this task, and under load the
        // cooperative pool may have no other thread free.
        DispatchQueue.global().asyncAfter(deadline: .now() + 10) { try? proxy.mode("none") }
        let started = Date()
        let third = try sync()
        #expect(third.status == 0, "\(third.stdout)\(third.stderr)")
        #expect(Date().timeIntervalSince(started) >= 9)
        #expect(try server.kubectl("1.33", ["get", "configmap", "web-config", "-n", "shop", "-o", "jsonpath={.data.greeting}"]).stdout == "hey")
        #expect(try generation() == "1")

        // Down for longer than the client waits: one clear line, nothing applied.
        try proxy.mode("down")
        _ = try repository.write("manifests/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: shop\ndata:\n  greeting: never\n")
        _ = try repository.commit("never")
        let failed = try CLI.run(
            ["plan", "--kubeconfig", kubeconfig, "--source", repository.path, "--state-dir", client.path, "--app", "shop"], in: client.path)
        #expect(failed.status == 2)
        #expect(failed.stderr.split(separator: "\n").count == 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("http://127.0.0.1:\(proxy.port): the connection was closed"), "\(failed.stderr)")
        try proxy.mode("none")
        _ = try await server.terminate()
    }

    @Test("the cache recovers: watches cut, a 410 (relist), the API down for 10 s; changes made meanwhile are seen")
    func cacheRecovers() async throws {
        let server = try await KubeAPIProcess.start()
        let proxy = try await FaultProxy(server: server)
        let client = try TemporaryDirectory()
        let selection = try Kubeconfig.load(explicitPath: try proxy.kubeconfig(server, in: client)).select()
        let cache = KubeCache(watchTimeout: 60)
        let cluster = try KubeCluster(selection, cache: cache)
        let kind = GroupKind(group: "", kind: "ConfigMap")
        _ = try await cluster.list(kind, namespace: nil, options: ListOptions())
        await cache.waitUntilSynced([kind])
        #expect(cache.isSynced(kind))
        let changes = cache.changes()
        let seen = SeenNames()
        let reader = Task {
            for await change in changes {
                if let name = change.object[path: ["metadata", "name"]]?.stringValue { await seen.add(name) }
            }
        }
        func create(_ name: String) throws {
            let made = try server.kubectl("1.33", ["create", "configmap", name, "-n", "default", "--from-literal=a=b"])
            #expect(made.status == 0, "\(made.stderr)")
        }
        func waitFor(_ name: String, timeout: Double) async throws -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if await seen.contains(name) {
                    let cached = try await cluster.list(kind, namespace: "default", options: ListOptions())
                    if cached.items.contains(where: { $0[path: ["metadata", "name"]]?.stringValue == name }) { return true }
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        try create("first")
        #expect(try await waitFor("first", timeout: 5))

        try proxy.mode("reset-watches")
        try create("after-cut")
        #expect(try await waitFor("after-cut", timeout: 10))

        let lists = cache.lists(of: kind)
        try proxy.mode("gone")
        try proxy.mode("reset-watches")
        try create("after-gone")
        #expect(try await waitFor("after-gone", timeout: 10))
        #expect(cache.lists(of: kind) == lists + 1)

        try proxy.mode("down")
        try proxy.mode("reset-watches")
        try create("while-down")
        try await Task.sleep(for: .seconds(10))
        #expect(await !seen.contains("while-down"))
        try proxy.mode("none")
        #expect(try await waitFor("while-down", timeout: 40))
        reader.cancel()
        cache.stop()
        _ = try await server.terminate()
    }
}

extension KubeFaultTests {
    @Test("the cache lists in pages of 500 and has every object; a continue token the server forgot makes it one list of everything")
    func pagedLists() async throws {
        let server = try await KubeAPIProcess.start()
        let proxy = try await FaultProxy(server: server)
        let client = try TemporaryDirectory()
        let manifests = (0..<1_203).map { "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: page-\($0), namespace: default}\ndata: {index: \"\($0)\"}" }
        let file = try client.write("many.yaml", manifests.joined(separator: "\n---\n"))
        let applied = try server.kubectl("1.33", ["apply", "--server-side", "-f", file])
        #expect(applied.status == 0, "\(applied.stderr)")
        let listed = try server.kubectl("1.33", ["get", "configmaps", "-A", "--no-headers"])
        let total = listed.stdout.split(separator: "\n").count
        #expect(total >= 1_203)

        let selection = try Kubeconfig.load(explicitPath: try proxy.kubeconfig(server, in: client)).select()
        let cache = KubeCache(watchTimeout: 60)
        let cluster = try KubeCluster(selection, cache: cache)
        let kind = GroupKind(group: "", kind: "ConfigMap")
        func cached() async throws -> Int { try await cluster.list(kind, namespace: nil, options: ListOptions()).items.count }
        _ = try await cluster.list(kind, namespace: nil, options: ListOptions())
        await cache.waitUntilSynced([kind])
        #expect(try await cached() == total)
        let before = try proxy.stats()
        #expect((before["paged"] as? Int ?? 0) >= 1)
        #expect((before["continued"] as? Int ?? 0) >= 2, "1,203 objects are three pages: \(before)")

        // Forgotten continue tokens: the relist after a 410 falls back to one list of everything.
        try proxy.mode("expire-continue")
        try proxy.mode("gone")
        try proxy.mode("reset-watches")
        let deadline = Date().addingTimeInterval(20)
        while cache.lists(of: kind) < 2, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(cache.lists(of: kind) == 2)
        let after = try proxy.stats()
        #expect((after["injected"] as? Int ?? 0) > (before["injected"] as? Int ?? 0))
        #expect((after["whole"] as? Int ?? 0) > (before["whole"] as? Int ?? 0))
        #expect(try await cached() == total)
        cache.stop()
        _ = try await server.terminate()
    }
}

actor SeenNames {
    private var names: Set<String> = []
    func add(_ name: String) { names.insert(name) }
    func contains(_ name: String) -> Bool { names.contains(name) }
}
