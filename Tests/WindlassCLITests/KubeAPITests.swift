import Foundation
import Testing
import WindlassTesting

/// A `windlass cluster serve` process over a fresh embedded cluster (3 nodes), and the
/// versioned kubectl binaries of this machine against it.
final class KubeAPIProcess: @unchecked Sendable {
    let state: TemporaryDirectory
    let process = Process()
    let log: String
    private(set) var url = ""

    init(state: TemporaryDirectory? = nil, initialise: Bool = true) throws {
        self.state = try state ?? TemporaryDirectory()
        log = self.state.path + "/serve.log"
        if initialise {
            try WindlassTesting.run(CLI.executable, ["cluster", "init", "--state-dir", self.state.path + "/state"])
        }
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: CLI.executable)
        process.arguments = ["cluster", "serve", "--state-dir", self.state.path + "/state", "--listen", "127.0.0.1:0"]
        let handle = FileHandle(forWritingAtPath: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var stateDirectory: String { state.path + "/state" }
    var kubeconfig: String { stateDirectory + "/kubeconfig" }
    var text: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits for the "serving" line.
    func waitForServing(timeout: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let match = text.firstMatch(of: /serving the Kubernetes API on (https:\/\/127\.0\.0\.1:\d+)/) {
                url = String(match.1)
                return
            }
            guard process.isRunning else { throw ServeError(message: "cluster serve exited: \(text)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServeError(message: "cluster serve did not listen: \(text)")
    }

    static func start() async throws -> KubeAPIProcess {
        let server = try KubeAPIProcess()
        try await server.waitForServing()
        return server
    }

    /// kubectl of a minor version (`1.33`), with its own discovery cache.
    func kubectl(_ version: String, _ arguments: [String], kubeconfig: String? = nil) throws -> CommandResult {
        try WindlassTesting.run(
            "/usr/lib/google-cloud-sdk/bin/kubectl.\(version)",
            ["--kubeconfig", kubeconfig ?? self.kubeconfig, "--cache-dir", state.path + "/cache-\(version)"] + arguments,
            in: state.path, check: false)
    }

    /// curl with the admin token (or none), the CA of the server trusted.
    func curl(_ arguments: [String], token: String? = "admin") throws -> CommandResult {
        var headers: [String] = []
        if let token {
            let tokens = try String(contentsOfFile: stateDirectory + "/api/tokens", encoding: .utf8)
            let line = tokens.split(separator: "\n").first { $0.hasPrefix(token + " ") }
            headers = ["-H", "Authorization: Bearer " + String(line?.split(separator: " ").last ?? "")]
        }
        return try WindlassTesting.run("curl", ["-sS", "--cacert", stateDirectory + "/api/ca.crt"] + headers + arguments, check: false)
    }

    /// SIGTERM, and the exit status once it stops (nil: still running after `timeout`).
    func terminate(timeout: Double = 10) async throws -> (status: Int32?, seconds: Double) {
        let start = Date()
        process.terminate()
        while process.isRunning && Date().timeIntervalSince(start) < timeout {
            try await Task.sleep(for: .milliseconds(20))
        }
        return (process.isRunning ? nil : process.terminationStatus, Date().timeIntervalSince(start))
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// The bundled manifests' path, for `kubectl apply -R -f`.
let bundledManifests = repositoryRoot + "/manifests"

/// Polls a kubectl query until its output satisfies `condition`.
func eventually(timeout: Double = 30, _ query: () throws -> CommandResult, _ condition: (String) -> Bool) async throws -> String {
    let deadline = Date().addingTimeInterval(timeout)
    var last = ""
    while Date() < deadline {
        let result = try query()
        last = result.stdout + result.stderr
        if result.status == 0 && condition(result.stdout) { return result.stdout }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw ServeError(message: "timed out; last output: \(last)")
}

@Suite("The Kubernetes API of the embedded cluster, driven by kubectl", .serialized)
struct KubectlScenarioTests {
    /// The newest and the oldest kubectl this machine has (the dispatcher picks one by /version).
    @Test("kubectl runs the OpenStack scenario", arguments: ["1.33", "1.27"])
    func scenario(version: String) async throws {
        let server = try await KubeAPIProcess.start()
        func k(_ arguments: String...) throws -> CommandResult { try server.kubectl(version, arguments) }
        func ok(_ arguments: String...) throws -> String {
            let result = try server.kubectl(version, arguments)
            #expect(result.status == 0, "kubectl \(arguments.joined(separator: " ")): \(result.stderr)\(result.stdout)")
            return result.stdout
        }
        let ns = "openstack"

        // Server-side apply of every bundled manifest.
        let applied = try ok("apply", "--server-side", "-R", "-f", bundledManifests)
        #expect(applied.contains("deployment.apps/keystone serverside-applied"), "\(applied)")
        #expect(applied.contains("virtualmachine.kubevirt.io/demo-db serverside-applied"))

        // Tables: the columns come from the server.
        let all = try await eventually({ try k("get", "all", "-A") }) { $0.contains("Running") && $0.contains("deployment.apps/keystone") }
        #expect(all.contains("NAMESPACE"))
        #expect(all.contains(/pod\/keystone-[a-z0-9]+-[a-z0-9]+ +1\/1 +Running +0/))
        #expect(all.contains(/service\/keystone +ClusterIP +10\.96\./))
        let wide = try ok("get", "pods", "-n", ns, "-o", "wide")
        #expect(wide.contains(/NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE/), "\(wide)")
        #expect(wide.contains(/node-[123]/))

        let described = try ok("describe", "deployment", "keystone", "-n", ns)
        #expect(described.contains(/Replicas: +3 desired/), "\(described)")
        #expect(described.contains("ScalingReplicaSet"), "describe lists the deployment's events: \(described)")

        _ = try ok("rollout", "status", "deployment/keystone", "-n", ns, "--timeout=60s")
        _ = try ok("scale", "deployment", "keystone", "-n", ns, "--replicas=4")
        #expect(try ok("get", "deploy", "keystone", "-n", ns, "-o", "jsonpath={.spec.replicas}") == "4")

        let original = try ok("get", "deploy", "keystone", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}")
        _ = try ok("set", "image", "deployment/keystone", "keystone=quay.io/openstack/keystone:next", "-n", ns)
        _ = try ok("rollout", "status", "deployment/keystone", "-n", ns, "--timeout=60s")
        _ = try ok("rollout", "undo", "deployment/keystone", "-n", ns)
        #expect(try ok("get", "deploy", "keystone", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}") == original)

        _ = try ok("label", "deployment", "keystone", "-n", ns, "tier=identity")
        _ = try ok("annotate", "deployment", "keystone", "-n", ns, "owner=platform")
        #expect(try ok("get", "deploy", "keystone", "-n", ns, "-o", "jsonpath={.metadata.labels.tier}/{.metadata.annotations.owner}") == "identity/platform")

        // Patches of each type.
        _ = try ok("patch", "deployment", "keystone", "-n", ns, "--type", "strategic",
                   "-p", #"{"spec":{"template":{"spec":{"containers":[{"name":"keystone","env":[{"name":"EXTRA","value":"1"}]}]}}}}"#)
        let env = try ok("get", "deploy", "keystone", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].env[*].name}")
        #expect(env.contains("EXTRA") && env.split(separator: " ").count > 1, "the env list merged by name: \(env)")
        _ = try ok("patch", "deployment", "keystone", "-n", ns, "--type", "merge", "-p", #"{"metadata":{"labels":{"patched":"merge"}}}"#)
        _ = try ok("patch", "deployment", "keystone", "-n", ns, "--type", "json", "-p", #"[{"op":"replace","path":"/spec/replicas","value":2}]"#)
        #expect(try ok("get", "deploy", "keystone", "-n", ns, "-o", "jsonpath={.metadata.labels.patched}/{.spec.replicas}") == "merge/2")

        // Client-side apply, twice: the last-applied annotation, then a strategic merge.
        try server.state.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: \"1\"}\n")
        #expect(try ok("apply", "-f", "cm.yaml").contains("configmap/settings created"))
        try server.state.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: \"2\"}\n")
        #expect(try ok("apply", "-f", "cm.yaml").contains("configmap/settings configured"))
        #expect(try ok("get", "cm", "settings", "-o", "jsonpath={.data.level}") == "2")
        #expect(try ok("get", "cm", "settings", "-o", "yaml").contains("kubectl.kubernetes.io/last-applied-configuration"))

        // A typed client's protobuf body.
        _ = try ok("create", "configmap", "literal", "--from-literal=greeting=hello")
        #expect(try ok("get", "cm", "literal", "-o", "jsonpath={.data.greeting}") == "hello")

        try server.state.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: \"3\"}\n")
        let diff = try k("diff", "-f", "cm.yaml")
        #expect(diff.status == 1, "diff exits 1 when something would change: \(diff.stderr)")
        #expect(diff.stdout.contains("+  level: \"3\""), "\(diff.stdout)")

        _ = try ok("wait", "--for=condition=Available", "deployment/keystone", "-n", ns, "--timeout=60s")

        // A bounded watch sees a change made while it runs.
        let watcher = Task.detached { try server.kubectl(version, ["get", "deploy", "glance-api", "-n", ns, "-w", "--request-timeout=4s"]) }
        try await Task.sleep(for: .seconds(1.5))
        _ = try ok("scale", "deployment", "glance-api", "-n", ns, "--replicas=3")
        let watched = try await watcher.value.stdout
        #expect(watched.split(separator: "\n").filter { $0.hasPrefix("glance-api") }.count >= 2, "\(watched)")
        #expect(watched.contains(/glance-api +\d\/3/), "\(watched)")

        #expect(try ok("logs", "deploy/keystone", "-n", ns).contains("keystone"))
        let explained = try ok("explain", "deployment.spec.strategy")
        #expect(explained.contains("rollingUpdate"), "\(explained)")
        let resources = try ok("api-resources")
        #expect(resources.contains(/deployments +deploy +apps\/v1 +true +Deployment/), "\(resources)")
        #expect(try ok("auth", "can-i", "create", "deployments").trimmingCharacters(in: .whitespacesAndNewlines) == "yes")

        #expect(try ok("delete", "configmap", "literal").contains("configmap \"literal\" deleted"))
        #expect(try k("get", "configmap", "literal").stderr.contains("NotFound"))

        // A definition, then its custom resource, printed by its printer columns.
        try server.state.write("crd.yaml", """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.example.dev}
            spec:
              group: example.dev
              scope: Namespaced
              names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
              versions:
              - name: v1
                served: true
                storage: true
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec: {type: object, properties: {size: {type: integer}}}
                additionalPrinterColumns:
                - {name: Size, type: integer, jsonPath: .spec.size}

            """)
        try server.state.write("widget.yaml", "apiVersion: example.dev/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n")
        _ = try ok("apply", "-f", "crd.yaml")
        _ = try ok("apply", "-f", "widget.yaml")
        #expect(try ok("get", "wd").contains(/w1 +3/))
        try server.state.write("widget.yaml", "apiVersion: example.dev/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: 3, colour: red}\n")
        let unknown = try k("apply", "-f", "widget.yaml")
        #expect(unknown.status != 0 && unknown.stderr.contains("colour"), "strict validation names the unknown field: \(unknown.stderr)")

        // Stopping a virtual machine.
        _ = try ok("patch", "vm", "demo-db", "-n", "tenant-demo", "--type", "merge", "-p", #"{"spec":{"runStrategy":"Halted"}}"#)
        _ = try await eventually({ try k("get", "vm", "demo-db", "-n", "tenant-demo") }) { $0.contains("Stopped") }

        let stopped = try await server.terminate()
        #expect(stopped.status == 0 && stopped.seconds < 10, "SIGTERM: exit \(String(describing: stopped.status)) after \(stopped.seconds) s\n\(server.text)")
    }
}
