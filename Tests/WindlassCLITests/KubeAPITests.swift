import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing
import WindlassTesting

/// A `windlass cluster serve` process over a fresh embedded cluster (3 nodes), and the
/// versioned kubectl binaries of this machine against it.
final class KubeAPIProcess: @unchecked Sendable {
    let state: TemporaryDirectory
    let process = Process()
    let log: String
    private(set) var url = ""

    init(state: TemporaryDirectory? = nil, initialise: Bool = true, extraArguments: [String] = []) throws {
        self.state = try state ?? TemporaryDirectory()
        log = self.state.path + "/serve-\(UUID().uuidString.prefix(8)).log"
        if initialise {
            try WindlassTesting.run(CLI.executable, ["cluster", "init", "--state-dir", self.state.path + "/state"])
        }
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: CLI.executable)
        process.arguments = ["cluster", "serve", "--state-dir", self.state.path + "/state", "--listen", "127.0.0.1:0"] + extraArguments
        let handle = FileHandle(forWritingAtPath: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var stateDirectory: String { state.path + "/state" }
    var kubeconfig: String { stateDirectory + "/kubeconfig" }
    var text: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits for the "serving" line.
    func waitForServing(timeout: Double = 180) async throws {
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
        try await WindlassTesting.terminate(process, timeout: timeout)
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
        let all = try await eventually(timeout: 120, { try k("get", "all", "-A") }) {
            $0.contains(/pod\/keystone-[a-z0-9]+-[a-z0-9]+ +1\/1 +Running +0/) && $0.contains("deployment.apps/keystone")
        }
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

        // A watch sees a change made while it runs (started once its first line is out).
        let watchLog = server.state.path + "/watch-\(version).txt"
        FileManager.default.createFile(atPath: watchLog, contents: nil)
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/usr/lib/google-cloud-sdk/bin/kubectl.\(version)")
        watcher.arguments = ["--kubeconfig", server.kubeconfig, "--cache-dir", server.state.path + "/cache-\(version)", "get", "deploy", "glance-api", "-n", ns, "-w"]
        watcher.standardOutput = FileHandle(forWritingAtPath: watchLog)
        watcher.standardError = FileHandle.nullDevice
        try watcher.run()
        defer { if watcher.isRunning { watcher.terminate() } }
        func watchedText() -> String { (try? String(contentsOfFile: watchLog, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(60)
        while !watchedText().contains("glance-api"), Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        _ = try ok("scale", "deployment", "glance-api", "-n", ns, "--replicas=3")
        while !watchedText().contains(/glance-api +\d\/3/), Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        watcher.terminate()
        let watched = watchedText()
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
        try server.state.write("widget.yaml", "apiVersion: example.dev/v1\nkind: Widget\nmetadata: {name: w3}\nspec: {size: big}\n")
        let mistyped = try k("apply", "-f", "widget.yaml")
        #expect(mistyped.status != 0 && mistyped.stderr.contains("Invalid") && mistyped.stderr.contains("spec.size"), "the definition's schema is enforced: \(mistyped.stderr)")
        #expect(try k("get", "wd", "w3").status != 0)

        // Stopping a virtual machine.
        _ = try ok("patch", "vm", "demo-db", "-n", "tenant-demo", "--type", "merge", "-p", #"{"spec":{"runStrategy":"Halted"}}"#)
        _ = try await eventually({ try k("get", "vm", "demo-db", "-n", "tenant-demo") }) { $0.contains("Stopped") }

        let stopped = try await server.terminate()
        #expect(stopped.status == 0 && stopped.seconds < 10, "SIGTERM: exit \(String(describing: stopped.status)) after \(stopped.seconds) s\n\(server.text)")
    }
}

/// The Python clients, installed into .venv by `make pydeps`.
enum PythonClients {
    static let python = repositoryRoot + "/.venv/bin/python"

    /// Runs a client script against `kubeconfig`; its findings, one JSON object per step.
    static func run(_ script: String, kubeconfig: String) throws -> [String: [String: Any]] {
        let result = try WindlassTesting.run(python, [repositoryRoot + "/Tests/Fixtures/kube-clients/" + script, kubeconfig], check: false)
        var findings: [String: [String: Any]] = [:]
        for line in result.stdout.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let step = object["step"] as? String else { continue }
            findings[step] = object
        }
        if result.status != 0 { findings["failure"] = ["stderr": result.stderr, "stdout": result.stdout] }
        return findings
    }
}

@Suite("The Kubernetes API of the embedded cluster, to client libraries and raw requests", .serialized)
struct KubeAPIClientTests {
    static func start(changeLog: Int? = nil) async throws -> KubeAPIProcess {
        let server = try KubeAPIProcess(extraArguments: changeLog.map { ["--change-log-size", String($0)] } ?? [])
        try await server.waitForServing()
        return server
    }

    @Test("the official Python client: list, create, patch, delete, and an informer that relists after 410")
    func pythonClient() async throws {
        let server = try await Self.start(changeLog: 10)
        let findings = try PythonClients.run("python_client.py", kubeconfig: server.kubeconfig)
        #expect(findings["failure"] == nil, "\(findings["failure"] ?? [:])")
        #expect((findings["list"]?["namespaces"] as? [String])?.contains("kube-system") == true)
        #expect((findings["patch"]?["data"] as? [String: String]) == ["a": "1", "b": "2"])
        #expect(findings["create"]?["generation"] as? Int == 1)
        #expect(findings["duplicate"]?["status"] as? Int == 409 && findings["duplicate"]?["reason"] as? String == "AlreadyExists")
        #expect(findings["informer"]?["relisted"] as? Bool == true, "30 changes outran a change log of 10: the watch was 410 Expired")
        #expect(findings["informer"]?["seen"] as? Int == 30)
        let events = try #require(findings["watch"]?["events"] as? [[Any]])
        #expect(events.map { $0[0] as? String } == ["MODIFIED", "DELETED"], "\(events)")
        let versions = events.compactMap { $0[2] as? Int }
        #expect(versions.count == 2 && versions[0] < versions[1])
        #expect(findings["delete"]?["status"] as? String == "Success")
        #expect(findings["gone"]?["status"] as? Int == 404)
    }

    @Test("client-go (kubernetes-lite): discovery, dynamic list and create, and a reflector that relists after 410")
    func clientGo() async throws {
        let server = try await Self.start(changeLog: 10)
        let findings = try PythonClients.run("client_go.py", kubeconfig: server.kubeconfig)
        #expect(findings["failure"] == nil, "\(findings["failure"] ?? [:])")
        #expect(findings["list"]?["kind"] as? String == "DeploymentList")
        #expect((findings["get"]?["data"] as? [String: String]) == ["a": "1"])
        #expect(findings["reflector"]?["relisted"] as? Bool == true)
        #expect(findings["reflector"]?["seen"] as? Int == 30)
        #expect((findings["delete"]?["remaining"] as? [String]) == [])
    }

    @Test("bad requests get the Status a Kubernetes API server gives, and change nothing")
    func badInput() async throws {
        let server = try await Self.start()
        func status(_ result: CommandResult) -> (code: Int, reason: String, body: [String: Any]) {
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let code = Int(lines.last ?? "") ?? 0
            let body = (try? JSONSerialization.jsonObject(with: Data(lines.dropLast().joined(separator: "\n").utf8))) as? [String: Any] ?? [:]
            return (code, body["reason"] as? String ?? "", body)
        }
        let configMaps = server.url + "/api/v1/namespaces/default/configmaps"
        func post(_ body: String, type: String = "application/json", to url: String? = nil, method: String = "POST", token: String? = "admin") throws -> (code: Int, reason: String, body: [String: Any]) {
            status(try server.curl(["-X", method, "-H", "Content-Type: \(type)", "--data-binary", body, "-w", "\n%{http_code}", url ?? configMaps], token: token))
        }

        #expect(status(try server.curl(["-w", "\n%{http_code}", configMaps], token: nil)).code == 401)
        #expect(status(try server.curl(["-w", "\n%{http_code}", configMaps], token: "wrong")).code == 401)
        #expect(try post(#"{"apiVersion": "v1", "kind": "#).reason == "BadRequest")
        #expect(try post("kind: [unclosed", type: "application/yaml").code == 400)
        #expect(try post("hello", type: "text/plain").code == 415)
        #expect(status(try server.curl(["-w", "\n%{http_code}", server.url + "/api/v1/namespaces/default/gizmos"])).code == 404)
        #expect(status(try server.curl(["-w", "\n%{http_code}", server.url + "/apis/nothing.example/v9"])).code == 404)

        let invalid = try post(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_Valid"}}"#)
        #expect(invalid.code == 422 && invalid.reason == "Invalid")
        let causes = (invalid.body["details"] as? [String: Any])?["causes"] as? [[String: Any]] ?? []
        #expect(causes.first?["field"] as? String == "metadata.name", "\(invalid.body)")

        #expect(try post(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kept"},"data":{"v":"1"}}"#).code == 201)
        let duplicate = try post(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kept"}}"#)
        #expect(duplicate.code == 409 && duplicate.reason == "AlreadyExists")
        let stale = try post(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kept","resourceVersion":"1"},"data":{"v":"2"}}"#,
                             to: configMaps + "/kept", method: "PUT")
        #expect(stale.code == 409 && stale.reason == "Conflict")
        let strict = try post(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"strict"},"dataa":{}}"#, to: configMaps + "?fieldValidation=Strict")
        #expect(strict.code == 400 && (strict.body["message"] as? String ?? "").contains("unknown field \"dataa\""), "\(strict.body)")
        let wrongKind = try post(#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#)
        #expect(wrongKind.code == 400)
        let otherNamespace = try post(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"kube-system"}}"#)
        #expect(otherNamespace.code == 400)
        let badPatch = try post(#"[{"op":"test","path":"/data/v","value":"9"}]"#, type: "application/json-patch+json", to: configMaps + "/kept", method: "PATCH")
        #expect(badPatch.code == 422)
        let applyWithoutManager = try post(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kept"}}"#, type: "application/apply-patch+yaml", to: configMaps + "/kept", method: "PATCH")
        #expect(applyWithoutManager.code == 400)
        let oversized = String(repeating: "a", count: 3 * 1024 * 1024 + 10)
        try server.state.write("big.json", oversized)
        #expect(status(try server.curl(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@" + server.state.path + "/big.json", "-w", "\n%{http_code}", configMaps])).code == 413)

        // The read-only token reads, and may not write.
        #expect(status(try server.curl(["-w", "\n%{http_code}", configMaps], token: "read-only")).code == 200)
        let forbidden = try post(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ro"}}"#, token: "read-only")
        #expect(forbidden.code == 403 && forbidden.reason == "Forbidden")

        // Nothing was half-written: the one object made is as it was made.
        let kept = try server.kubectl("1.33", ["get", "cm", "-o", "jsonpath={range .items[*]}{.metadata.name}={.data.v};{end}"])
        #expect(kept.stdout.contains("kept=1;") && !kept.stdout.contains("Not_Valid") && !kept.stdout.contains("strict") && !kept.stdout.contains("ro="))

        // A watch from a version the server no longer keeps: one ERROR event, 410 Expired.
        let expired = try server.curl(["--max-time", "5", server.url + "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1"])
        let event = try JSONSerialization.jsonObject(with: Data(expired.stdout.split(separator: "\n").first.map(String.init)?.utf8 ?? "".utf8)) as? [String: Any]
        #expect(event?["type"] as? String == "ERROR")
        #expect((event?["object"] as? [String: Any])?["code"] as? Int == 410, "\(expired.stdout)")
    }

    @Test("options and subresources: dryRun, generateName, pages, bookmarks, eviction against a disruption budget, orphaning, TLS 1.2 or newer")
    func optionsAndSubresources() async throws {
        let server = try await Self.start()
        func call(_ method: String, _ path: String, _ body: String? = nil, type: String = "application/json") throws -> (code: Int, body: [String: Any], text: String) {
            var arguments = ["-X", method, "-w", "\n%{http_code}"]
            if let body { arguments += ["-H", "Content-Type: \(type)", "--data-binary", body] }
            let result = try server.curl(arguments + [server.url + path])
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let text = lines.dropLast().joined(separator: "\n")
            return (Int(lines.last ?? "") ?? 0, (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:], text)
        }
        let cms = "/api/v1/namespaces/default/configmaps"
        // dryRun=All answers the object and stores nothing.
        let dry = try call("POST", cms + "?dryRun=All", #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dry"}}"#)
        #expect(dry.code == 201 && (dry.body["metadata"] as? [String: Any])?["uid"] != nil)
        #expect(try call("GET", cms + "/dry").code == 404)
        #expect(try call("POST", cms + "?dryRun=Some", #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dry"}}"#).code == 400)
        // generateName.
        let generated = try call("POST", cms, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"gen-"}}"#)
        let name = (generated.body["metadata"] as? [String: Any])?["name"] as? String ?? ""
        #expect(generated.code == 201 && name.hasPrefix("gen-") && name.count == 9, "\(generated.text)")
        #expect(try call("POST", cms, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}"#).code == 422)
        // Pages of two.
        for index in 0..<4 { _ = try call("POST", cms, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"page-\#(index)"}}"#) }
        var names: [String] = []
        var token = ""
        for _ in 0..<10 {
            let page = try call("GET", cms + "?labelSelector=&limit=2" + (token.isEmpty ? "" : "&continue=" + token))
            names += ((page.body["items"] as? [[String: Any]]) ?? []).compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }
            token = ((page.body["metadata"] as? [String: Any])?["continue"] as? String ?? "").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            if token.isEmpty { break }
        }
        #expect(names.filter { $0.hasPrefix("page-") } == ["page-0", "page-1", "page-2", "page-3"] && Set(names).count == names.count, "\(names)")
        // A watch that allows bookmarks gets one when nothing happens.
        let watched = try server.curl(["--max-time", "18", server.url + cms + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=17&resourceVersion=0"])
        #expect(watched.stdout.contains(#""type":"BOOKMARK""#), "\(watched.stdout.suffix(300))")
        // Eviction: allowed, then refused (429) while the budget allows no disruption.
        try server.state.write("web.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: web, image: "nginx:1.25"}]}
            ---
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {name: web}
            spec:
              minAvailable: 2
              selector: {matchLabels: {app: web}}

            """)
        #expect(try server.kubectl("1.33", ["apply", "-f", "web.yaml"]).status == 0)
        _ = try await eventually({ try server.kubectl("1.33", ["get", "deploy", "web"]) }) { $0.contains("2/2") }
        let pod = try server.kubectl("1.33", ["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}"]).stdout
        let refused = try call("POST", "/api/v1/namespaces/default/pods/\(pod)/eviction", #"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"\#(pod)"}}"#)
        #expect(refused.code == 429 && refused.body["reason"] as? String == "TooManyRequests", "\(refused.text)")
        #expect(try server.kubectl("1.33", ["patch", "pdb", "web", "--type", "merge", "-p", #"{"spec":{"minAvailable":1}}"#]).status == 0)
        try await Task.sleep(for: .seconds(2))
        let evicted = try call("POST", "/api/v1/namespaces/default/pods/\(pod)/eviction", #"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"\#(pod)"}}"#)
        #expect(evicted.code == 201, "\(evicted.text)")
        // Orphaning: the ReplicaSet stays when its Deployment goes.
        #expect(try call("DELETE", "/apis/apps/v1/namespaces/default/deployments/web?propagationPolicy=Orphan").code == 200)
        let left = try server.kubectl("1.33", ["get", "rs", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.ownerReferences}"])
        #expect(left.status == 0 && left.stdout.isEmpty, "orphans keep no owner reference: \(left.stdout)")
        #expect(try server.kubectl("1.33", ["get", "rs", "-l", "app=web", "-o", "name"]).stdout.contains("replicaset.apps/web-"))
        // TLS 1.1 is refused.
        let old = try server.curl(["--tlsv1.1", "--tls-max", "1.1", server.url + "/version"])
        #expect(old.status != 0)
    }

    @Test("kubeconfigs: the admin's is 0600; the read-only user may get but not create, and can-i says so")
    func kubeconfigs() async throws {
        let server = try await Self.start()
        let mode = try FileManager.default.attributesOfItem(atPath: server.kubeconfig)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let printed = try CLI.run(["cluster", "kubeconfig", "--read-only", "--state-dir", server.stateDirectory, "--listen", String(server.url.dropFirst(8))])
        #expect(printed.status == 0 && printed.stdout.contains("windlass-read-only"))
        let readOnly = try server.state.write("read-only.kubeconfig", printed.stdout)
        #expect(try server.kubectl("1.33", ["get", "ns"], kubeconfig: readOnly).status == 0)
        let denied = try server.kubectl("1.33", ["create", "namespace", "nope"], kubeconfig: readOnly)
        #expect(denied.status != 0 && denied.stderr.contains("Forbidden"), "\(denied.stderr)")
        let canI = try server.kubectl("1.33", ["auth", "can-i", "delete", "pods"], kubeconfig: readOnly)
        #expect(canI.status == 1 && canI.stdout.hasPrefix("no"), "\(canI.stdout)")
        #expect(try server.kubectl("1.33", ["auth", "can-i", "list", "pods"], kubeconfig: readOnly).stdout.hasPrefix("yes"))
    }

    @Test("durability: an object answered 201 survives kill -9; resourceVersions keep increasing after the restart")
    func durability() async throws {
        let server = try await Self.start()
        try server.state.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: durable}\ndata: {k: v}\n")
        let created = try server.kubectl("1.33", ["create", "-f", "cm.yaml", "-o", "jsonpath={.metadata.resourceVersion}"])
        #expect(created.status == 0, "\(created.stderr)")
        let before = Int(created.stdout) ?? 0
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()

        let restarted = try KubeAPIProcess(state: server.state, initialise: false)
        try await restarted.waitForServing()
        #expect(try restarted.kubectl("1.33", ["get", "cm", "durable", "-o", "jsonpath={.data.k}"]).stdout == "v")
        let patched = try restarted.kubectl("1.33", ["patch", "cm", "durable", "-p", #"{"data":{"k":"w"}}"#, "-o", "jsonpath={.metadata.resourceVersion}"])
        #expect((Int(patched.stdout) ?? 0) > before, "\(patched.stdout) after \(before)")
    }

    @Test("1,000 concurrent watches each see a write; the server keeps answering and stops on SIGTERM")
    func manyWatches() async throws {
        let server = try await Self.start()
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(server.stateDirectory + "/api/ca.crt"))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1_100)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let tokens = try String(contentsOfFile: server.stateDirectory + "/api/tokens", encoding: .utf8)
        let token = String(tokens.split(separator: "\n").first { $0.hasPrefix("admin ") }?.dropFirst(6) ?? "")
        let url = server.url
        let listed = try server.kubectl("1.33", ["get", "cm", "-o", "jsonpath={.metadata.resourceVersion}"])
        let version = listed.stdout
        let opened = WatchCount()
        let seen = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<1_000 {
                group.addTask {
                    var request = HTTPClientRequest(url: url + "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=60&resourceVersion=\(version)")
                    request.headers.add(name: "Authorization", value: "Bearer \(token)")
                    let response = try await client.execute(request, timeout: .seconds(90))
                    await opened.add()
                    var text = ""
                    for try await chunk in response.body {
                        text += String(buffer: chunk)
                        if text.contains("\"name\":\"signal\"") { return true }
                    }
                    return false
                }
            }
            while await opened.value < 1_000 { try await Task.sleep(for: .milliseconds(50)) }
            // Meanwhile the server answers other requests.
            #expect(try server.kubectl("1.33", ["get", "ns"]).status == 0)
            #expect(try server.kubectl("1.33", ["create", "configmap", "signal"]).status == 0)
            var count = 0
            for try await saw in group where saw { count += 1 }
            return count
        }
        #expect(seen == 1_000)
        try await client.shutdown()
        let stopped = try await server.terminate()
        #expect(stopped.status == 0)
    }
}

/// How many watches are open.
actor WatchCount {
    private(set) var value = 0
    func add() { value += 1 }
}

