import Foundation
import Testing
import WindlassTesting

/// Runs the built `windlass` executable, which sits beside the test bundle.
struct CLI {
    static let executable: String = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("windlass").path
    }()

    static func run(_ arguments: [String], in directory: String = repositoryRoot) throws -> CommandResult {
        try WindlassTesting.run(executable, arguments, in: directory, check: false)
    }
}

@Suite("windlass validate, as a user runs it")
struct ValidateCommandTests {
    @Test("the bundled manifests are clean: exit 0 and the summary line")
    func bundled() throws {
        let result = try CLI.run(["validate"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary.wholeMatch(of: /\d+ resources in 16 files, 0 errors/) != nil, "\(summary)")
    }

    @Test("--list prints a table of the resources")
    func list() throws {
        let result = try CLI.run(["validate", "manifests", "--list"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("NAMESPACE"))
        #expect(result.stdout.contains(/Deployment\.apps +keystone/))
        #expect(result.stdout.contains(/VirtualMachine\.kubevirt\.io +demo-web/))
        #expect(result.stdout.contains(/RolloutStrategy\.windlass\.dev +nova-api/))
    }

    @Test("a broken manifest: compiler-style lines, a summary, exit 1")
    func findings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("windlass-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  labels: {version: 1.0}\n".utf8)
            .write(to: dir.appendingPathComponent("app.yaml"))
        try Data("key: [unclosed\n".utf8).write(to: dir.appendingPathComponent("broken.yml"))
        let result = try CLI.run(["validate", "."], in: dir.path)
        #expect(result.status == 1)
        #expect(
            result.stdout == """
                app.yaml:5:21: error: ConfigMap app: metadata.labels.version: expected a string, found number 1.0
                broken.yml:1:6: error: this flow sequence is never closed (did not find expected ',' or ']' at 2:1)
                1 resource in 2 files, 2 errors

                """
        )
    }

    @Test("control characters from manifests reach the terminal escaped, in findings and in plan diffs")
    func controlCharacters() throws {
        let dir = try TemporaryDirectory()
        try dir.write("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"bad\\e[31mred\\a\"\n")
        let validate = try CLI.run(["validate", "."], in: dir.path)
        #expect(validate.status == 1)
        #expect(validate.stdout.contains(#"metadata.name "bad\u001b[31mred\u0007""#), "\(validate.stdout)")
        #expect(!validate.stdout.unicodeScalars.contains("\u{1B}") && !validate.stdout.unicodeScalars.contains("\u{07}"))

        try dir.remove("bad.yaml")
        // A valid object whose data holds a window-title sequence and a bidirectional override.
        try dir.write("manifests/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata:\n  motd: \"hi\\e]0;pwned\\a \\u202Eevil\"\n")
        let plan = try CLI.run(["plan", "--source", ".", "--path", "manifests", "--state-dir", dir.path + "/state"], in: dir.path)
        // The diff shows the value as YAML writes it, escapes included.
        #expect(plan.stdout.contains(#"motd: "hi\x1b]0;pwned\x07 \u202eevil""#), "\(plan.stdout)")
        #expect(!plan.stdout.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{202E}" })
    }

    @Test("--output json is a JSON document with the summary, diagnostics and resources")
    func json() throws {
        let result = try CLI.run(["validate", "manifests", "--output", "json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let summary = try #require(object["summary"] as? [String: Int])
        #expect(summary["errors"] == 0)
        #expect(summary["files"] == 16)
        let resources = try #require(object["resources"] as? [[String: Any]])
        #expect(resources.contains { $0["address"] as? String == "apps/Deployment/openstack/keystone" })
    }

    @Test("usage and I/O errors exit 2", arguments: [
        ["validate", "does-not-exist"],
        ["validate", "--output", "xml"],
        ["validate", "--namespace", "Bad_NS"],
        ["no-such-command"],
    ])
    func usage(arguments: [String]) throws {
        let result = try CLI.run(arguments)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("Error: "))
    }

    @Test("--version prints the version")
    func version() throws {
        let result = try CLI.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("0."))
    }
}

@Suite("windlass-bench")
struct BenchHarnessTests {
    /// A smoke size only: benchmarks are not timed tests, but the harness must keep working.
    @Test("a smoke run measures every case and prints the table")
    func smoke() async throws {
        let bench = URL(fileURLWithPath: CLI.executable).deletingLastPathComponent().appendingPathComponent("windlass-bench")
        // Minutes of waiting: off the cooperative pool, which every other test needs.
        let (status, text) = try await offPool { () throws -> (Int32, String) in
            let process = Process()
            process.executableURL = bench
            process.arguments = ["--smoke", "--no-python"]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        #expect(status == 0, "\(text)")
        for name in ["libyaml-scan", "load", "load-1-thread", "load+validate"] {
            #expect(text.contains("| 200 | 0.3 | \(name) |"), "\(name) missing from \(text)")
        }
        // The CLI as users run it: the windlass binary as a child, apply converged among them.
        #expect(text.contains("process: cluster apply -f (20 Deployments × 10 + 20 Services, converged): "), "\(text)")
        #expect(text.contains("process: policy check DIR --policies builtin: "), "\(text)")
    }
}

@Suite("Sources on the command line", .serialized)
struct SourceCommandTests {
    /// A served bare repository with one commit of manifests.
    func served() throws -> (TemporaryDirectory, GitFixture, String) {
        let served = try TemporaryDirectory()
        let work = try GitFixture()
        try work.write("deploy/app.yaml", configMapYAML("app"))
        try work.write("deploy/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad\n")
        let sha = try work.commit("Add app")
        try WindlassTesting.run("git", ["init", "-q", "--bare", "-b", "main", served.path + "/cloud.git"])
        try work.git(["push", "-q", served.path + "/cloud.git", "HEAD:refs/heads/main"])
        return (served, work, sha)
    }

    @Test("validate --source git://… reads the commit, names files path@shortsha, exit 1 on findings")
    func validateRemote() throws {
        let (served, _, sha) = try served()
        let daemon = try GitDaemon(base: served.path)
        defer { daemon.stop() }
        let state = try TemporaryDirectory()
        let result = try CLI.run([
            "validate", "--source", daemon.url("cloud.git"), "--ref", "main", "--path", "deploy", "--state-dir", state.path,
        ])
        #expect(result.status == 1)
        #expect(result.stdout.contains("deploy/bad.yaml@\(sha.prefix(7)):4:9: error: metadata.name \"Bad\""))
        #expect(result.stdout.hasSuffix("2 resources in 2 files, 1 error\n"))
    }

    @Test("source info prints the commit and the number of manifest files, as text and JSON")
    func info() throws {
        let (served, _, sha) = try served()
        let state = try TemporaryDirectory()
        let url = "file://" + served.path + "/cloud.git"
        let text = try CLI.run(["source", "info", "--source", url, "--path", "deploy", "--state-dir", state.path])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("commit:     \(sha)\n"))
        #expect(text.stdout.contains("author:     Ada Lovelace <ada@example.com>\n"))
        #expect(text.stdout.contains("subject:    Add app\n"))
        #expect(text.stdout.contains("manifests:  2 files under deploy\n"))
        let json = try CLI.run(["source", "info", "--source", url, "--path", "deploy", "--state-dir", state.path, "-o", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["commit"] as? [String: Any])?["sha"] as? String == sha)
        #expect(object["manifestFiles"] as? Int == 2)
    }

    @Test("source faults exit 2 with one line naming the redacted URL, ref and operation")
    func faults() throws {
        let state = try TemporaryDirectory()
        let port = try freePort()
        let refused = try CLI.run(["validate", "--source", "http://u:hunter2@127.0.0.1:\(port)/x.git", "--state-dir", state.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.hasPrefix("Error: fetch http://u:***@127.0.0.1:\(port)/x.git: "))
        #expect(!refused.stderr.contains("hunter2"))
        #expect(refused.stderr.split(separator: "\n").count == 1)

        let (served, _, _) = try served()
        let url = "file://" + served.path + "/cloud.git"
        let unknownRef = try CLI.run(["validate", "--source", url, "--ref", "nope", "--path", "deploy", "--state-dir", state.path])
        #expect(unknownRef.status == 2)
        #expect(unknownRef.stderr.contains("resolve \(url) at nope: no branch, tag or commit named \"nope\""))

        let missingPath = try CLI.run(["validate", "--source", url, "--state-dir", state.path])
        #expect(missingPath.status == 2)
        #expect(missingPath.stderr.contains("path \"manifests\" does not exist at"))

        let both = try CLI.run(["validate", "manifests", "--source", url])
        #expect(both.status == 2)

        // A blob over --max-file-size is refused with its size, as a finding.
        let small = try CLI.run(["validate", "--source", url, "--path", "deploy", "--state-dir", state.path, "--max-file-size", "40"])
        #expect(small.status == 1)
        #expect(small.stdout.contains("deploy/app.yaml@"))
        #expect(small.stdout.contains("blob is 72 bytes, larger than the limit of 40 bytes"))
    }
}

@Suite("windlass cluster", .serialized)
struct ClusterCommandTests {
    let app = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}, annotations: {sim.windlass.dev/start-seconds: "0"}}
            spec:
              containers: [{name: web, image: "nginx:1.25"}]
        """

    @Test("init, apply, get: objects created, converged, unchanged on a second apply")
    func lifecycle() throws {
        let dir = try TemporaryDirectory()
        let state = ["--state-dir", dir.path + "/state"]
        let manifest = try dir.write("app.yaml", app)
        #expect(try CLI.run(["cluster", "init", "--nodes", "2"] + state).stdout == "cluster initialised in \(dir.path)/state: 2 nodes of 8 CPU and 32Gi\n")
        let applied = try CLI.run(["cluster", "apply", "-f", manifest] + state)
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout == "namespace/shop created\ndeployment.apps/web created\n")
        let table = try CLI.run(["cluster", "get", "deployments", "-n", "shop"] + state)
        #expect(table.stdout.hasPrefix("NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/2     2            2"), "\(table.stdout)")
        let again = try CLI.run(["cluster", "apply", "-f", manifest] + state)
        #expect(again.stdout == "namespace/shop unchanged\ndeployment.apps/web unchanged\n")
        let json = try CLI.run(["cluster", "get", "pods", "-n", "shop", "-o", "json"] + state)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(list["kind"] as? String == "List")
        #expect((list["items"] as? [Any])?.count == 2)
        #expect(try CLI.run(["cluster", "get", "nodes"] + state).stdout.contains("node-2   Ready"))
        #expect(try CLI.run(["cluster", "get", "pods", "-n", "shop", "-l", "app=web"] + state).stdout.split(separator: "\n").count == 3)
        #expect(try CLI.run(["cluster", "get", "pods", "-n", "shop", "-l", "app=other"] + state).stdout == "No resources found in shop namespace.\n")
        #expect(try CLI.run(["cluster", "events"] + state).stdout.contains("ScalingReplicaSet"))
        let described = try CLI.run(["cluster", "describe", "deployment", "web", "-n", "shop"] + state).stdout
        #expect(described.hasPrefix("Name:          web\nNamespace:     shop\nKind:          Deployment (apps/v1)\n"))
        #expect(described.contains("Health:        Healthy: successfully rolled out\n"))
        #expect(described.contains("Normal   ScalingReplicaSet"))
    }

    @Test("a sync into an embedded cluster with no nodes says so before it waits; after cluster init it does not")
    func syncWithoutNodes() throws {
        let dir = try TemporaryDirectory()
        let state = ["--state-dir", dir.path + "/state"]
        try dir.write("manifests/conf.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf, namespace: default}\ndata: {a: b}\n")
        let first = try CLI.run(["sync", "--source", dir.path, "--no-policies"] + state, in: dir.path)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(
            first.stderr.contains(
                "warning: the embedded cluster in \(dir.path)/state has no nodes, so its pods stay Pending; add some with `windlass cluster init --state-dir \(dir.path)/state`"),
            "\(first.stderr)")
        #expect(try CLI.run(["cluster", "init", "--nodes", "1"] + state).status == 0)
        let second = try CLI.run(["sync", "--source", dir.path, "--no-policies"] + state, in: dir.path)
        #expect(second.status == 0 && !second.stderr.contains("no nodes"), "\(second.stderr)")
    }

    @Test("every kind a sync applies reads back by kind, plural, short name and kind.group; get all and deploy,svc as kubectl shows them")
    func everyKindReadsBack() throws {
        let dir = try TemporaryDirectory()
        let state = ["--state-dir", dir.path + "/state"]
        _ = try dir.write("manifests/app.yaml", app + """

            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {selector: {app: web}, ports: [{port: 80}]}
            ---
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {name: web, namespace: shop}
            spec:
              rules: [{host: shop.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
            ---
            apiVersion: storage.k8s.io/v1
            kind: StorageClass
            metadata: {name: fast}
            provisioner: example.com/fast
            ---
            apiVersion: windlass.dev/v1
            kind: RolloutStrategy
            metadata: {name: web, namespace: shop}
            spec: {targetRef: {kind: Deployment, name: web}, canary: {steps: [{setWeight: 50}]}}
            ---
            apiVersion: windlass.dev/v1
            kind: AnalysisTemplate
            metadata: {name: ready, namespace: shop}
            spec: {metrics: [{name: ready, successCondition: "result[0] == 1", provider: {health: {}}}]}
            ---
            apiVersion: windlass.dev/v1
            kind: PolicyException
            metadata: {name: web, namespace: shop}
            spec:
              exceptions: [{policyName: disallow-privileged-containers}]
              match: {any: [{resources: {kinds: [Deployment], names: [web]}}]}
            """)
        #expect(try CLI.run(["cluster", "init", "--nodes", "2"] + state).status == 0)
        let synced = try CLI.run(["sync", "--source", dir.path, "--no-policies"] + state, in: dir.path)
        #expect(synced.status == 0, "\(synced.stderr)")
        let names: [(String, [String])] = [
            ("web", ["ingress", "ingresses", "ing", "Ingress", "ingresses.networking.k8s.io", "ing.networking.k8s.io"]),
            ("fast", ["storageclass", "storageclasses", "sc", "storageclasses.storage.k8s.io"]),
            ("web", ["rolloutstrategy", "rolloutstrategies", "RolloutStrategy", "rolloutstrategies.windlass.dev"]),
            ("ready", ["analysistemplate", "analysistemplates", "analysistemplates.windlass.dev"]),
            ("web", ["policyexception", "policyexceptions", "policyexceptions.windlass.dev"]),
        ]
        for (name, spellings) in names {
            for spelling in spellings {
                let got = try CLI.run(["cluster", "get", spelling, "-n", "shop"] + state)
                #expect(got.status == 0 && got.stdout.split(separator: "\n").dropFirst().first?.hasPrefix(name + " ") == true, "\(spelling): \(got.stdout)\(got.stderr)")
            }
            let described = try CLI.run(["cluster", "describe", spellings[0], name, "-n", "shop"] + state)
            #expect(described.status == 0 && described.stdout.hasPrefix("Name:          \(name)\n"), "\(spellings[0]): \(described.stderr)")
        }

        let all = try CLI.run(["cluster", "get", "all", "-n", "shop"] + state)
        #expect(all.status == 0, "\(all.stderr)")
        let headers = all.stdout.split(separator: "\n\n").map { $0.split(separator: "\n")[1].prefix { $0 != "/" } }
        #expect(headers == ["pod", "service", "deployment.apps", "replicaset.apps"], "\(all.stdout)")
        #expect(!all.stdout.contains("ingress"), "Ingress is not in the all category")
        let two = try CLI.run(["cluster", "get", "deploy,svc", "web", "-n", "shop"] + state)
        #expect(two.stdout.contains("deployment.apps/web ") && two.stdout.contains("service/web "), "\(two.stdout)")
        #expect(try CLI.run(["cluster", "get", "all", "-n", "empty"] + state).stdout == "No resources found in empty namespace.\n")
        let wrong = try CLI.run(["cluster", "get", "deploy,nothing"] + state)
        #expect(wrong.status != 0 && wrong.stderr.contains("the server doesn't have a resource type \"nothing\""))
    }

    @Test("the bundled OpenStack manifests apply and converge to Healthy, VMs and compute nodes included")
    func bundledConverges() throws {
        let dir = try TemporaryDirectory()
        let state = ["--state-dir", dir.path + "/state"]
        #expect(try CLI.run(["cluster", "init", "--label", "openstack.org/compute-node=true"] + state).status == 0)
        let applied = try CLI.run(["cluster", "apply", "-f", "manifests"] + state)
        #expect(applied.status == 0, "\(applied.stderr)")
        let waited = try CLI.run(["cluster", "wait", "--timeout", "60s"] + state)
        #expect(waited.status == 0, "\(waited.stderr)")
        #expect(waited.stdout == "all objects are Healthy\n")
        let vms = try CLI.run(["cluster", "get", "vm", "-A"] + state).stdout
        #expect(vms.contains("demo-db    ") && vms.contains("Running   True"))
        let daemonSets = try CLI.run(["cluster", "get", "ds", "-n", "openstack"] + state).stdout
        #expect(daemonSets.contains("nova-compute   3         3         3"))
        let condition = try CLI.run(["cluster", "wait", "deployment/keystone", "-n", "openstack", "--for", "condition=Available"] + state)
        #expect(condition.stdout == "deployment/keystone condition met\n")
        let missing = try CLI.run(["cluster", "wait", "deployment/nope", "--timeout", "1s"] + state)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("timed out waiting for: deployment/nope (not found)"))
    }

    @Test("every kind is read back by its plural, short name or kind.group, custom resources included; an unknown one is named")
    func kindsByDiscovery() throws {
        let dir = try TemporaryDirectory()
        let state = ["--state-dir", dir.path + "/state"]
        let manifest = try dir.write(
            "kinds.yaml",
            """
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            apiVersion: storage.k8s.io/v1
            kind: StorageClass
            metadata: {name: fast}
            provisioner: example.com/ssd
            ---
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {name: web, namespace: shop}
            spec:
              rules: [{host: shop.example.com}]
            ---
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.example.com}
            spec:
              group: example.com
              scope: Namespaced
              names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
              versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
            """)
        let applied = try CLI.run(["cluster", "apply", "-f", manifest] + state)
        #expect(applied.status == 0, "\(applied.stderr)")
        let widget = try dir.write("widget.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: gear, namespace: shop}\nspec: {size: 3}\n")
        #expect(try CLI.run(["cluster", "apply", "-f", widget] + state).status == 0)
        #expect(try CLI.run(["cluster", "get", "ingress", "-n", "shop"] + state).stdout.contains("web"))
        #expect(try CLI.run(["cluster", "get", "ing", "web", "-n", "shop", "-o", "yaml"] + state).stdout.contains("host: shop.example.com"))
        #expect(try CLI.run(["cluster", "get", "sc"] + state).stdout.contains("fast"))
        #expect(try CLI.run(["cluster", "get", "storageclasses.storage.k8s.io", "fast", "-o", "json"] + state).stdout.contains("example.com/ssd"))
        #expect(try CLI.run(["cluster", "get", "wd", "-n", "shop"] + state).stdout.contains("gear"))
        #expect(try CLI.run(["cluster", "describe", "widgets.example.com", "gear", "-n", "shop"] + state).status == 0)
        let unknown = try CLI.run(["cluster", "get", "gizmos"] + state)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("the server doesn't have a resource type \"gizmos\""))
        let missing = try CLI.run(["cluster", "get", "ingress", "nope", "-n", "shop"] + state)
        #expect(missing.stderr.contains("ingresses.networking.k8s.io \"nope\" not found"), "\(missing.stderr)")
    }

    @Test("scale and delete, as kubectl users type them")
    func scaleAndDelete() throws {
        let dir = try TemporaryDirectory()
        let state = ["--state-dir", dir.path + "/state"]
        _ = try CLI.run(["cluster", "init"] + state)
        _ = try CLI.run(["cluster", "apply", "-f", try dir.write("app.yaml", app)] + state)
        let scaled = try CLI.run(["cluster", "scale", "deployment/web", "--replicas", "4", "-n", "shop"] + state)
        #expect(scaled.stdout == "deployment.apps/web scaled\n", "\(scaled.stderr)")
        #expect(try CLI.run(["cluster", "wait", "deployment/web", "-n", "shop"] + state).status == 0)
        #expect(try CLI.run(["cluster", "get", "deploy", "web", "-n", "shop"] + state).stdout.contains("4/4"))
        let deleted = try CLI.run(["cluster", "delete", "deployment", "web", "-n", "shop"] + state)
        #expect(deleted.stdout == "deployment.apps \"web\" deleted\n")
        #expect(try CLI.run(["cluster", "get", "pods", "-n", "shop"] + state).stdout == "No resources found in shop namespace.\n")
        let missing = try CLI.run(["cluster", "delete", "deployment", "web", "-n", "shop"] + state)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("deployments.apps \"web\" not found"))
        #expect(try CLI.run(["cluster", "scale", "configmap/x", "--replicas", "1"] + state).status == 2)
    }

    @Test("a failed node heals: its pods come back elsewhere after the grace period")
    func failedNodeHeals() throws {
        let dir = try TemporaryDirectory()
        let state = ["--state-dir", dir.path + "/state"]
        _ = try CLI.run(["cluster", "init", "--nodes", "2"] + state)
        _ = try CLI.run(["cluster", "apply", "-f", try dir.write("app.yaml", app)] + state)
        #expect(try CLI.run(["cluster", "wait"] + state).status == 0)
        #expect(try CLI.run(["cluster", "fail-node", "node-1", "--grace-period", "1"] + state).stdout == "node/node-1 failed\n")
        #expect(try CLI.run(["cluster", "get", "nodes"] + state).stdout.contains("node-1   NotReady"))
        let healed = try CLI.run(["cluster", "wait", "--timeout", "20s"] + state)
        #expect(healed.status == 0, "\(healed.stderr)")
        let wide = try CLI.run(["cluster", "get", "pods", "-n", "shop", "-o", "wide"] + state).stdout
        #expect(!wide.contains("node-1"))
        #expect(try CLI.run(["cluster", "recover-node", "node-1"] + state).status == 0)
        let drained = try CLI.run(["cluster", "drain", "node-2"] + state)
        #expect(drained.stdout.hasSuffix("node/node-2 drained\n"))
        #expect(try CLI.run(["cluster", "get", "nodes"] + state).stdout.contains("node-2   Ready,SchedulingDisabled"))
        #expect(try CLI.run(["cluster", "wait", "--timeout", "20s"] + state).status == 0)
        #expect(try CLI.run(["cluster", "fail-node", "node-9"] + state).status == 2)
    }

    @Test("a refused object means nothing is applied; an immutable change is refused")
    func refusals() throws {
        let dir = try TemporaryDirectory()
        let state = ["--state-dir", dir.path + "/state"]
        _ = try CLI.run(["cluster", "init"] + state)
        let broken = try dir.write("broken.yaml", app + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name, namespace: shop}\n")
        let refused = try CLI.run(["cluster", "apply", "-f", broken] + state)
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("nothing applied"))
        #expect(try CLI.run(["cluster", "get", "ns", "shop"] + state).status == 2)

        let manifest = try dir.write("app.yaml", app)
        _ = try CLI.run(["cluster", "apply", "-f", manifest] + state)
        let moved = try dir.write("moved.yaml", app.replacingOccurrences(of: "matchLabels: {app: web}", with: "matchLabels: {app: web, tier: x}").replacingOccurrences(of: "labels: {app: web}", with: "labels: {app: web, tier: x}"))
        let immutable = try CLI.run(["cluster", "apply", "-f", moved] + state)
        #expect(immutable.status == 2)
        #expect(immutable.stderr.contains("spec.selector: field is immutable"))
    }

    @Test("a second process on the same state directory is told who owns it")
    func locked() throws {
        let dir = try TemporaryDirectory()
        // Hold the lock from this test process, as a running daemon would.
        let path = dir.path + "/state"
        let result = try CLI.run(["cluster", "nodes", "--state-dir", path])
        #expect(result.status == 0)
        let lock = try StateLockHolder(path)
        let busy = try CLI.run(["cluster", "nodes", "--state-dir", path])
        #expect(busy.status == 2)
        #expect(busy.stderr.contains("is in use by process \(getpid())"))
        _ = lock
    }

    @Test("kill -9 during an apply loses nothing that was acknowledged")
    func killDuringApply() throws {
        let dir = try TemporaryDirectory()
        let state = dir.path + "/state"
        _ = try CLI.run(["cluster", "init", "--state-dir", state])
        var documents = ["apiVersion: v1\nkind: Namespace\nmetadata: {name: bulk}"]
        for i in 0..<400 {
            documents.append("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-\(i), namespace: bulk}\ndata: {i: '\(i)'}")
        }
        let manifest = try dir.write("bulk.yaml", documents.joined(separator: "\n---\n"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.executable)
        process.arguments = ["cluster", "apply", "-f", manifest, "--state-dir", state]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // Read acknowledgements until some have come, then kill the process outright.
        var acknowledged = ""
        while acknowledged.components(separatedBy: "\n").count < 60 {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            acknowledged += String(decoding: chunk, as: UTF8.self)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        // It was killed mid-apply, not finished before the signal.
        #expect(process.terminationReason == .uncaughtSignal)
        let names = acknowledged.split(separator: "\n").filter { $0.hasSuffix(" created") && $0.hasPrefix("configmap/") }
            .map { $0.dropFirst("configmap/".count).dropLast(" created".count) }
        #expect(names.count >= 50)
        let listed = try CLI.run(["cluster", "get", "cm", "-n", "bulk", "-o", "json", "--state-dir", state])
        #expect(listed.status == 0, "\(listed.stderr)")
        for name in names {
            #expect(listed.stdout.contains("\"name\": \"\(name)\""), "acknowledged \(name) was lost")
        }
    }
}

struct LockError: Error {}

/// Holds a state directory's lock the way the embedded cluster does (flock on `<dir>/lock`).
final class StateLockHolder {
    let fd: Int32

    init(_ directory: String) throws {
        fd = open(directory + "/lock", O_RDWR | O_CREAT, 0o644)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else { throw LockError() }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    deinit {
        close(fd)
    }
}
