public import WindlassManifest

/// Reads `windlass.dev/v1` `Policy` documents, each mistake a located error (and the policy with
/// it left out, so nothing is evaluated half-way).
public enum PolicyReader {
    public static func read(_ set: ManifestSet) -> (policies: [Policy], diagnostics: [Diagnostic]) {
        var policies: [Policy] = []
        var diagnostics: [Diagnostic] = []
        for resource in set.resources where resource.id.group == "windlass.dev" && resource.id.kind == "Policy" {
            var problems: [(SourceSpan, String)] = []
            let policy = read(resource, problems: &problems)
            for (span, message) in problems {
                diagnostics.append(Diagnostic(.error, at: set.location(of: span), "policy \(resource.id.name): \(message)"))
            }
            if problems.isEmpty, let policy { policies.append(policy) }
        }
        return (policies, diagnostics)
    }

    static func read(_ resource: Resource, problems: inout [(SourceSpan, String)]) -> Policy? {
        let object = resource.object
        let spec = object["spec"] ?? .null
        var defaultAction = Policy.FailureAction.audit
        if let action = spec["failureAction"] {
            if let parsed = action.stringValue.flatMap(Policy.FailureAction.init(rawValue:)) {
                defaultAction = parsed
            } else {
                problems.append((action.span, "failureAction must be Enforce or Audit"))
            }
        }
        guard let ruleValues = spec["rules"]?.sequenceValue, !ruleValues.isEmpty else {
            problems.append((spec.isNull ? resource.span : spec.span, "spec.rules must list at least one rule"))
            return nil
        }
        var rules: [Policy.Rule] = []
        for value in ruleValues {
            guard let name = value["name"]?.stringValue else {
                problems.append((value.span, "each rule needs a name"))
                continue
            }
            let match = filters(value["match"], rule: name, problems: &problems)
            let exclude = value["exclude"].map { filters($0, rule: name, problems: &problems) } ?? []
            if match.isEmpty { problems.append((value.span, "rule \(name): match must name at least one resource filter")) }
            guard let validate = value["validate"] else {
                problems.append((value.span, "rule \(name): validate is missing"))
                continue
            }
            var action = defaultAction
            if let override = validate["failureAction"] {
                if let parsed = override.stringValue.flatMap(Policy.FailureAction.init(rawValue:)) { action = parsed } else {
                    problems.append((override.span, "rule \(name): failureAction must be Enforce or Audit"))
                }
            }
            let validation: Policy.Validation
            let kinds = ["pattern", "anyPattern", "deny"].filter { validate[$0] != nil }
            guard kinds.count == 1 else {
                problems.append((validate.span, "rule \(name): validate needs exactly one of pattern, anyPattern or deny"))
                continue
            }
            switch kinds[0] {
            case "pattern":
                let pattern = validate["pattern"]!
                problems += Pattern.problems(in: pattern).map { ($0.0, "rule \(name): \($0.1)") }
                validation = .pattern(pattern)
            case "anyPattern":
                guard let patterns = validate["anyPattern"]?.sequenceValue, !patterns.isEmpty else {
                    problems.append((validate["anyPattern"]!.span, "rule \(name): anyPattern must list patterns"))
                    continue
                }
                problems += patterns.flatMap(Pattern.problems(in:)).map { ($0.0, "rule \(name): \($0.1)") }
                validation = .anyPattern(patterns)
            default:
                let deny = validate["deny"]!
                let any = conditions(deny[path: ["conditions", "any"]], rule: name, problems: &problems)
                var all = conditions(deny[path: ["conditions", "all"]], rule: name, problems: &problems)
                if let plain = deny["conditions"]?.sequenceValue {
                    all += conditions(.sequence(plain), rule: name, problems: &problems)
                }
                let written = (deny[path: ["conditions", "any"]]?.sequenceValue?.count ?? 0) + (deny[path: ["conditions", "all"]]?.sequenceValue?.count ?? 0)
                    + (deny["conditions"]?.sequenceValue?.count ?? 0)
                if written == 0 {
                    problems.append((deny.span, "rule \(name): deny.conditions must list any or all conditions"))
                    continue
                }
                if any.isEmpty && all.isEmpty { continue }
                validation = .deny(any: any, all: all)
            }
            let message = validate["message"]?.stringValue ?? "rule \(name) failed"
            rules.append(Policy.Rule(name: name, match: match, exclude: exclude, validation: validation, message: message, failureAction: action))
        }
        let annotations = object[path: ["metadata", "annotations"]]
        return Policy(
            name: resource.id.name, span: resource.span, checkID: annotations?["windlass.dev/check-id"]?.stringValue,
            severity: annotations?["windlass.dev/severity"]?.stringValue ?? "medium", rules: rules)
    }

    /// `match` / `exclude`: `{any: [{resources: {...}}]}`, `{all: [...]}` or `{resources: {...}}`.
    static func filters(_ value: Value?, rule: String, problems: inout [(SourceSpan, String)]) -> [ResourceFilter] {
        guard let value else { return [] }
        var blocks: [Value] = []
        if let any = value["any"]?.sequenceValue { blocks += any }
        if let all = value["all"]?.sequenceValue { blocks += all }
        if value["resources"] != nil { blocks.append(value) }
        var out: [ResourceFilter] = []
        for block in blocks {
            guard let resources = block["resources"] else {
                problems.append((block.span, "rule \(rule): each filter needs resources"))
                continue
            }
            func selector(_ key: String) -> LabelSelector? {
                guard let value = resources[key] else { return nil }
                do {
                    return try LabelSelector(value)
                } catch {
                    problems.append((value.span, "rule \(rule): \(key): \(error.message)"))
                    return nil
                }
            }
            func strings(_ key: String) -> [String] {
                guard let value = resources[key] else { return [] }
                guard let items = value.sequenceValue else {
                    problems.append((value.span, "rule \(rule): \(key) must be a list of strings"))
                    return []
                }
                return items.compactMap { item in
                    guard let text = item.stringValue, !text.isEmpty else {
                        problems.append((item.span, "rule \(rule): \(key) must be a list of non-empty strings"))
                        return nil
                    }
                    return text
                }
            }
            let kinds = strings("kinds")
            for (offset, kind) in kinds.enumerated() {
                let name = kind.split(separator: "/").last.map(String.init) ?? kind
                if let first = name.first, !(first.isUppercase || first == "*" || first == "?") {
                    let span = resources["kinds"]?.sequenceValue?[offset].span ?? resources.span
                    problems.append((span, "rule \(rule): \"\(kind)\" is not a kind (kinds start with a capital letter, as Deployment), so the filter would match nothing"))
                }
            }
            out.append(
                ResourceFilter(
                    kinds: kinds, namespaces: strings("namespaces"), names: strings("names"), selector: selector("selector"),
                    namespaceSelector: selector("namespaceSelector")))
        }
        return out
    }

    static func conditions(_ value: Value?, rule: String, problems: inout [(SourceSpan, String)]) -> [Condition] {
        var out: [Condition] = []
        for item in value?.sequenceValue ?? [] {
            guard let keyText = item["key"].flatMap({ $0.stringValue }), let opText = item["operator"]?.stringValue else {
                problems.append((item.span, "rule \(rule): each condition needs a key and an operator"))
                continue
            }
            guard let op = Condition.Operator(rawValue: opText) else {
                let known = Condition.Operator.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append((item["operator"]!.span, "rule \(rule): unknown operator \"\(opText)\" (expected one of \(known))"))
                continue
            }
            do {
                out.append(Condition(key: try ConditionKey(parsing: keyText), op: op, value: item["value"] ?? .null))
            } catch {
                problems.append((item["key"]!.span, "rule \(rule): \(error.message)"))
            }
        }
        return out
    }
}
