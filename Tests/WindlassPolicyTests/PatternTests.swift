import Testing
import WindlassManifest
import WindlassPolicy

func yaml(_ text: String) -> Value {
    try! YAMLReader.read(text).first!.root
}

let pod = yaml(
    """
    apiVersion: v1
    kind: Pod
    metadata: {name: web, labels: {app: web, team: ""}}
    spec:
      hostNetwork: false
      containers:
        - name: web
          image: registry.example/web:1.2
          resources: {limits: {memory: 512Mi, cpu: 500m}}
          securityContext: {privileged: false}
        - name: sidecar
          image: envoy:latest
          resources: {limits: {memory: 2Gi}}
    """)

@Suite("Kyverno patterns")
struct PatternTests {
    @Test("scalars: wildcards, ?*, negation, alternatives, comparisons on quantities", arguments: [
        ("metadata: {labels: {app: \"?*\"}}", true),
        ("metadata: {labels: {team: \"?*\"}}", false),
        ("metadata: {labels: {team: \"*\"}}", true),
        ("metadata: {labels: {owner: \"*\"}}", false),
        ("spec: {containers: [{image: \"!*:latest\"}]}", false),
        ("spec: {containers: [{image: \"*:*\"}]}", true),
        ("spec: {containers: [{resources: {limits: {memory: \"<=2Gi\"}}}]}", true),
        ("spec: {containers: [{resources: {limits: {memory: \"<1Gi\"}}}]}", false),
        ("spec: {containers: [{name: \"web | sidecar\"}]}", true),
        ("spec: {hostNetwork: false}", true),
        ("spec: {hostNetwork: true}", false),
    ] as [(String, Bool)])
    func scalars(_ pattern: String, _ passes: Bool) {
        #expect((Pattern.match(pod, yaml(pattern)) == .pass) == passes, "\(pattern): \(Pattern.match(pod, yaml(pattern)))")
    }

    @Test("anchors: condition skips, equality is optional, negation forbids, existence needs one item")
    func anchors() {
        // Only containers named web must be unprivileged.
        #expect(Pattern.match(pod, yaml("spec: {containers: [{(name): web, securityContext: {privileged: false}}]}")) == .pass)
        // An optional field is checked only when present.
        #expect(Pattern.match(pod, yaml("spec: {containers: [{=(securityContext): {privileged: false}}]}")) == .pass)
        #expect(Pattern.match(pod, yaml("spec: {containers: [{=(securityContext): {privileged: true}}]}")) != .pass)
        // Negation: hostPID must not be set; hostNetwork is.
        #expect(Pattern.match(pod, yaml("spec: {X(hostPID): null}")) == .pass)
        #expect(Pattern.match(pod, yaml("spec: {X(hostNetwork): null}")) == .fail(path: "spec.hostNetwork", reason: "must not be set"))
        // Existence: at least one container pulls from the registry.
        #expect(Pattern.match(pod, yaml("spec: {^(containers): [{image: \"registry.example/*\"}]}")) == .pass)
        #expect(Pattern.match(pod, yaml("spec: {^(containers): [{image: \"quay.io/*\"}]}")) != .pass)
        // A condition on the whole resource that does not hold: the rule is skipped.
        #expect(Pattern.match(pod, yaml("metadata: {(name): db}\nspec: {hostNetwork: true}")) == .skip)
    }

    @Test("a failure names the first path that does not match, and why")
    func failurePath() {
        #expect(
            Pattern.match(pod, yaml("spec: {containers: [{resources: {limits: {cpu: \"?*\"}}}]}"))
                == .fail(path: "spec.containers[1].resources.limits.cpu", reason: "is missing"))
        #expect(
            Pattern.match(pod, yaml("spec: {containers: [{image: \"!*:latest\"}]}"))
                == .fail(path: "spec.containers[1].image", reason: "is \"envoy:latest\", expected !*:latest"))
    }
}
