import AsyncHTTPClient
import Foundation
import Glibc
import NIOCore
import NIOHTTP1
import WindlassTesting

/// The web UI as users open it: `windlass serve` (a child process) with `apps` small
/// applications, one of `resources` ConfigMaps (`big`) and one with a Deployment (`small`), on
/// the embedded cluster. Measured: the daemon's answers behind the applications page and the
/// big application's tree (from this process, over HTTP), and in headless chromium
/// (`scripts/ui-bench.py`) the first render of both pages and a change on the cluster reaching
/// the open page of `small`.
enum UIBench {
    struct Result {
        var apps: Int
        var resources: Int
        var listResponse: Double
        var treeResponse: Double
        /// The first tree request after the sync: a plan of the big application.
        var treeColdResponse: Double
        var listRender: Double
        var appRender: Double
        var changeP50: Double
        var changeP90: Double
        var changes: Int
    }

    static let token = "windlass-bench-ui-token"

    static func run(apps: Int, resources: Int, changes: Int) async throws -> Result {
        let python = repositoryRoot + "/.venv/bin/python"
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver", python] where !FileManager.default.isExecutableFile(atPath: tool) {
            fail("\(tool) is missing: `make bench` installs chromium, chromium-driver and selenium")
        }
        let repository = try GitFixture()
        for i in 0..<apps {
            try repository.write(
                "apps/app-\(i)/settings.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-\(i), namespace: default}\ndata: {team: \"\(i % 7)\"}\n")
        }
        try repository.write(
            "small/web.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: default}
            spec:
              replicas: 1
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers: [{name: web, image: registry.example/web:1, resources: {requests: {cpu: 10m, memory: 16Mi}}}]

            """)
        try repository.write("big/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: big}\n")
        for file in 0..<((resources + 99) / 100) {
            let documents = (file * 100..<min(resources, file * 100 + 100)).map {
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings-\($0), namespace: big, labels: {tier: \"t\($0 % 5)\"}}\ndata: {index: \"\($0)\"}\n"
            }
            try repository.write("big/settings-\(file).yaml", documents.joined(separator: "---\n"))
        }
        try repository.commit("applications")

        let root = try TemporaryDirectory()
        try WindlassTesting.run("git", ["clone", "-q", "--bare", repository.path, root.path + "/served/cloud.git"])
        let daemon = try GitDaemon(base: root.path + "/served")
        defer { daemon.stop() }
        let url = daemon.url("cloud.git")
        let port = try freePort()
        var config = """
            apiVersion: windlass.dev/v1
            kind: Config
            server:
              listen: 127.0.0.1:\(port)
              apiTokens: [{env: WINDLASS_BENCH_UI_TOKEN}]
            applications:
              - {name: big, source: {repo: "\(url)", ref: main, path: big}, destination: {namespace: big}, interval: 1h}
              - {name: small, source: {repo: "\(url)", ref: main, path: small}, destination: {namespace: default}, interval: 1h}

            """
        for i in 0..<apps {
            config += "  - {name: app-\(i), source: {repo: \"\(url)\", ref: main, path: apps/app-\(i)}, destination: {namespace: default}, interval: 1h}\n"
        }
        try root.write("windlass.yaml", config)
        let state = root.path + "/state"
        let log = root.path + "/serve.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: ProcessBench.windlass)
        serve.arguments = ["serve", "--config", root.path + "/windlass.yaml", "--state-dir", state]
        serve.environment = ProcessInfo.processInfo.environment.merging(["WINDLASS_BENCH_UI_TOKEN": token]) { $1 }
        let handle = FileHandle(forWritingAtPath: log)
        serve.standardOutput = handle
        serve.standardError = handle
        try serve.run()
        defer {
            if serve.isRunning {
                kill(serve.processIdentifier, SIGTERM)
                serve.waitUntilExit()
            }
        }

        func get(_ path: String) async throws -> (seconds: Double, body: String) {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/\(path)")
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let start = Date()
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 256 << 20)
            let seconds = Date().timeIntervalSince(start)
            guard response.status.code == 200 else { fail("GET \(path): \(response.status.code) \(String(buffer: body).prefix(300))") }
            return (seconds, String(buffer: body))
        }
        // Every application synced.
        let deadline = Date().addingTimeInterval(900)
        while true {
            if let list = try? await get("applications").body {
                let synced = list.matches(of: /"syncStatus"\s*:\s*"Synced"/).count
                if synced == apps + 2 { break }
            }
            guard Date() < deadline, serve.isRunning else {
                fail("the UI bench's daemon did not sync its applications: \((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(3000) ?? "")")
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        let cold = try await get("applications/big/resources").seconds
        var lists: [Double] = []
        var trees: [Double] = []
        for _ in 0..<10 {
            lists.append(try await get("applications").seconds)
            trees.append(try await get("applications/big/resources").seconds)
        }

        let browser = try await offPool {
            try WindlassTesting.run(
                python,
                [repositoryRoot + "/scripts/ui-bench.py", "http://127.0.0.1:\(port)", token, String(apps + 2), String(resources), ProcessBench.windlass, state, String(changes)],
                check: false)
        }
        guard browser.status == 0, let line = browser.stdout.split(separator: "\n").first(where: { $0.hasPrefix("UI ") }) else {
            fail("the UI bench's browser failed: \(browser.stdout)\(browser.stderr)")
        }
        // Where the big page's time went: the page's own marks, in ms from navigation.
        for marks in browser.stderr.split(separator: "\n") where marks.hasPrefix("marks ") { print("ui page: \(marks.dropFirst(6))") }
        let f = line.split(separator: " ").dropFirst().map { Double($0) ?? -1 }
        return Result(
            apps: apps + 2, resources: resources, listResponse: median(lists), treeResponse: median(trees), treeColdResponse: cold, listRender: f[0],
            appRender: f[1], changeP50: f[2], changeP90: f[3], changes: Int(f[4]))
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
