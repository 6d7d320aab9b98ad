import Testing
import WindlassManifest
import WindlassPolicy
import WindlassTesting

func load(_ text: String) throws -> ManifestSet {
    let directory = try TemporaryDirectory()
    _ = try directory.write("policy.yaml", text)
    return ManifestLoader.load(DirectoryTree(root: directory.path), options: LoadOptions(defaultNamespace: "shop"))
}

let policies = """
    apiVersion: windlass.dev/v1
    kind: Policy
    metadata:
      name: disallow-privileged
      annotations: {windlass.dev/check-id: CKV_K8S_16, windlass.dev/severity: high}
    spec:
      failureAction: Enforce
      rules:
        - name: privileged
          match: {any: [{resources: {kinds: [Pod]}}]}
          exclude: {any: [{resources: {namespaces: ["kube-*"]}}]}
          validate:
            message: "{{ request.object.metadata.name }} must not run privileged containers"
            pattern:
              spec:
                containers:
                  - =(securityContext):
                      =(privileged): false
    ---
    apiVersion: windlass.dev/v1
    kind: Policy
    metadata: {name: disallow-dangerous-capabilities}
    spec:
      rules:
        - name: capabilities
          match: {resources: {kinds: [Pod]}}
          validate:
            message: capabilities NET_RAW and SYS_ADMIN must not be added
            deny:
              conditions:
                any:
                  - key: "{{ request.object.spec.containers[].securityContext.capabilities.add[] }}"
                    operator: AnyIn
                    value: [NET_RAW, SYS_ADMIN]
    """

func deployment(_ name: String, namespace: String = "shop", privileged: Bool? = nil, add: [String] = []) -> String {
    var security = ""
    if let privileged { security += "privileged: \(privileged)" }
    if !add.isEmpty { security += (security.isEmpty ? "" : ", ") + "capabilities: {add: [\(add.joined(separator: ", "))]}" }
    return """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: \(name), namespace: \(namespace)}
        spec:
          selector: {matchLabels: {app: \(name)}}
          template:
            metadata: {labels: {app: \(name)}}
            spec:
              containers:
                - name: main
                  image: registry.example/\(name):1
                  \(security.isEmpty ? "" : "securityContext: {\(security)}")
        """
}

@Suite("Policies")
struct PolicyTests {
    @Test("Pod rules judge workloads' pod templates: Enforce fails, Audit warns, excluded namespaces are left out")
    func evaluate() throws {
        let set = try load(
            [policies, deployment("web"), deployment("root", privileged: true), deployment("sniffer", add: ["NET_RAW"]),
             deployment("system", namespace: "kube-system", privileged: true)].joined(separator: "\n---\n"))
        let (read, problems) = PolicyReader.read(set)
        #expect(problems.isEmpty, "\(problems)")
        #expect(read.map(\.name) == ["disallow-privileged", "disallow-dangerous-capabilities"])
        let results = PolicyEngine.evaluate(read, on: set.resources.filter { $0.id.kind == "Deployment" })
        let lines = results.map { "\($0.status.rawValue) \($0.policy) \($0.resource.name)" }
        #expect(
            lines == [
                "pass disallow-privileged web", "pass disallow-dangerous-capabilities web",
                "fail disallow-privileged root", "pass disallow-dangerous-capabilities root",
                "pass disallow-privileged sniffer", "warn disallow-dangerous-capabilities sniffer",
                "pass disallow-dangerous-capabilities system",
            ])
        let root = try #require(results.first { $0.resource.name == "root" && $0.status == .fail })
        #expect(root.checkID == "CKV_K8S_16")
        #expect(root.message == "root must not run privileged containers (spec.containers[0].securityContext.privileged is true, expected false)")
    }

    @Test("mistakes in policies are located errors, and the policy is left out")
    func mistakes() throws {
        let set = try load(
            """
            apiVersion: windlass.dev/v1
            kind: Policy
            metadata: {name: broken}
            spec:
              failureAction: Block
              rules:
                - name: a
                  match: {resources: {kinds: [Pod]}}
                  validate:
                    deny:
                      conditions:
                        any:
                          - {key: "{{ spec.hostPID }}", operator: Is, value: true}
                          - {key: "{{ spec.containers[*].image }}", operator: Equals, value: x}
                - name: b
                  match: {resources: {kinds: [Pod]}}
                - name: c
                  match: {resources: {kinds: [Pod]}}
                  validate: {pattern: {spec: {}}, anyPattern: [{spec: {}}]}
            """)
        let (read, problems) = PolicyReader.read(set)
        #expect(read.isEmpty)
        let lines = problems.map { "\($0.location.position?.description ?? "?") \($0.message)" }
        #expect(
            lines == [
                "5:18 policy broken: failureAction must be Enforce or Audit",
                "13:55 policy broken: rule a: unknown operator \"Is\" (expected one of Equals, NotEquals, In, NotIn, AnyIn, AllIn, AnyNotIn, AllNotIn, GreaterThan, LessThan, GreaterThanOrEquals, LessThanOrEquals)",
                "14:23 policy broken: rule a: the key \"{{ spec.containers[*].image }}\": [*] is neither [] nor a number",
                "15:7 policy broken: rule b: validate is missing",
                "19:17 policy broken: rule c: validate needs exactly one of pattern, anyPattern or deny",
            ])
    }
}

@Suite("Policy exceptions")
struct PolicyExceptionTests {
    @Test("an exception turns the named rule's result into skip for the resources it matches, and only those")
    func exception() throws {
        let exception = """
            apiVersion: windlass.dev/v1
            kind: PolicyException
            metadata: {name: nova-compute-needs-privileges}
            spec:
              exceptions: [{policyName: disallow-privileged, ruleNames: [privileged]}]
              match: {any: [{resources: {kinds: [Deployment], names: ["nova-*"]}}]}
            """
        let set = try load([policies, exception, deployment("nova-compute", privileged: true), deployment("root", privileged: true)].joined(separator: "\n---\n"))
        let (read, _) = PolicyReader.read(set)
        let (exceptions, problems) = PolicyReader.exceptions(set)
        #expect(problems.isEmpty && exceptions.count == 1)
        let results = PolicyEngine.evaluate(read, exceptions: exceptions, on: set.resources.filter { $0.id.kind == "Deployment" })
        let privileged = results.filter { $0.policy == "disallow-privileged" }.map { "\($0.resource.name) \($0.status.rawValue) \($0.message)" }
        #expect(privileged.first == "nova-compute skip exception nova-compute-needs-privileges")
        #expect(privileged.last?.hasPrefix("root fail ") == true)
    }

    @Test("an exception that names no policy or no resources is a located error")
    func mistakes() throws {
        let set = try load("apiVersion: windlass.dev/v1\nkind: PolicyException\nmetadata: {name: vague}\nspec:\n  exceptions: [{ruleNames: [a]}]\n")
        let (exceptions, problems) = PolicyReader.exceptions(set)
        #expect(exceptions.isEmpty)
        #expect(problems.map { "\($0.location.position?.description ?? "?") \($0.message)" } == [
            "5:16 policy exception vague: each exception needs a policyName",
            "5:3 policy exception vague: spec.exceptions must name at least one policy",
            "5:3 policy exception vague: spec.match must name the resources the exception is for",
        ])
    }
}
