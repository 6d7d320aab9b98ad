import Foundation
import Testing
import WindlassTesting

/// A team's repository with the built-in pack copied into policies/, and an application whose
/// web Deployment runs privileged.
struct PolicyRepository {
    let repository: GitFixture
    let state: TemporaryDirectory

    static func deployment(privileged: Bool) -> String {
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
                  image: registry.example/web:1.0
                  securityContext: {allowPrivilegeEscalation: false, privileged: \(privileged)}
        """
    }

    init(privileged: Bool = true) throws {
        repository = try GitFixture()
        state = try TemporaryDirectory()
        try repository.write("manifests/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
        try repository.write("manifests/web.yaml", Self.deployment(privileged: privileged))
        try FileManager.default.copyItem(atPath: repositoryRoot + "/policies", toPath: repository.path + "/policies")
        try repository.commit("web, privileged")
        #expect(try CLI.run(["cluster", "init", "--state-dir", state.path]).status == 0)
    }

    /// Runs in the repository, so ./policies is the pack.
    func windlass(_ arguments: [String]) throws -> CommandResult {
        try CLI.run(arguments + ["--source", repository.path, "--state-dir", state.path], in: repository.path)
    }
}

@Suite("windlass policy check and policy test, as a user runs them")
struct PolicyCommandTests {
    @Test("the bundled manifests: exit 0, nova-compute's exception as SKIP lines, Audit findings as WARN, the summary")
    func bundled() throws {
        let result = try CLI.run(["policy", "check", "manifests"], in: repositoryRoot)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("SKIP - manifests/40-compute/nova-compute.yaml:3:1 - disallow-privileged-containers/privileged-containers - exception nova-compute-host-access"))
        #expect(lines.contains { $0.hasPrefix("WARN - manifests/30-services/glance-api.yaml:") && $0.contains("production-rollouts/canary-analysis") })
        #expect(!lines.contains { $0.hasPrefix("FAIL") })
        #expect(lines.last?.wholeMatch(of: /30 resources, \d+ passed, \d+ warnings, 0 failures, 5 exceptions/) != nil, "\(lines.last ?? "")")
    }

    @Test("one unreadable file stops nothing else: its error is listed, the others are judged, exit 2; no noise about idle policies")
    func everyFileReported() throws {
        let dir = try TemporaryDirectory()
        _ = try dir.write("m/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: 1, x: 2}\n")
        _ = try dir.write("m/template.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: {{ .Values.name }}}\n")
        _ = try dir.write("m/web.yaml", PolicyRepository.deployment(privileged: true))
        let result = try CLI.run(["policy", "check", dir.path + "/m", "--policies", repositoryRoot + "/policies"], in: dir.path)
        #expect(result.status == 2, "errors say so in the exit status")
        #expect(result.stderr.contains("broken.yaml:4:14: error: duplicate key \"x\""), "\(result.stderr)")
        #expect(result.stderr.contains("template.yaml:3:19: error:"), "\(result.stderr)")
        #expect(result.stderr.contains("2 files with errors not judged; the other files are"))
        #expect(result.stdout.contains("FAIL - \(dir.path)/m/web.yaml:1:1 - disallow-privileged-containers/privileged-containers"), "\(result.stdout)")
        #expect(!result.stderr.contains("matched none"), "idle policies are named only with --verbose")
        // A failure's detail names each path once.
        let runAsRoot = result.stdout.split(separator: "\n").first { $0.contains("run-as-non-root") } ?? ""
        #expect(runAsRoot.contains("no pattern matched: spec.securityContext is missing; spec.containers[0].securityContext"), "\(runAsRoot)")
        #expect(runAsRoot.ranges(of: "spec.securityContext is missing").count == 1, "\(runAsRoot)")

        let verbose = try CLI.run(["policy", "check", dir.path + "/m/web.yaml", "--policies", repositoryRoot + "/policies", "--verbose"], in: dir.path)
        #expect(verbose.stderr.contains("note: policy production-rollouts matched none of the 1 resources"), "\(verbose.stderr)")
    }

    @Test("an Enforce failure: exit 1 and a located FAIL line; json, junit and github say the same; --fail-on-warn")
    func failures() throws {
        let repo = try PolicyRepository()
        let manifests = repo.repository.path + "/manifests"
        let text = try CLI.run(["policy", "check", manifests], in: repo.repository.path)
        #expect(text.status == 1)
        #expect(text.stdout.contains("FAIL - \(manifests)/web.yaml:1:1 - disallow-privileged-containers/privileged-containers - "), "\(text.stdout)")
        #expect(text.stdout.contains("(spec.containers[0].securityContext.privileged is true, expected false)"))
        #expect(text.stdout.hasSuffix(" 1 failure, 0 exceptions\n"))

        let json = try CLI.run(["policy", "check", manifests, "-o", "json"], in: repo.repository.path)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["summary"] as? [String: Int])?["failures"] == 1)
        #expect(((object["results"] as? [[String: Any]]) ?? []).contains { $0["check_id"] as? String == "CKV_K8S_16" && $0["status"] as? String == "fail" && $0["line"] as? Int == 1 })

        let junit = try CLI.run(["policy", "check", manifests, "-o", "junit"], in: repo.repository.path)
        #expect(junit.stdout.hasPrefix("<?xml") && junit.stdout.contains("<failure type=\"fail\""))
        // Well-formed, as a CI's JUnit reader needs it: Python's parser reads it.
        let scratch = try TemporaryDirectory()
        let junitFile = try scratch.write("report.xml", junit.stdout)
        let parsed = try WindlassTesting.run(
            "/usr/bin/python3", ["-c", "import sys, xml.dom.minidom; d = xml.dom.minidom.parse(sys.argv[1]); print(len(d.getElementsByTagName('testcase')))", junitFile],
            in: repo.repository.path, check: false)
        #expect(parsed.status == 0 && (Int(parsed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 20, "\(parsed.stderr)")

        let github = try CLI.run(["policy", "check", manifests, "-o", "github"], in: repo.repository.path)
        #expect(github.stdout.contains("::error file=\(manifests)/web.yaml,line=1,col=1,title=disallow-privileged-containers/privileged-containers::"))
        #expect(github.stdout.contains("::warning file="))

        // Hardened, the privileged flag gone: no failure, warnings only (exit 0, or 1 with --fail-on-warn).
        try repo.repository.write("manifests/web.yaml", PolicyRepository.deployment(privileged: false))
        #expect(try CLI.run(["policy", "check", manifests], in: repo.repository.path).status == 0)
        #expect(try CLI.run(["policy", "check", manifests, "--fail-on-warn"], in: repo.repository.path).status == 1)
    }

    @Test("bad policies stop with exit 2, a located error and nothing judged", arguments: [
        ("spec: {rules: [{name: r, match: {resources: {kinds: [Pod]}}, validate: {deny: {conditions: {any: [{key: \"{{ spec.hostPID }}\", operator: Matches, value: true}]}}}}]}",
         "unknown operator \"Matches\""),
        ("spec: {rules: [{name: r, match: {resources: {kinds: [Pod]}}, validate: {pattern: {spec: {\"=(hostPID\": false}}}}]}", "opens an anchor"),
        ("spec: {rules: [{name: r, match: {resources: {kinds: [pod]}}, validate: {pattern: {spec: {}}}}]}", "is not a kind"),
        ("spec: {rules: [{name: r, match: {resources: {kinds: [Pod]}}, validate: {pattern: {spec: {containers: [{image: \"<= many\"}]}}}}]}", "not a number or quantity"),
        ("spec: {rules: [{name: r, match: {resources: {kinds: [Pod]}}, validate: {pattern: {spec: {}}}}]\n", "yaml"),
    ])
    func badPolicies(spec: String, message: String) throws {
        let dir = try TemporaryDirectory()
        _ = try dir.write("policies/good.yaml", "apiVersion: windlass.dev/v1\nkind: Policy\nmetadata: {name: good}\nspec: {rules: [{name: r, match: {resources: {kinds: [Pod]}}, validate: {pattern: {spec: {}}}}]}\n")
        _ = try dir.write("policies/bad.yaml", "apiVersion: windlass.dev/v1\nkind: Policy\nmetadata: {name: bad}\n" + spec)
        _ = try dir.write("manifests/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: c, image: \"x:1\"}]}\n")
        let result = try CLI.run(["policy", "check", "manifests"], in: dir.path)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty, "nothing is judged: \(result.stdout)")
        let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("policies/bad.yaml:4:"), "\(result.stderr)")
        #expect(message == "yaml" || first.contains(message), "\(first)")
        #expect(result.stderr.contains("nothing was judged"))
    }

    @Test("a missing policies directory is one clear error, exit 2")
    func missing() throws {
        let dir = try TemporaryDirectory()
        _ = try dir.write("manifests/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n")
        let result = try CLI.run(["policy", "check", "manifests", "--policies", "nowhere"], in: dir.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("nowhere: cannot read policies: No such file or directory"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("policy test: the pack's own tests pass; a wrong expectation is a FAIL line and exit 1")
    func policyTest() throws {
        let pack = try CLI.run(["policy", "test"], in: repositoryRoot)
        #expect(pack.status == 0, "\(pack.stdout)\(pack.stderr)")
        #expect(pack.stdout.wholeMatch(of: /(\d+) tests, \1 passed, 0 failed\n/) != nil, "\(pack.stdout)")

        let dir = try TemporaryDirectory()
        try FileManager.default.copyItem(atPath: repositoryRoot + "/policies/disallow-host-pid.yaml", toPath: dir.path + "/disallow-host-pid.yaml")
        _ = try dir.write(
            "disallow-host-pid.test.yaml",
            """
            apiVersion: windlass.dev/v1
            kind: PolicyTest
            metadata: {name: wrong}
            results:
              - {policy: disallow-host-pid, rule: host-pid, resources: [Pod/shares], result: pass}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: shares, namespace: shop}
            spec: {hostPID: true, containers: [{name: c, image: "x:1"}]}
            """)
        let wrong = try CLI.run(["policy", "test", dir.path], in: dir.path)
        #expect(wrong.status == 1)
        #expect(wrong.stdout.contains("disallow-host-pid.test.yaml:5:5 - disallow-host-pid/host-pid - Pod/shares: expected pass, got fail"), "\(wrong.stdout)")
        #expect(wrong.stdout.hasSuffix("1 tests, 0 passed, 1 failed\n"))
    }

    @Test("policies come from the source at the commit, not the working directory; builtin needs no copy")
    func policiesFromTheSource() throws {
        let repo = try PolicyRepository()
        // Elsewhere, a working directory whose policies/ allows everything: it does not count.
        let elsewhere = try TemporaryDirectory()
        _ = try elsewhere.write("policies/README.md", "nothing here\n")
        let fromElsewhere = try CLI.run(["plan", "--source", repo.repository.path, "--state-dir", repo.state.path], in: elsewhere.path)
        #expect(fromElsewhere.status == 1, "the source's policies/ judged it: \(fromElsewhere.stdout)")
        #expect(fromElsewhere.stdout.contains("FAIL - manifests/web.yaml@"), "\(fromElsewhere.stdout)")
        #expect(fromElsewhere.stdout.contains("policies/ at "), "the plan says where the policies came from: \(fromElsewhere.stdout)")

        // At an older commit without the privileged container, the same policies pass it.
        try repo.repository.write("manifests/web.yaml", PolicyRepository.deployment(privileged: false))
        let fixed = try repo.repository.commit("web, unprivileged")
        #expect(try CLI.run(["plan", "--source", repo.repository.path, "--ref", fixed, "--state-dir", repo.state.path], in: elsewhere.path).status == 0)
        // A commit that removes the policies: the head is judged by its own (none).
        try repo.repository.git(["rm", "-rq", "policies"])
        try repo.repository.write("manifests/web.yaml", PolicyRepository.deployment(privileged: true))
        _ = try repo.repository.commit("no policies")
        #expect(try CLI.run(["plan", "--source", repo.repository.path, "--state-dir", repo.state.path], in: elsewhere.path).status == 0)

        // The built-in pack, from a directory without any policies.
        let builtin = try CLI.run(["plan", "--source", repo.repository.path, "--state-dir", repo.state.path, "--policies", "builtin"], in: elsewhere.path)
        #expect(builtin.status == 1 && builtin.stdout.contains("disallow-privileged-containers"), "\(builtin.stdout)")
        let checked = try CLI.run(["policy", "check", repo.repository.path + "/manifests", "--policies", "builtin"], in: elsewhere.path)
        #expect(checked.status == 1 && checked.stdout.contains("FAIL - "), "\(checked.stdout)\(checked.stderr)")
        let tested = try CLI.run(["policy", "test", "builtin"], in: elsewhere.path)
        #expect(tested.status == 0 && tested.stdout.wholeMatch(of: /(\d+) tests, \1 passed, 0 failed\n/) != nil, "\(tested.stdout)\(tested.stderr)")
    }

    @Test("plan shows the verdicts (text, Markdown, JSON) and exits 1 on an Enforce failure; sync refuses and applies nothing")
    func planAndSync() throws {
        let repo = try PolicyRepository()
        let plan = try repo.windlass(["plan"])
        #expect(plan.status == 1)
        #expect(plan.stdout.contains("Policies: (policies/ at "), "\(plan.stdout)")
        #expect(plan.stdout.contains("FAIL - manifests/web.yaml@"), "\(plan.stdout)")
        #expect(plan.stdout.contains("A sync of this plan is refused: an Enforce rule fails."))
        let markdown = try repo.windlass(["plan", "--format", "markdown"])
        #expect(markdown.stdout.contains("#### Policies"))
        #expect(markdown.stdout.contains("| FAIL | `apps/Deployment/shop/web` | `disallow-privileged-containers/privileged-containers` |"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try repo.windlass(["plan", "--format", "json"]).stdout.utf8)) as? [String: Any])
        #expect((json["policy_summary"] as? [String: Int])?["failures"] == 1)
        #expect(((json["policy_results"] as? [[String: Any]]) ?? []).contains { $0["policy"] as? String == "disallow-privileged-containers" })

        let sync = try repo.windlass(["sync"])
        #expect(sync.status == 1)
        #expect(sync.stderr.contains("FAIL - manifests/web.yaml@"))
        #expect(sync.stderr.contains("sync refused: 1 Enforce rule failure; nothing was applied"), "\(sync.stderr)")
        #expect(try CLI.run(["cluster", "get", "deployment", "web", "-n", "shop", "--state-dir", repo.state.path]).status != 0, "nothing applied")
        #expect(try CLI.run(["history", "--state-dir", repo.state.path]).stdout.contains("no revisions"))

        // --no-policies skips them; an exception in the manifests lets the Deployment through, visibly.
        #expect(try repo.windlass(["plan", "--no-policies"]).status == 0)
        try repo.repository.write(
            "manifests/exception.yaml",
            """
            apiVersion: windlass.dev/v1
            kind: PolicyException
            metadata: {name: web-needs-privileges, namespace: shop}
            spec:
              exceptions: [{policyName: disallow-privileged-containers}]
              match: {any: [{resources: {kinds: [Deployment], names: [web]}}]}
            """)
        try repo.repository.commit("an exception for web")
        let excepted = try repo.windlass(["sync"])
        #expect(excepted.status == 0, "\(excepted.stdout)\(excepted.stderr)")
        #expect(try repo.windlass(["plan"]).stdout.contains("SKIP - manifests/web.yaml@"))
    }

    @Test("a pull request is judged by its base's policies: loosening them in the same pull request does not let it pass")
    func pullRequestJudgedByBase() throws {
        let repo = try PolicyRepository(privileged: false)
        let base = String(try repo.repository.git(["rev-parse", "HEAD"]).prefix(7))
        try repo.repository.git(["checkout", "-q", "-b", "pr"])
        try repo.repository.write("manifests/web.yaml", PolicyRepository.deployment(privileged: true))
        let rule = repo.repository.path + "/policies/disallow-privileged-containers.yaml"
        let loosened = try String(contentsOfFile: rule, encoding: .utf8).replacingOccurrences(of: "failureAction: Enforce", with: "failureAction: Audit")
        try repo.repository.write("policies/disallow-privileged-containers.yaml", loosened)
        try repo.repository.commit("pr: web privileged, and the rule against it only audits")

        // The work tree is the pull request's, so ./policies is its loosened copy; the base's rule judges.
        let plan = try repo.windlass(["plan", "--base", "main", "--head", "pr", "--no-live", "--format", "json"])
        #expect(plan.status == 1, "\(plan.stdout)\(plan.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        let summary = try #require(object["policy_summary"] as? [String: Any])
        #expect(summary["failures"] as? Int == 1)
        #expect(object["policy_source"] as? String == "policies/ at \(base), the base (main)")
        let warnings = object["warnings"] as? [String] ?? []
        #expect(warnings.contains { $0.hasPrefix("this pull request changes 1 file under policies/ (policies/disallow-privileged-containers.yaml)") }, "\(warnings)")
        let results = object["policy_results"] as? [[String: Any]] ?? []
        #expect(results.contains { $0["policy"] as? String == "disallow-privileged-containers" && $0["status"] as? String == "fail" }, "\(results)")

        let markdown = try repo.windlass(["plan", "--base", "main", "--head", "pr", "--no-live", "--format", "markdown"])
        #expect(markdown.stdout.contains("Judged by the policies in policies/ at \(base), the base (main)."), "\(markdown.stdout)")
        let text = try repo.windlass(["plan", "--base", "main", "--head", "pr", "--no-live"])
        #expect(text.stdout.contains("Policies: (policies/ at \(base), the base (main))"), "\(text.stdout)")

        // Named on the command line, a directory is used as it is: the loosened copy only warns.
        let named = try repo.windlass(["plan", "--base", "main", "--head", "pr", "--no-live", "--format", "json", "--policies", "policies"])
        #expect(named.status == 0, "\(named.stdout)\(named.stderr)")
        let namedPlan = try JSONSerialization.jsonObject(with: Data(named.stdout.utf8)) as? [String: Any]
        #expect((namedPlan?["policy_summary"] as? [String: Any])?["failures"] as? Int == 0)
        #expect(namedPlan?["policy_source"] is NSNull)
        #expect(try repo.windlass(["plan", "--base", "main", "--head", "pr", "--no-live", "--no-policies"]).status == 0)

        // A base whose policies do not read is one located error naming the base's file, and no plan.
        try repo.repository.git(["checkout", "-q", "main"])
        try repo.repository.write("policies/broken.yaml", "apiVersion: windlass.dev/v1\nkind: Policy\nmetadata: {name: broken}\nspec: {rules: [{name: r}]}\n")
        try repo.repository.commit("a broken policy")
        try repo.repository.git(["checkout", "-q", "pr"])
        let broken = try repo.windlass(["plan", "--base", "main", "--head", "pr", "--no-live"])
        #expect(broken.status == 2, "\(broken.stdout)\(broken.stderr)")
        #expect(broken.stderr.contains("policies/broken.yaml@"), "\(broken.stderr)")
    }
}
