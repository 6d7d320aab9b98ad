import Foundation
import Testing
import WindlassManifest
import WindlassTesting

/// Kustomize sources through the `windlass` binary, rendered by the kustomize on this machine
/// (kubectl's embedded one): plans, pull-request plans, validate, policy check, sync and drift.
@Suite("Kustomize sources, as a user runs windlass on them", .serialized)
struct KustomizeCLITests {
    let repository: GitFixture
    let state: TemporaryDirectory

    init() throws {
        repository = try GitFixture()
        state = try TemporaryDirectory()
        try KustomizeFixture.write(into: repository)
        try repository.commit("base, component, two overlays")
    }

    func windlass(_ arguments: [String]) throws -> CommandResult {
        try CLI.run(arguments + ["--source", repository.path, "--state-dir", state.path], in: repository.path)
    }

    func json(_ result: CommandResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
    }

    /// kind/namespace/name of what `kubectl kustomize` prints for a directory of the repository.
    func kubectlKustomize(_ directory: String) throws -> Set<String> {
        let printed = try run("kubectl", ["kustomize", repository.path + "/" + directory])
        var names: Set<String> = []
        for document in try YAMLReader.read(printed.stdout) where !document.root.isNull {
            let root = document.root
            names.insert("\(root["kind"]?.stringValue ?? "")/\(root[path: ["metadata", "namespace"]]?.stringValue ?? "-")/\(root[path: ["metadata", "name"]]?.stringValue ?? "")")
        }
        return names
    }

    static func names(_ plan: [String: Any]) -> Set<String> {
        Set(((plan["resource_changes"] as? [[String: Any]]) ?? []).map { "\($0["kind"] as? String ?? "")/\($0["namespace"] as? String ?? "-")/\($0["name"] as? String ?? "")" })
    }

    @Test("plan of an overlay: the resources kubectl kustomize prints, the renderer named, no origin annotation")
    func planOverlay() throws {
        for overlay in ["overlays/staging", "overlays/production"] {
            let result = try windlass(["plan", "--path", overlay, "--format", "json", "--no-policies"])
            #expect(result.status == 0, "\(result.stderr)")
            let plan = try json(result)
            #expect(Self.names(plan) == (try kubectlKustomize(overlay)))
            #expect(((plan["source"] as? [String: Any])?["renderer"] as? String)?.hasPrefix("kustomize v") == true)
            let text = try windlass(["plan", "--path", overlay, "--no-policies", "--no-color"])
            #expect(text.status == 0)
            #expect(!text.stdout.contains("config.kubernetes.io/origin"))
            #expect(text.stdout.contains("Plan: 3 to add"), "\(text.stdout)")
        }
        let info = try windlass(["source", "info", "--path", "overlays/staging"])
        #expect(info.stdout.contains(/renderer: +kustomize v\d+\.\d+/), "\(info.stdout)")
    }

    @Test("a pull request that changes only the base shows the change in both overlays")
    func pullRequestChangingTheBase() throws {
        try repository.git(["checkout", "-q", "-b", "pr"])
        try repository.write("base/deployment.yaml", KustomizeFixture.deployment(image: "registry.example/web:1.0", port: 8081))
        try repository.commit("base: port 8081")
        try repository.git(["checkout", "-q", "main"])
        let result = try windlass(["plan", "--path", ".", "--base", "main", "--head", "pr", "--no-live", "--format", "json", "--no-policies"])
        #expect(result.status == 0, "\(result.stderr)")
        let plan = try json(result)
        let changed = ((plan["manifest_changes"] as? [[String: Any]]) ?? []).compactMap { $0["address"] as? String }
        #expect(changed.count == 2, "\(changed)")
        #expect(changed.contains { $0.contains("staging-web") } && changed.contains { $0.contains("prod-web") }, "\(changed)")
        let markdown = try windlass(["plan", "--path", "overlays/staging", "--base", "main", "--head", "pr", "--no-live", "--format", "markdown", "--no-policies"])
        #expect(markdown.status == 0)
        #expect(markdown.stdout.contains("staging-web"), "\(markdown.stdout)")
    }

    @Test("validate and policy check read kustomizations: findings name the file each resource came from")
    func validateAndPolicies() throws {
        let listed = try CLI.run(["validate", "overlays/staging", "--list"], in: repository.path)
        #expect(listed.status == 0, "\(listed.stdout)\(listed.stderr)")
        #expect(listed.stdout.contains(/Deployment\.apps +staging-web +base\/deployment\.yaml:1:1/), "\(listed.stdout)")
        #expect(listed.stdout.hasSuffix("3 resources in 3 files, 0 errors\n"), "\(listed.stdout)")

        try repository.write("overlays/staging/limits.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              template:
                spec:
                  containers:
                    - name: web
                      securityContext: {privileged: true}
            """)
        let policies = try TemporaryDirectory()
        try policies.write("privileged.yaml", privilegedPolicyYAML)
        let checked = try CLI.run(["policy", "check", "overlays/staging", "--policies", policies.path], in: repository.path)
        #expect(checked.status == 1, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("base/deployment.yaml:1:1"), "\(checked.stdout)")

        try repository.write("overlays/staging/kustomization.yaml", "resources:\n  - ../../base\n  - gone.yaml\n")
        let broken = try CLI.run(["validate", "overlays/staging"], in: repository.path)
        #expect(broken.status == 1)
        #expect(broken.stdout.hasPrefix("overlays/staging/kustomization.yaml: error: kustomize build overlays/staging failed"), "\(broken.stdout)")
        #expect(broken.stdout.contains("gone.yaml"))
    }

    @Test("sync of an overlay, then drift: in sync, the origin annotation never reaches the cluster; a broken overlay applies nothing")
    func syncAndDrift() throws {
        #expect(try CLI.run(["cluster", "init", "--nodes", "2", "--state-dir", state.path], in: repository.path).status == 0)
        let sync = try windlass(["sync", "--path", "overlays/staging", "--app", "staging", "--sync-option", "CreateNamespace=true", "--no-policies"])
        #expect(sync.status == 0, "\(sync.stdout)\(sync.stderr)")
        let drift = try windlass(["drift", "--path", "overlays/staging", "--app", "staging"])
        #expect(drift.status == 0, "\(drift.stdout)\(drift.stderr)")
        let live = try CLI.run(["cluster", "get", "deployment", "staging-web", "-n", "staging", "-o", "yaml", "--state-dir", state.path], in: repository.path)
        #expect(live.status == 0, "\(live.stderr)")
        #expect(live.stdout.contains("env: staging") && !live.stdout.contains("config.kubernetes.io/origin"), "\(live.stdout)")
        let history = try CLI.run(["history", "--app", "staging", "-o", "json", "--state-dir", state.path], in: repository.path)
        #expect(history.stdout.contains("\"renderer\""), "\(history.stdout)")

        try repository.write("overlays/staging/kustomization.yaml", "resources:\n  - ../../base\n  - https://example.com/remote.yaml\n")
        try repository.write("base/deployment.yaml", KustomizeFixture.deployment(image: "registry.example/web:9.9"))
        try repository.commit("a remote resource")
        let refused = try windlass(["sync", "--path", "overlays/staging", "--app", "staging", "--sync-option", "CreateNamespace=true", "--no-policies"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("remote resource \"https://example.com/remote.yaml\" refused"), "\(refused.stderr)")
        let after = try CLI.run(["cluster", "get", "deployment", "staging-web", "-n", "staging", "-o", "yaml", "--state-dir", state.path], in: repository.path)
        #expect(after.stdout.contains("registry.example/web:1.1") && !after.stdout.contains("9.9"))
    }
}
