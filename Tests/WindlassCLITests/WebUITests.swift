import Foundation
import NIOHTTP1
import Testing
import WindlassTesting

/// The web UI in a real browser: Debian's chromium through chromedriver, driven by Selenium
/// (Tests/ui/scenario.py) against a `windlass serve` with one manually synced application.
/// `make test` installs all three (chromium and chromium-driver from apt, selenium into .venv).
@Suite("The web UI in chromium", .serialized)
struct WebUITests {
    static let token = "ui-write-token-for-tests"
    static let readToken = "ui-read-token-for-tests"
    static let secret = "ui-webhook-secret"
    static let python = repositoryRoot + "/.venv/bin/python"

    static let manifests: [(String, String)] = [
        ("manifests/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"),
        (
            "manifests/settings.yaml",
            """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              namespace: shop
              annotations:
                note: "<img src=x onerror=\\"window.__xss=1\\"> \\"quoted\\" <script>window.__xss=2</script>"
            data: {version: v1}

            """
        ),
        (
            "manifests/web.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                    - name: web
                      image: registry.example/web:v1
                      resources: {requests: {cpu: 100m, memory: 64Mi}}

            """
        ),
        ("manifests/service.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n"),
        ("manifests/api.yaml", api(image: "registry.example/api:v1")),
        (
            "manifests/api-canary.yaml",
            """
            apiVersion: windlass.dev/v1
            kind: RolloutStrategy
            metadata: {name: api-canary, namespace: shop}
            spec:
              targetRef: {kind: Deployment, name: api}
              canary:
                steps:
                  - setWeight: 50
                  - pause: {}

            """
        ),
    ]

    /// A Deployment of four pods whose updates go through the canary of `api-canary.yaml`.
    static func api(image: String) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api, namespace: shop}
        spec:
          replicas: 4
          selector: {matchLabels: {app: api}}
          template:
            metadata: {labels: {app: api}}
            spec:
              containers:
                - name: api
                  image: \(image)
                  resources: {requests: {cpu: 50m, memory: 32Mi}}

        """
    }

    @Test(
        "log in, watch a push go out of sync and back, read a diff, sync, roll back, promote a paused canary, see a failed one's measurement, heal drift, survive a restart; a read-only session changes nothing",
        .timeLimit(.minutes(10)))
    func scenario() async throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver", Self.python] where !FileManager.default.isExecutableFile(atPath: tool) {
            Issue.record("\(tool) is missing: `make test` installs chromium, chromium-driver and selenium")
            return
        }
        let work = try GitFixture()
        for (path, text) in Self.manifests { try work.write(path, text) }
        try work.commit("v1")
        let served = try TemporaryDirectory()
        try run("git", ["clone", "-q", "--bare", work.path, served.path + "/shop.git"])
        try work.git(["remote", "add", "served", served.path + "/shop.git"])
        let daemon = try GitDaemon(base: served.path)
        defer { daemon.stop() }
        let state = try TemporaryDirectory()
        // A fixed port: the page stays open while the daemon restarts on it.
        let port = try freePort()
        try state.write(
            "windlass.yaml",
            """
            apiVersion: windlass.dev/v1
            kind: Config
            server:
              listen: 127.0.0.1:\(port)
              apiTokens: [{env: WINDLASS_API_TOKEN}]
              readOnlyTokens: [{env: WINDLASS_READ_TOKEN}]
              webhooks:
                generic: {secret: {env: WINDLASS_WEBHOOK_SECRET}}
            applications:
              - name: shop
                source: {repo: "\(daemon.url("shop.git"))", ref: main, path: manifests}
                destination: {cluster: embedded, namespace: shop}
                syncPolicy: {automated: false, prune: true}
                interval: 1h
                drift: {interval: 1h}
            """)
        let arguments = ["--config", "windlass.yaml", "--state-dir", state.path + "/state"]
        let environment = ["WINDLASS_API_TOKEN": Self.token, "WINDLASS_READ_TOKEN": Self.readToken, "WINDLASS_WEBHOOK_SECRET": Self.secret]
        let serve = try ServeProcess(arguments, log: state.path + "/serve.log", in: state.path, environment: environment)
        try await serve.waitForListening()
        let daemons = Daemons(serve)
        // The scenario asks for a restart by writing `restart`; `restarted` says the daemon is back.
        let restarter = Task {
            while !Task.isCancelled {
                if FileManager.default.fileExists(atPath: state.path + "/restart") {
                    try? FileManager.default.removeItem(atPath: state.path + "/restart")
                    _ = try await daemons.current.terminate()
                    let again = try ServeProcess(arguments, log: state.path + "/serve-2.log", in: state.path, environment: environment)
                    try await again.waitForListening()
                    await daemons.replace(again)
                    FileManager.default.createFile(atPath: state.path + "/restarted", contents: nil)
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { restarter.cancel() }
        // The first sync by hand (the application is not automated), then the browser.
        let (status, body) = try await serve.request(.POST, "/api/v1/applications/shop/sync", headers: [("Authorization", "Bearer \(Self.token)")])
        #expect(status == 202, "\(body)")
        _ = try await serve.waitFor("shop", timeout: 120) { $0["syncStatus"] as? String == "Synced" && $0["health"] as? String == "Healthy" }

        let shots = repositoryRoot + "/.build/ui-screenshots"
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        let url = "http://127.0.0.1:\(serve.port)"
        let scenario = [
            repositoryRoot + "/Tests/ui/scenario.py", url, Self.token, Self.readToken, Self.secret, work.path, shots, CLI.executable, state.path,
        ]
        // Minutes of a browser: off the cooperative pool.
        let result = try await offPool { try run(Self.python, scenario, check: false) }
        let said = result.stdout + result.stderr
        let log = await daemons.current.text
        #expect(result.status == 0, "\(said)\n--- serve.log\n\(serve.text.suffix(4000))\n--- after the restart\n\(log.suffix(4000))")
        for step in [
            "a wrong token stays on the login page", "the applications page shows shop Synced and Healthy", "shop OutOfSync without a reload",
            "the Deployment's diff shows web:v1 → web:v2", "Tab reaches every control of the application page", "the plan preview shows the change", "a change without the CSRF token is 403", "a manual sync brings shop back to Synced",
            "a rollback from the history page is a new revision", "the cluster page shows the nodes", "a paused canary is promoted from the rollouts page",
            "a failed canary shows its failing measurement", "drift is reported and healed from the page", "the page reconnects after the daemon restarts",
            "a session the server no longer knows returns to the login page", "a phone-sized window shows one column", "a read-only session sees everything",
        ] {
            #expect(said.contains(step), "missing: \(step)")
        }
        restarter.cancel()
        let stopped = try await daemons.current.terminate()
        #expect(stopped.status == 0)
    }
}

/// The daemon the scenario talks to: replaced when the scenario restarts it.
actor Daemons {
    private(set) var current: ServeProcess

    init(_ first: ServeProcess) { current = first }

    func replace(_ next: ServeProcess) { current = next }
}
