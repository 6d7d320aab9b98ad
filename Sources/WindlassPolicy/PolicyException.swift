public import WindlassManifest

/// A `windlass.dev/v1` `PolicyException`: named rules of named policies do not apply to the
/// resources it matches; their results are `skip`, naming the exception.
public struct PolicyException: Sendable {
    public var name: String
    /// Policy name → rule names (empty: every rule of the policy).
    public var rules: [String: [String]]
    public var match: [ResourceFilter]

    func covers(policy: String, rule: String, resource: Resource, namespaceLabels: [String: [String: String]]) -> Bool {
        guard let names = rules[policy], names.isEmpty || names.contains(rule) else { return false }
        return match.contains { $0.matches(resource, namespaceLabels: namespaceLabels) }
    }
}

extension PolicyReader {
    /// The exceptions of a set, each mistake a located error (that exception left out).
    public static func exceptions(_ set: ManifestSet) -> (exceptions: [PolicyException], diagnostics: [Diagnostic]) {
        var out: [PolicyException] = []
        var diagnostics: [Diagnostic] = []
        for resource in set.resources where resource.id.group == "windlass.dev" && resource.id.kind == "PolicyException" {
            var problems: [(SourceSpan, String)] = []
            let spec = resource.object["spec"] ?? .null
            var rules: [String: [String]] = [:]
            for entry in spec["exceptions"]?.sequenceValue ?? [] {
                guard let policy = entry["policyName"]?.stringValue else {
                    problems.append((entry.span, "each exception needs a policyName"))
                    continue
                }
                rules[policy, default: []] += entry["ruleNames"]?.sequenceValue?.compactMap(\.stringValue) ?? []
            }
            if rules.isEmpty { problems.append((spec.isNull ? resource.span : spec.span, "spec.exceptions must name at least one policy")) }
            let match = filters(spec["match"], rule: "match", problems: &problems)
            if match.isEmpty { problems.append((spec.isNull ? resource.span : spec.span, "spec.match must name the resources the exception is for")) }
            for (span, message) in problems {
                diagnostics.append(Diagnostic(.error, at: set.location(of: span), "policy exception \(resource.id.name): \(message)"))
            }
            if problems.isEmpty { out.append(PolicyException(name: resource.id.name, rules: rules, match: match)) }
        }
        return (out, diagnostics)
    }
}
