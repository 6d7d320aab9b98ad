import Testing
import WindlassManifest
import WindlassPolicy

@Suite("Policy keys, selectors, reports")
struct PolicyContextTests {
    @Test("& joins terms that must all hold; * and ?* accept mappings and lists", arguments: [
        ("spec: {containers: [{image: \"*:* & !*:latest\"}]}", false),  // the sidecar is :latest
        ("spec: {containers: [{image: \"*@* | */*:?* | !*/* & *:?* & !*:latest\"}]}", false),
        ("spec: {containers: [{resources: {limits: \"?*\"}}]}", true),
        ("spec: {containers: [{securityContext: \"*\"}]}", false),  // the sidecar has none
        ("spec: {containers: [{resources: {limits: {memory: \">=512Mi & <=2Gi\"}}}]}", true),
        ("spec: {containers: [{resources: {limits: {memory: \">512Mi & <=2Gi\"}}}]}", false),
    ])
    func conjunction(pattern: String, passes: Bool) {
        #expect((Pattern.match(pod, yaml(pattern)) == .pass) == passes)
    }

    static let production = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: live, labels: {windlass.dev/tier: production}}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: lab}
        ---
        apiVersion: windlass.dev/v1
        kind: Policy
        metadata: {name: gated}
        spec:
          rules:
            - name: canary
              match: {resources: {kinds: [Deployment], namespaceSelector: {matchLabels: {windlass.dev/tier: production}}}}
              validate:
                message: "{{ request.object.metadata.name }} has {{ length(rolloutStrategy.spec.canary.steps[].analysis) }} analysis steps"
                deny:
                  conditions:
                    any:
                      - {key: "{{ length(rolloutStrategy.spec.canary.steps[].analysis) }}", operator: LessThan, value: 1}
                      - {key: "{{ keys(request.object.spec.template.metadata.annotations) }}", operator: AnyIn, value: ["sim.windlass.dev/*"]}
        ---
        apiVersion: windlass.dev/v1
        kind: RolloutStrategy
        metadata: {name: web, namespace: live}
        spec:
          targetRef: {kind: Deployment, name: web}
          canary: {steps: [{setWeight: 50}, {analysis: {templates: [{templateName: t}]}}]}
        """

    @Test("namespaceSelector sees the namespaces' labels; rolloutStrategy is the strategy targeting the workload; length() and keys()")
    func context() throws {
        let set = try load(
            [Self.production, deployment("web", namespace: "live"), deployment("api", namespace: "live"), deployment("web", namespace: "lab")]
                .joined(separator: "\n---\n"))
        let (read, problems) = PolicyReader.read(set)
        #expect(problems.isEmpty, "\(problems)")
        let results = PolicyEngine.evaluate(read, on: set)
        #expect(results.map { "\($0.resource.namespace ?? "")/\($0.resource.name) \($0.status.rawValue)" } == ["live/web pass", "live/api warn"])
        #expect(results.last?.message == "api has 0 analysis steps")
        #expect(results.last?.location?.description.hasSuffix("policy.yaml:44:1") == true, "\(results.last?.location?.description ?? "")")
        // The live cluster's labels count too: `lab` labelled production there.
        let live = PolicyEngine.evaluate(read, on: set.resources.filter { $0.id.kind != "Namespace" }, namespaceLabels: ["lab": ["windlass.dev/tier": "production"]])
        #expect(live.map { "\($0.resource.namespace ?? "")/\($0.resource.name)" } == ["lab/web"])
    }

    @Test("mistakes found at load: unclosed anchors, comparisons with no number, kinds in lower case, unknown functions", arguments: [
        ("pattern: {spec: {\"=(hostPID\": false}}", "opens an anchor but does not close it"),
        ("pattern: {spec: {\"hostPID)\": false}}", nil),
        ("pattern: {spec: {\"X(host)PID)\": false}}", nil),
        ("pattern: {spec: {containers: [{image: \">= lots\"}]}}", "compares with \"lots\", which is not a number or quantity"),
        ("deny: {conditions: {any: [{key: \"{{ count(spec.containers) }}\", operator: Equals, value: 1}]}}", "calls count(), which is not one of length() or keys()"),
    ] as [(String, String?)])
    func loadErrors(validate: String, message: String?) throws {
        let set = try load(
            """
            apiVersion: windlass.dev/v1
            kind: Policy
            metadata: {name: p}
            spec:
              rules:
                - name: r
                  match: {resources: {kinds: [Pod]}}
                  validate: {\(validate)}
            """)
        let (read, problems) = PolicyReader.read(set)
        if let message {
            #expect(read.isEmpty)
            #expect(problems.count == 1 && problems[0].message.contains(message), "\(problems)")
            #expect(problems.first?.location.position?.line == 8)
        } else {
            #expect(problems.isEmpty == false || read.count == 1)
        }
    }

    @Test("a kind in lower case is a located error: the filter would match nothing")
    func lowerCaseKind() throws {
        let set = try load("apiVersion: windlass.dev/v1\nkind: Policy\nmetadata: {name: p}\nspec:\n  rules:\n    - name: r\n      match: {resources: {kinds: [Pod, deployment]}}\n      validate: {pattern: {spec: {}}}\n")
        let (read, problems) = PolicyReader.read(set)
        #expect(read.isEmpty)
        #expect(problems.map { "\($0.location.position?.description ?? "") \($0.message)" } == [
            "7:40 policy p: rule r: \"deployment\" is not a kind (kinds start with a capital letter, as Deployment), so the filter would match nothing"
        ])
    }

    @Test("reports: conftest lines, the summary, JSON, JUnit and GitHub annotations with escaping")
    func reports() throws {
        let set = try load(
            [policies, deployment("web"), deployment("root", privileged: true), deployment("sniffer", add: ["NET_RAW"])].joined(separator: "\n---\n"))
        let (read, _) = PolicyReader.read(set)
        let results = PolicyEngine.evaluate(read, on: set)
        let report = PolicyReport(results: results, resources: 3)
        let lines = report.text().split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].wholeMatch(of: /FAIL - .*policy\.yaml:\d+:1 - disallow-privileged\/privileged - root must not run privileged containers \(.*\)/) != nil, "\(lines[0])")
        #expect(lines[1].hasPrefix("WARN - ") && lines[1].contains(" - disallow-dangerous-capabilities/capabilities - "))
        #expect(lines[2] == "3 resources, 4 passed, 1 warning, 1 failure, 0 exceptions")
        #expect(report.json().contains("\"failures\": 1"))
        #expect(report.json().contains("\"check_id\": \"CKV_K8S_16\""))
        let junit = report.junit()
        #expect(junit.contains("<testsuite name=\"disallow-privileged\" tests=\"3\" failures=\"1\" skipped=\"0\">"))
        #expect(junit.contains("<system-out>WARN "))
        #expect(report.junit(failOnWarn: true).contains("<failure type=\"warn\""))
        let github = report.github().split(separator: "\n").map(String.init)
        #expect(github[0].wholeMatch(of: /::error file=.*policy\.yaml,line=\d+,col=1,title=disallow-privileged\/privileged::apps\/Deployment\/shop\/root: root must not run privileged containers \(.*\)/) != nil, "\(github[0])")
        #expect(github[1].hasPrefix("::warning "))
        var odd = results[0]
        odd.message = "a: b, 100%\nnext"
        odd.status = .fail
        #expect(PolicyReport(results: [odd], resources: 1).github().contains("web: a: b, 100%25%0Anext\n"))
    }
}
