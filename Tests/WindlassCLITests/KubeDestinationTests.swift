import Foundation
import Testing
import WindlassCluster
import WindlassKube
import WindlassManifest
import WindlassTesting

/// Kubernetes destinations, tested against `windlass cluster serve` as the cluster: a real
/// Kubernetes API over HTTPS with tokens (a real kube-apiserver cannot be installed here). The
/// CLI under test runs in a state directory of its own and reaches the cluster only through a
/// kubeconfig, as it would reach any cluster.
@Suite("Kubernetes destinations: plan, sync and drift through a kubeconfig", .serialized)
struct KubeDestinationTests {
    static let manifests: [(String, String)] = [
        ("manifests/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"),
        ("manifests/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: shop\ndata:\n  greeting: hello\n"),
        (
            "manifests/web.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: shop
            spec:
              replicas: 2
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                spec:
                  containers:
                  - name: web
                    image: nginx:1.27
                    ports: [{containerPort: 80}]
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: shop
            spec:
              selector: {app: web}
              ports: [{port: 80, targetPort: 80}]

            """
        ),
    ]

    /// A git repository holding the shop's manifests.
    static func repository() throws -> GitFixture {
        let repository = try GitFixture()
        for (path, text) in manifests { _ = try repository.write(path, text) }
        _ = try repository.commit("shop")
        return repository
    }

    @Test("sync through a kubeconfig: kubectl sees windlass's fields, plan says no changes, a hand scale is drift and a sync heals it")
    func syncPlanDrift() async throws {
        let server = try await KubeAPIProcess.start()
        let repository = try Self.repository()
        let client = try TemporaryDirectory()
        func windlass(_ arguments: String...) throws -> CommandResult {
            try CLI.run(arguments + ["--kubeconfig", server.kubeconfig, "--source", repository.path, "--state-dir", client.path, "--app", "shop"], in: client.path)
        }

        let synced = try windlass("sync")
        #expect(synced.status == 0, "\(synced.stdout)\(synced.stderr)")
        #expect(synced.stdout.contains("deployment.apps/web created"), "\(synced.stdout)")
        #expect(synced.stdout.contains(/synced: revision 1 deployed, 4 resources/), "\(synced.stdout)")

        // kubectl, a client of the same API, sees the objects and who owns their fields.
        let managers = try server.kubectl("1.33", ["get", "deployment", "web", "-n", "shop", "-o", "jsonpath={range .metadata.managedFields[*]}{.manager}/{.operation} {end}"])
        #expect(managers.stdout.contains("windlass/Apply"), "\(managers.stdout)\(managers.stderr)")
        let label = try server.kubectl("1.33", ["get", "configmap", "web-config", "-n", "shop", "-o", "jsonpath={.metadata.labels}"])
        #expect(label.stdout.contains("shop"), "\(label.stdout)")

        let plan = try windlass("plan")
        #expect(plan.status == 0)
        #expect(plan.stdout.contains("No changes."), "\(plan.stdout)\(plan.stderr)")

        // Someone scales by hand: drift, then healed by a sync.
        let scaled = try server.kubectl("1.33", ["scale", "deployment", "web", "-n", "shop", "--replicas=5"])
        #expect(scaled.status == 0, "\(scaled.stderr)")
        let drift = try windlass("drift")
        #expect(drift.stdout.contains("~ apps/Deployment/shop/web"), "\(drift.stdout)\(drift.stderr)")
        #expect(drift.stdout.contains("spec.replicas: 5 => 2"), "\(drift.stdout)")
        let generation = try server.kubectl("1.33", ["get", "deployment", "web", "-n", "shop", "-o", "jsonpath={.metadata.generation}"]).stdout

        let healed = try windlass("sync")
        #expect(healed.status == 0, "\(healed.stdout)\(healed.stderr)")
        let replicas = try server.kubectl("1.33", ["get", "deployment", "web", "-n", "shop", "-o", "jsonpath={.spec.replicas}"])
        #expect(replicas.stdout == "2")
        // One apply: the generation moved by one.
        let after = try server.kubectl("1.33", ["get", "deployment", "web", "-n", "shop", "-o", "jsonpath={.metadata.generation}"]).stdout
        #expect(Int(after) == (Int(generation) ?? -10) + 1, "generation \(generation) → \(after)")

        // History is kept per destination, apart from the embedded cluster's.
        let history = try CLI.run(["history", "--kubeconfig", server.kubeconfig, "--state-dir", client.path, "--app", "shop"], in: client.path)
        #expect(history.stdout.contains(/\n1 +\S+ +superseded/) || history.stdout.contains(/\n1 +/), "\(history.stdout)")
        #expect(history.stdout.contains(/\n2 +\S+ +deployed/), "\(history.stdout)\(history.stderr)")
        let port = server.url.split(separator: ":").last.map(String.init) ?? ""
        #expect(FileManager.default.fileExists(atPath: client.path + "/destinations/127.0.0.1_\(port)/windlass.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: client.path + "/windlass.sqlite"))
        let embedded = try CLI.run(["history", "--state-dir", client.path, "--app", "shop"], in: client.path)
        #expect(embedded.stdout.contains("has no revisions yet"), "\(embedded.stdout)")
        _ = try await server.terminate()
    }

    @Test("bad destinations are one clear line, and nothing is applied")
    func badDestinations() async throws {
        let server = try await KubeAPIProcess.start()
        let repository = try Self.repository()
        let client = try TemporaryDirectory()
        let kubeconfig = try String(contentsOfFile: server.kubeconfig, encoding: .utf8)
        func windlass(_ command: String, kubeconfig path: String, _ extra: [String] = []) throws -> CommandResult {
            try CLI.run([command, "--kubeconfig", path, "--source", repository.path, "--state-dir", client.path, "--app", "shop"] + extra, in: client.path)
        }
        func variant(_ name: String, _ change: (String) -> String) throws -> String {
            try client.write(name, change(kubeconfig))
        }
        func oneLine(_ result: CommandResult, _ expected: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
            #expect(result.status == 2 || result.status == 1, "\(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stderr.contains(expected), "\(result.stderr)", sourceLocation: sourceLocation)
        }

        // A token the server does not know.
        let wrongToken = try variant("wrong-token.yaml") { $0.replacing(/token: .*/, with: "token: not-a-token") }
        oneLine(try windlass("plan", kubeconfig: wrongToken), "Unauthorized (401)")

        // A CA that did not sign the server's certificate.
        let otherCA = try client.write("other-ca.pem", try Self.selfSignedCertificate(in: client))
        let wrongCA = try variant("wrong-ca.yaml") {
            $0.replacing(/certificate-authority-data: .*/, with: "certificate-authority: \(otherCA)")
        }
        oneLine(try windlass("plan", kubeconfig: wrongCA), "certificate is not trusted")

        // An unknown context, an invalid kubeconfig (located), a missing file.
        oneLine(try windlass("plan", kubeconfig: server.kubeconfig, ["--context", "prod"]), "context \"prod\" does not exist (contexts: windlass)")
        let invalid = try client.write("invalid.yaml", "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: 42}\n")
        oneLine(try windlass("plan", kubeconfig: invalid), "invalid.yaml:5:21: clusters[a].cluster.server must be a string")
        oneLine(try windlass("plan", kubeconfig: client.path + "/absent.yaml"), "absent.yaml: no such kubeconfig file")

        // A server that is not Kubernetes: a plain HTTP server on 127.0.0.1.
        let port = try freePort()
        let web = try BackgroundProcess("/usr/bin/python3", ["-m", "http.server", "--bind", "127.0.0.1", "\(port)", "--directory", client.path])
        try waitForPort(port)
        let notKube = try client.write(
            "not-kube.yaml",
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: {server: \"http://127.0.0.1:\(port)\"}}]\ncontexts: [{name: c, context: {cluster: c}}]\n")
        oneLine(try windlass("plan", kubeconfig: notKube), "does not answer as a Kubernetes API server")
        _ = web

        // Nothing of the shop reached the cluster.
        let namespaces = try server.kubectl("1.33", ["get", "namespaces", "-o", "name"])
        #expect(!namespaces.stdout.contains("namespace/shop"), "\(namespaces.stdout)")

        // The read-only token may plan, not sync: 403 names the verb and the resource.
        let readOnly = try CLI.run(["cluster", "kubeconfig", "--read-only", "--state-dir", server.stateDirectory], in: client.path)
        let readOnlyPath = try client.write("read-only.yaml", readOnly.stdout.replacing(/server: .*/, with: "server: \(server.url)"))
        let planned = try windlass("plan", kubeconfig: readOnlyPath)
        #expect(planned.status == 0, "\(planned.stderr)")
        let refused = try windlass("sync", kubeconfig: readOnlyPath)
        #expect(refused.status == 1)
        #expect((refused.stdout + refused.stderr).contains("is forbidden: User \"windlass-read-only\" cannot patch resource \"namespaces\""), "\(refused.stdout)\(refused.stderr)")

        // A kind the cluster does not serve stops the plan and the sync before anything is applied.
        _ = try repository.write("manifests/widget.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\nspec: {size: 1}\n")
        _ = try repository.commit("a widget")
        let unserved = try windlass("sync", kubeconfig: server.kubeconfig)
        #expect(unserved.status == 2, "\(unserved.stdout)\(unserved.stderr)")
        #expect(unserved.stderr.contains(/manifests\/widget.yaml@[0-9a-f]{7}:1:1: error: the cluster serves no kind Widget.example.com: install its CustomResourceDefinition first/), "\(unserved.stderr)")
        let after = try server.kubectl("1.33", ["get", "namespaces", "-o", "name"])
        #expect(!after.stdout.contains("namespace/shop"), "\(after.stdout)")
        _ = try await server.terminate()
    }

    @Test("a canary on the Kubernetes cluster whose Prometheus gate fails is aborted and the stable version stays")
    func failingCanary() async throws {
        let server = try await KubeAPIProcess.start()
        let prometheus = try PrometheusServer(targets: [])
        defer { prometheus.stop() }
        let repository = try Self.repository()
        // The gate asks Prometheus a question whose answer (0) fails it.
        _ = try repository.write(
            "manifests/rollout.yaml",
            """
            apiVersion: windlass.dev/v1
            kind: AnalysisTemplate
            metadata: {name: gate, namespace: shop}
            spec:
              metrics:
                - name: always-zero
                  interval: 1s
                  count: 2
                  successCondition: result[0] >= 1
                  failureCondition: result[0] < 1
                  provider:
                    prometheus: {address: "\(prometheus.address)", query: vector(0)}
            ---
            apiVersion: windlass.dev/v1
            kind: RolloutStrategy
            metadata: {name: web, namespace: shop}
            spec:
              targetRef: {kind: Deployment, name: web}
              canary:
                steps:
                  - setWeight: 50
                  - analysis: {templates: [{templateName: gate}]}
                  - setWeight: 100

            """)
        _ = try repository.commit("a canary for web")
        let client = try TemporaryDirectory()
        func sync() throws -> CommandResult {
            try CLI.run(["sync", "--kubeconfig", server.kubeconfig, "--source", repository.path, "--state-dir", client.path, "--app", "shop"], in: client.path)
        }
        let first = try sync()
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")

        _ = try repository.write("manifests/web.yaml", try String(contentsOfFile: repository.path + "/manifests/web.yaml", encoding: .utf8).replacing("nginx:1.27", with: "nginx:1.28"))
        _ = try repository.commit("nginx 1.28")
        let release = try sync()
        #expect(release.status == 1, "\(release.stdout)\(release.stderr)")
        #expect((release.stdout + release.stderr).contains("canary of apps/Deployment/shop/web aborted"), "\(release.stdout)\(release.stderr)")
        let image = try server.kubectl("1.33", ["get", "deployment", "web", "-n", "shop", "-o", "jsonpath={.spec.template.spec.containers[0].image}"])
        #expect(image.stdout == "nginx:1.27")
        let canary = try await eventually(timeout: 30, { try server.kubectl("1.33", ["get", "deployments", "-n", "shop", "-o", "name"]) }) { !$0.contains("web-canary") }
        #expect(canary.contains("deployment.apps/web"))
        _ = try await server.terminate()
    }

    @Test("plan --server-dry-run shows the server's defaults, stores nothing, and a refusal is located")
    func serverDryRun() async throws {
        let server = try await KubeAPIProcess.start()
        let repository = try Self.repository()
        let client = try TemporaryDirectory()
        func plan() throws -> CommandResult {
            try CLI.run(
                ["plan", "--server-dry-run", "--kubeconfig", server.kubeconfig, "--source", repository.path, "--state-dir", client.path, "--app", "shop"],
                in: client.path)
        }
        // The Namespace does not exist yet: its objects keep the prediction, the Namespace itself is the server's.
        let first = try plan()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Plan: 4 to add"), "\(first.stdout)")
        let synced = try CLI.run(["sync", "--kubeconfig", server.kubeconfig, "--source", repository.path, "--state-dir", client.path, "--app", "shop"], in: client.path)
        #expect(synced.status == 0, "\(synced.stderr)")
        // A change: the diff carries what the server defaults in the new container.
        _ = try repository.write("manifests/web.yaml", try String(contentsOfFile: repository.path + "/manifests/web.yaml", encoding: .utf8).replacing(
            "        ports: [{containerPort: 80}]", with: "        ports: [{containerPort: 80}]\n      - name: sidecar\n        image: busybox:1.36"))
        _ = try repository.commit("sidecar")
        let changed = try plan()
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(changed.stdout.contains("+        terminationMessagePolicy: File"), "\(changed.stdout)")
        let containers = try server.kubectl("1.33", ["get", "deployment", "web", "-n", "shop", "-o", "jsonpath={.spec.template.spec.containers[*].name}"])
        #expect(containers.stdout == "web", "a dry run stored nothing: \(containers.stdout)")
        // An object only the server can refuse (its CRD's schema lives in the cluster): located, with the server's message.
        let crd = try client.write(
            "crd.yaml",
            """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.example.com}
            spec:
              group: example.com
              scope: Namespaced
              names: {kind: Widget, plural: widgets, singular: widget}
              versions:
                - name: v1
                  served: true
                  storage: true
                  schema:
                    openAPIV3Schema:
                      type: object
                      properties:
                        spec: {type: object, properties: {size: {type: integer}}}
            """)
        #expect(try server.kubectl("1.33", ["apply", "--server-side", "-f", crd]).status == 0)
        _ = try repository.write("manifests/bad.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: bad, namespace: shop}\nspec: {size: big}\n")
        _ = try repository.commit("bad service")
        let refused = try plan()
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("manifests/bad.yaml@") && refused.stderr.contains(":1:1: error: server dry run: "), "\(refused.stderr)")
        _ = try await server.terminate()
    }

    /// A self-signed certificate no server here uses (openssl).
    static func selfSignedCertificate(in directory: TemporaryDirectory) throws -> String {
        try WindlassTesting.run(
            "openssl",
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", directory.path + "/other.key", "-out", directory.path + "/other.crt",
             "-days", "1", "-subj", "/CN=other-ca"])
        return try String(contentsOfFile: directory.path + "/other.crt", encoding: .utf8)
    }
}

/// The client library itself against the API server: exec plugins asked again when their
/// credential expires and when the server answers 401.
@Suite("The Kubernetes client's credentials", .serialized)
struct KubeClientCredentialTests {
    func adminToken(_ server: KubeAPIProcess) throws -> String {
        let tokens = try String(contentsOfFile: server.stateDirectory + "/api/tokens", encoding: .utf8)
        return String(tokens.split(separator: "\n").first { $0.hasPrefix("admin ") }?.split(separator: " ").last ?? "")
    }

    /// The server's kubeconfig with its user replaced by an exec plugin running `script`.
    func execSelection(_ server: KubeAPIProcess, directory: TemporaryDirectory, script: String) throws -> KubeconfigSelection {
        let plugin = try directory.write("plugin.sh", "#!/bin/sh\necho run >> \(directory.path)/calls\n" + script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: plugin)
        var selection = try Kubeconfig.load(explicitPath: server.kubeconfig).select()
        selection.user = Kubeconfig.User(exec: Kubeconfig.ExecConfig(apiVersion: "client.authentication.k8s.io/v1", command: plugin))
        return selection
    }

    func calls(_ directory: TemporaryDirectory) -> Int {
        ((try? String(contentsOfFile: directory.path + "/calls", encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test("an exec plugin's token is used until it expires, then the plugin runs again")
    func expiry() async throws {
        let server = try await KubeAPIProcess.start()
        let directory = try TemporaryDirectory()
        let token = try adminToken(server)
        // Each credential expires 20 s after it is made, so it is asked for again from 10 s on
        // (the refresh margin), however slowly the first requests go.
        let selection = try execSelection(server, directory: directory, script: """
            expiry=$(date -u -d '+20 seconds' +%Y-%m-%dT%H:%M:%SZ)
            echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"\(token)\\",\\"expirationTimestamp\\":\\"$expiry\\"}}"
            """)
        let cluster = try KubeCluster(selection)
        let started = Date()
        _ = try await cluster.list(GroupKind(group: "", kind: "Namespace"), namespace: nil, options: ListOptions())
        let firstDone = Date()
        _ = try await cluster.list(GroupKind(group: "", kind: "Namespace"), namespace: nil, options: ListOptions())
        // The credential is good for 10 s after it was made (20 s, less the refresh margin):
        // unless the machine is so loaded that the lists took longer, the plugin ran once.
        if Date().timeIntervalSince(started) < 8 { #expect(calls(directory) == 1) }
        let before = calls(directory)
        // Past the margin of the last credential made (it was made before the first list ended).
        let wait = 11 - Date().timeIntervalSince(firstDone)
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
        _ = try await cluster.list(GroupKind(group: "", kind: "Namespace"), namespace: nil, options: ListOptions())
        #expect(calls(directory) == before + 1)
        _ = try await server.terminate()
    }

    @Test("a 401 asks the exec plugin again, once")
    func refreshOnUnauthorized() async throws {
        let server = try await KubeAPIProcess.start()
        let directory = try TemporaryDirectory()
        let token = try adminToken(server)
        // The first credential is stale; the plugin's second answer is good.
        let selection = try execSelection(server, directory: directory, script: """
            if [ $(wc -l < \(directory.path)/calls) -eq 1 ]; then t=stale; else t=\(token); fi
            echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"$t\\"}}"
            """)
        let cluster = try KubeCluster(selection)
        let list = try await cluster.list(GroupKind(group: "", kind: "Namespace"), namespace: nil, options: ListOptions())
        #expect(list.items.contains { $0["metadata"]?["name"]?.stringValue == "default" })
        #expect(calls(directory) == 2)

        // A plugin that always hands out a refused token: one retry, then the 401 stands.
        let refused = try execSelection(server, directory: try TemporaryDirectory(), script: """
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"refused"}}'
            """)
        await #expect(throws: ClusterError.self) {
            _ = try await KubeCluster(refused).list(GroupKind(group: "", kind: "Namespace"), namespace: nil, options: ListOptions())
        }
        _ = try await server.terminate()
    }
}
