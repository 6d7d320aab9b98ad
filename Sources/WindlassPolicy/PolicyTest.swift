public import WindlassManifest

/// A `*.test.yaml` beside a policy file: a `windlass.dev/v1` `PolicyTest` document listing the
/// expected result of rules on resources, followed by those resources as ordinary documents.
///
/// ```yaml
/// apiVersion: windlass.dev/v1
/// kind: PolicyTest
/// metadata: {name: disallow-host-pid}
/// results:
///   - {policy: disallow-host-pid, rule: host-pid, resources: [Pod/shares-pid], result: fail}
/// ---
/// apiVersion: v1
/// kind: Pod
/// ...
/// ```
///
/// A resource is named `Kind/name` or `Kind/namespace/name`. `result` is pass, fail, warn or
/// skip; `fail` and `warn` both mean the rule is violated (Enforce or Audit alike), and `skip`
/// also holds when the rule does not apply to the resource at all.
public struct PolicyTest: Sendable {
    public struct Expectation: Sendable {
        public var policy: String
        public var rule: String
        public var resource: String
        public var result: PolicyResult.Status
        public var location: SourceLocation
    }

    /// One expectation checked: what the engine gave (nil: the rule did not apply).
    public struct Outcome: Sendable {
        public var expectation: Expectation
        public var actual: PolicyResult.Status?
        public var message: String
        /// `fail` and `warn` both say the rule is violated, whatever its failure action: a test
        /// does not break when a rule moves between Enforce and Audit (as Kyverno's tests).
        public var passed: Bool {
            if actual == nil { return expectation.result == .skip }
            return Self.violated(actual) == Self.violated(expectation.result) && (Self.violated(actual) || actual == expectation.result)
        }

        static func violated(_ status: PolicyResult.Status?) -> Bool { status == .fail || status == .warn }
    }

    public var name: String
    public var expectations: [Expectation]
    public var resources: [Resource]

    /// Reads a test file's set; mistakes are located errors.
    public static func read(_ set: ManifestSet) -> (tests: [PolicyTest], diagnostics: [Diagnostic]) {
        var diagnostics = set.diagnostics
        let resources = set.resources.filter { !($0.id.group == "windlass.dev" && $0.id.kind == "PolicyTest") }
        var tests: [PolicyTest] = []
        for document in set.resources where document.id.group == "windlass.dev" && document.id.kind == "PolicyTest" {
            var expectations: [Expectation] = []
            let results = document.object["results"]
            guard let items = results?.sequenceValue, !items.isEmpty else {
                diagnostics.append(Diagnostic(.error, at: set.location(of: results?.span ?? document.span), "policy test \(document.id.name): results must list expected results"))
                continue
            }
            for item in items {
                let location = set.location(of: item.span)
                guard let policy = item["policy"]?.stringValue, let rule = item["rule"]?.stringValue else {
                    diagnostics.append(Diagnostic(.error, at: location, "policy test \(document.id.name): each result needs a policy and a rule"))
                    continue
                }
                guard let resultText = item["result"]?.stringValue, let result = PolicyResult.Status(rawValue: resultText) else {
                    diagnostics.append(Diagnostic(.error, at: location, "policy test \(document.id.name): result must be pass, fail, warn or skip"))
                    continue
                }
                var names = item["resources"]?.sequenceValue?.compactMap(\.stringValue) ?? []
                if let one = item["resource"]?.stringValue { names.append(one) }
                if names.isEmpty {
                    diagnostics.append(Diagnostic(.error, at: location, "policy test \(document.id.name): each result needs resource or resources"))
                }
                for name in names {
                    if !resources.contains(where: { Self.reference(name, matches: $0.id) }) {
                        diagnostics.append(Diagnostic(.error, at: location, "policy test \(document.id.name): no resource \(name) in this file"))
                        continue
                    }
                    expectations.append(Expectation(policy: policy, rule: rule, resource: name, result: result, location: location))
                }
            }
            tests.append(PolicyTest(name: document.id.name, expectations: expectations, resources: resources))
        }
        if tests.isEmpty && diagnostics.isEmpty {
            diagnostics.append(Diagnostic(.error, at: SourceLocation(path: set.files.first ?? ""), "no PolicyTest document in this file"))
        }
        return (tests, diagnostics)
    }

    /// Checks every expectation against the policies.
    public func run(_ set: PolicySet) -> [Outcome] {
        let results = PolicyEngine.evaluate(set.policies, exceptions: set.exceptions, on: resources)
        return expectations.map { expectation in
            let found = results.first {
                $0.policy == expectation.policy && $0.rule == expectation.rule && Self.reference(expectation.resource, matches: $0.resource)
            }
            return Outcome(expectation: expectation, actual: found?.status, message: found?.message ?? "")
        }
    }

    /// Whether `Kind/name` or `Kind/namespace/name` names the resource.
    static func reference(_ text: String, matches id: ResourceID) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 2: return parts[0] == id.kind && parts[1] == id.name
        case 3: return parts[0] == id.kind && parts[1] == (id.namespace ?? "") && parts[2] == id.name
        default: return false
        }
    }
}
