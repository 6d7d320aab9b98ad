import Testing
import WindlassKustomize
import WindlassManifest
import WindlassPipeline
import WindlassPlan
import WindlassRollout
import WindlassTesting

#if canImport(Glibc)
import Glibc
#endif
@testable import WindlassServer

@Suite("windlass.yaml")
struct DaemonConfigTests {
    /// The README's example, as written.
    static let example = """
        apiVersion: windlass.dev/v1
        kind: Config
        server:
          listen: 127.0.0.1:8080
          apiTokens: [{env: WINDLASS_API_TOKEN}]
          webhooks:
            github: {secret: {env: WINDLASS_WEBHOOK_SECRET}}
        applications:
          - name: cloud
            source: {repo: "git://git.example.com/cloud.git", ref: main, path: manifests}
            destination: {cluster: embedded, namespace: openstack}
            syncPolicy: {automated: true, prune: true, selfHeal: false}
            interval: 3m
            drift: {schedule: "*/10 * * * *", selfHeal: false}
        """

    @Test("the README's example reads as written")
    func example() throws {
        let (config, diagnostics) = DaemonConfig.read(Self.example, path: "windlass.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let read = try #require(config)
        #expect(read.server.host == "127.0.0.1" && read.server.port == 8080)
        #expect(read.server.apiTokens == [.environment("WINDLASS_API_TOKEN")])
        #expect(read.server.webhooks == ["github": .environment("WINDLASS_WEBHOOK_SECRET")])
        let app = try #require(read.applications.first)
        #expect(app.name == "cloud" && app.repository == "git://git.example.com/cloud.git" && app.ref == "main" && app.path == "manifests")
        #expect(app.namespace == "openstack" && app.automated && app.prune && !app.selfHeal)
        #expect(app.interval == 180)
        #expect(app.drift == .cron(try CronSchedule(parsing: "*/10 * * * *")))
    }

    @Test("mistakes are located errors, and no config is returned", arguments: [
        ("server:\n  listen: 8080\n", "4:11: server.listen \"8080\" is not HOST:PORT"),
        ("server:\n  lisen: 127.0.0.1:1\n", "4:10: server: unknown field \"lisen\" (did you mean \"listen\"?)"),
        ("server:\n  apiTokens: [{value: abc}]\n", "4:23: server.apiTokens[]: unknown field \"value\""),
        ("server:\n  webhooks: {github: {secret: {env: A, file: B}}}\n", "4:31: server.webhooks.github.secret must name exactly one of env or file"),
        ("applications:\n  - name: Cloud\n    source: {repo: x}\n", "4:11: application name \"Cloud\""),
        ("applications:\n  - name: a\n    source: {repo: x}\n    interval: soon\n", "6:15: application a: interval \"soon\" is not a duration"),
        ("applications:\n  - name: a\n    source: {repo: x}\n    interval: 1ms\n", "6:15: application a: interval \"1ms\" is shorter than 1s, the shortest allowed"),
        ("applications:\n  - name: a\n    source: {repo: x}\n    drift: {interval: 100ms}\n", "6:23: application a: drift.interval \"100ms\" is shorter than 1s"),
        ("applications:\n  - name: a\n    source: {repo: x}\n    drift: {schedule: \"*/10 * * * 8\"}\n", "6:35: application a: drift.schedule: day of week \"8\": 8 is outside 0-7"),
        ("applications:\n  - name: a\n    source: {repo: x}\n    drift: {schedule: \"0 0 30 2 *\"}\n", "6:23: application a: drift.schedule \"0 0 30 2 *\" never fires"),
        ("applications:\n  - name: a\n    source: {repo: x}\n    destination: {cluster: prod-eu}\n", "6:28: application a: destination.cluster \"prod-eu\" is not a cluster Windlass knows: use cluster: embedded, or kubeconfig: and context: for a Kubernetes cluster"),
        ("applications:\n  - name: a\n    source: {repo: x}\n    destination: {cluster: embedded, context: prod}\n", "6:28: application a: destination.cluster embedded takes no kubeconfig or context"),
        ("server:\n  leaderElection: {name: x}\napplications:\n  - name: a\n    source: {repo: x}\n", "4:19: server.leaderElection needs a Kubernetes cluster for its Lease"),
        ("server:\n  leaderElection: {namespace: Bad_NS, kubeconfig: k}\n", "4:31: server.leaderElection.namespace \"Bad_NS\""),
        ("applications:\n  - name: a\n    source: {repo: x}\n  - name: a\n    source: {repo: other}\n", "6:11: application a is defined twice (first at line 4)"),
        ("applications:\n  - name: a\n", "4:5: application a needs a source"),
        ("applications:\n  - name: a\n    source: {repo: x}\n    syncPolicy: {automated: yes please}\n", "6:29: application a: syncPolicy.automated must be true or false"),
        ("applications:\n  - name: a\n    source: {repo: x}\n    analysis: {allowedHosts: [prom:9090, \"http://grafana\"]}\n", "6:42: application a: analysis.allowedHosts: \"http://grafana\" is a URL"),
        ("applications:\n  - name: a\n    source: {repo: x}\n    syncPolicy: {syncOptions: [CreateNamespace=true, Validate=false]}\n", "6:54: application a: syncPolicy.syncOptions: unknown sync option \"Validate=false\""),
        ("applications:\n  - name: a\n    source: {repo: x}\n    analysis: {allowedHosts: prom}\n", "6:30: application a: analysis.allowedHosts must be a list"),
        ("applications:\n  - name: a\n    source: {repo: x}\n    analysis: {prometheus: prom:9090}\n", "6:28: application a: analysis.prometheus must be an http:// or https:// URL"),
        ("clusters:\n  embedded:\n    api: {listen: 6443}\n", "5:19: clusters.embedded.api.listen \"6443\" is not HOST:PORT"),
        ("clusters:\n  embedded:\n    api: {}\n", "5:10: clusters.embedded.api needs listen: HOST:PORT"),
        ("clusters:\n  prod: {}\n", "4:9: clusters: unknown field \"prod\""),
        ("kustomize: {buildOptions: {a: b}}\n", "3:27: kustomize.buildOptions must be a list of flags"),
        ("applications:\n  - name: a\n    source: {repo: x, kustomize: {enableHelm: maybe}}\n", "5:47: application a: source.kustomize.enableHelm must be true or false"),
        ("applications:\n  - name: a\n    source: {repo: x, kustomize: {binnary: k}}\n", "5:44: application a: source.kustomize: unknown field \"binnary\""),
    ])
    func mistakes(body: String, expected: String) {
        let (config, diagnostics) = DaemonConfig.read("apiVersion: windlass.dev/v1\nkind: Config\n" + body, path: "w.yaml")
        #expect(config == nil)
        #expect(diagnostics.first.map { "\($0.location.position?.description ?? ""): \($0.message)" }?.hasPrefix(expected) == true, "\(diagnostics)")
    }

    @Test("analysis may query loopback and the application's Prometheus, or the hosts listed")
    func analysisHosts() throws {
        let body = """
            apiVersion: windlass.dev/v1
            kind: Config
            applications:
              - name: a
                source: {repo: x}
                analysis: {prometheus: "http://prom.internal:9090"}
              - name: b
                source: {repo: x}
                analysis: {prometheus: "http://prom.internal:9090", allowedHosts: ["*.metrics.internal", "grafana:3000"]}
            """
        let (config, diagnostics) = DaemonConfig.read(body, path: "w.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let apps = try #require(config?.applications)
        #expect(apps[0].analysisHosts.entries == ["loopback", "prom.internal:9090"])
        #expect(apps[1].analysisHosts.entries == ["*.metrics.internal", "grafana:3000", "prom.internal:9090"])
        #expect(apps[1].analysisHosts.refusal(of: "http://127.0.0.1:8080/") != nil, "a list replaces the loopback default")
    }

    @Test("policies: a directory of the repository (read at the commit), an absolute directory on disk, or builtin")
    func policies() throws {
        let body = """
            apiVersion: windlass.dev/v1
            kind: Config
            applications:
              - {name: a, source: {repo: x}, policies: policies}
              - {name: b, source: {repo: x}, policies: /etc/windlass/policies}
              - {name: c, source: {repo: x}, policies: builtin}
              - {name: d, source: {repo: x}}
            """
        let (config, diagnostics) = DaemonConfig.read(body, path: "w.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let apps = try #require(config?.applications)
        #expect(apps.map(\.pipelineApplication.policies) == [
            .repository(path: "policies", required: true), .directory("/etc/windlass/policies"), .builtin, .none,
        ])
    }

    @Test("kustomize settings: the config's defaults, an application's source.kustomize over them, a relative binary made absolute")
    func kustomize() throws {
        let body = """
            apiVersion: windlass.dev/v1
            kind: Config
            kustomize: {buildOptions: "--load-restrictor LoadRestrictionsNone", timeout: 2m}
            applications:
              - name: a
                source: {repo: x, kustomize: {binary: bin/kustomize, enableHelm: true}}
              - name: b
                source: {repo: x}
            """
        let (config, diagnostics) = DaemonConfig.read(body, path: "/etc/windlass/w.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let a = try #require(config?.applications.first?.pipelineApplication.source.kustomize)
        #expect(a.binary == "/etc/windlass/bin/kustomize")
        #expect(a.enableHelm && !a.allowRemoteResources)
        #expect(a.buildOptions == ["--load-restrictor", "LoadRestrictionsNone"] && a.timeout == 120)
        let b = try #require(config?.applications.last?.kustomize)
        #expect(b.binary == nil && !b.enableHelm && b.timeout == 120)
    }

    @Test("syncPolicy.syncOptions: CreateNamespace=true reaches the pipeline's plan options")
    func syncOptions() throws {
        let body = "apiVersion: windlass.dev/v1\nkind: Config\napplications:\n  - name: a\n    source: {repo: x}\n    syncPolicy: {syncOptions: [CreateNamespace=true]}\n"
        let (config, diagnostics) = DaemonConfig.read(body, path: "w.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let app = try #require(config?.applications.first)
        #expect(app.pipelineApplication.planOptions.createNamespace)
        #expect(DaemonConfig.Application(name: "b", repository: "x").pipelineApplication.planOptions.createNamespace == false)
    }

    @Test("API reads need a token once tokens are configured; open on loopback without any, or when configured so")
    func anonymousReads() throws {
        func read(_ server: String) throws -> DaemonConfig.Server {
            let (config, diagnostics) = DaemonConfig.read("apiVersion: windlass.dev/v1\nkind: Config\nserver:\n" + server, path: "w.yaml")
            #expect(diagnostics.isEmpty, "\(diagnostics)")
            return try #require(config?.server)
        }
        #expect(try read("  listen: 127.0.0.1:8080\n").readsOpenOnLoopback)
        #expect(try !read("  apiTokens: [{env: T}]\n").readsOpenOnLoopback)
        #expect(try read("  apiTokens: [{env: T}]\n  anonymousReads: loopback\n").readsOpenOnLoopback)
        #expect(try !read("  anonymousReads: none\n").readsOpenOnLoopback)
    }

    @Test("not a Config, or not YAML: one located error")
    func notAConfig() {
        #expect(DaemonConfig.read("apiVersion: v1\nkind: ConfigMap\n", path: "w.yaml").diagnostics.map(\.message) == [
            "apiVersion must be windlass.dev/v1", "kind must be Config",
        ])
        let broken = DaemonConfig.read("server: {listen: [\n", path: "w.yaml")
        #expect(broken.config == nil && broken.diagnostics.count == 1)
    }

    @Test("secrets resolve from the environment or a file, and an error names the reference, never a value")
    func secrets() throws {
        setenv("WINDLASS_TEST_SECRET", "s3cret", 1)
        #expect(try DaemonConfig.SecretReference.environment("WINDLASS_TEST_SECRET").resolve() == "s3cret")
        unsetenv("WINDLASS_TEST_SECRET_MISSING")
        #expect {
            try DaemonConfig.SecretReference.environment("WINDLASS_TEST_SECRET_MISSING").resolve()
        } throws: { "\($0)" == "the environment variable WINDLASS_TEST_SECRET_MISSING is not set" }
        #expect {
            try DaemonConfig.SecretReference.file("/nonexistent/secret").resolve()
        } throws: { "\($0)" == "the file /nonexistent/secret cannot be read" }
        let scratch = try TemporaryDirectory()
        let file = try scratch.write("token", "  from-a-file\n")
        #expect(try DaemonConfig.SecretReference.file(file).resolve() == "from-a-file")
        let large = try scratch.write("large", String(repeating: "x", count: 70_000))
        #expect {
            try DaemonConfig.SecretReference.file(large).resolve()
        } throws: { "\($0)" == "the file \(large) is larger than 64 KiB" }
    }
}
