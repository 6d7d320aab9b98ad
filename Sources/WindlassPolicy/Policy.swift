public import WindlassManifest

/// A `windlass.dev/v1` `Policy`: rules in Kyverno's validate style (REFERENCE.md §9).
public struct Policy: Sendable {
    public enum FailureAction: String, Sendable, Hashable {
        case enforce = "Enforce"
        case audit = "Audit"
    }

    public struct Rule: Sendable {
        public var name: String
        public var match: [ResourceFilter]
        public var exclude: [ResourceFilter]
        public var validation: Validation
        public var message: String
        public var failureAction: FailureAction

        /// Whether a filter names Pods, so that workloads' pod templates are judged too.
        var matchesPods: Bool { match.contains(where: \.includesPods) }
    }

    public enum Validation: Sendable {
        case pattern(Value)
        case anyPattern([Value])
        /// Denied when any (or all) of the conditions hold.
        case deny(any: [Condition], all: [Condition])
    }

    public var name: String
    public var span: SourceSpan
    /// The check's id (Checkov's, `CKV_K8S_16`, for the built-in pack).
    public var checkID: String?
    public var severity: String
    public var rules: [Rule]
}

/// Which resources a rule is about: kinds (`Pod`, `Deployment`, `apps/v1/Deployment`, `*`),
/// namespaces and names with globs, a label selector, and a selector on the labels of the
/// resource's namespace. Empty lists match everything.
public struct ResourceFilter: Sendable {
    public let kinds: [String]
    public var namespaces: [String]
    public var names: [String]
    public var selector: LabelSelector?
    public var namespaceSelector: LabelSelector?

    public init(
        kinds: [String] = [], namespaces: [String] = [], names: [String] = [], selector: LabelSelector? = nil,
        namespaceSelector: LabelSelector? = nil
    ) {
        self.kinds = kinds
        self.namespaces = namespaces
        self.names = names
        self.selector = selector
        self.namespaceSelector = namespaceSelector
        compiledKinds = kinds.map(KindPattern.init)
        includesPods = compiledKinds.contains { $0.matches(group: "", version: "v1", kind: "Pod") }
    }

    /// Whether the filter names Pods: such rules also judge the pod templates of workloads.
    let includesPods: Bool
    private let compiledKinds: [KindPattern]

    /// Whether the filter matches; `namespaceLabels` holds the labels of each namespace known.
    public func matches(_ resource: Resource, namespaceLabels: [String: [String: String]] = [:]) -> Bool {
        let id = resource.id
        if !compiledKinds.isEmpty && !compiledKinds.contains(where: { $0.matches(group: id.group, version: id.version, kind: id.kind) }) { return false }
        if !namespaces.isEmpty && !namespaces.contains(where: { Glob.matches($0, id.namespace ?? "") }) { return false }
        if !names.isEmpty && !names.contains(where: { Glob.matches($0, id.name) }) { return false }
        if let selector, !selector.matches(resource.labels) { return false }
        if let namespaceSelector {
            guard let namespace = id.namespace, namespaceSelector.matches(namespaceLabels[namespace] ?? [:]) else { return false }
        }
        return true
    }

    /// `Kind`, `group/Kind` (or `version/Kind` for the core group) or `group/version/Kind`, each
    /// part a glob; `*` is every kind.
    struct KindPattern: Sendable {
        let group: String?
        let version: String?
        let kind: String

        init(_ text: String) {
            let parts = text.split(separator: "/").map(String.init)
            switch parts.count {
            case 0, 1: (group, version, kind) = (nil, nil, parts.first ?? text)
            case 2: (group, version, kind) = (parts[0], nil, parts[1])
            default: (group, version, kind) = (parts[0], parts[1], parts[2])
            }
        }

        func matches(group: String, version: String, kind: String) -> Bool {
            guard Glob.matches(self.kind, kind) else { return false }
            switch (self.group, self.version) {
            case (nil, _): return true
            case (let g?, nil): return Glob.matches(g, group.isEmpty ? version : group)
            case (let g?, let v?): return Glob.matches(g, group) && Glob.matches(v, version)
            }
        }
    }
}

/// A `deny` condition: `key` (a path into the resource, `[]` ranging over a list), an operator,
/// and a value.
public struct Condition: Sendable {
    public enum Operator: String, Sendable, CaseIterable {
        case equals = "Equals", notEquals = "NotEquals", `in` = "In", notIn = "NotIn", anyIn = "AnyIn", allIn = "AllIn"
        case anyNotIn = "AnyNotIn", allNotIn = "AllNotIn", greaterThan = "GreaterThan", lessThan = "LessThan"
        case greaterThanOrEquals = "GreaterThanOrEquals", lessThanOrEquals = "LessThanOrEquals"
    }

    public var key: ConditionKey
    public var op: Operator
    public var value: Value

    /// Whether the condition holds in `context` (see ``PolicyContext``).
    public func holds(in context: Value) -> Bool {
        let found = key.values(in: context)
        let actual: [Value] = key.ranges ? found : Array(found.prefix(1))
        let expected = value.sequenceValue ?? [value]
        func equal(_ a: Value, _ b: Value) -> Bool {
            if let x = a.doubleValue, let y = b.doubleValue { return x == y }
            if let x = Pattern.text(of: a), let y = Pattern.text(of: b) { return x == y }
            return a == b
        }
        // Strings in the value list may be wildcards, as in Kyverno: `sim.windlass.dev/*`.
        func contains(_ list: [Value], _ item: Value) -> Bool {
            list.contains { candidate in
                if let pattern = candidate.stringValue, pattern.contains("*") || pattern.contains("?"), let text = Pattern.text(of: item) {
                    return Glob.matches(pattern, text)
                }
                return equal(candidate, item)
            }
        }
        switch op {
        case .equals: return key.ranges ? actual.allSatisfy { equal($0, value) } && !actual.isEmpty : actual.first.map { equal($0, value) } ?? value.isNull
        case .notEquals: return key.ranges ? actual.contains { !equal($0, value) } : !(actual.first.map { equal($0, value) } ?? value.isNull)
        case .in, .allIn: return !actual.isEmpty && actual.allSatisfy { contains(expected, $0) }
        case .anyIn: return actual.contains { contains(expected, $0) }
        case .notIn, .allNotIn: return actual.allSatisfy { !contains(expected, $0) }
        case .anyNotIn: return actual.contains { !contains(expected, $0) }
        case .greaterThan, .lessThan, .greaterThanOrEquals, .lessThanOrEquals:
            guard let bound = Quantity(value) else { return false }
            return !actual.isEmpty && actual.allSatisfy { item in
                guard let q = Quantity(item) else { return false }
                switch op {
                case .greaterThan: return q > bound
                case .lessThan: return q < bound
                case .greaterThanOrEquals: return q >= bound
                default: return q <= bound
                }
            }
        }
    }
}

/// What a rule's keys and message placeholders can name: `request.object` (the resource, or
/// the pod a workload's template describes) and `rolloutStrategy` (the `windlass.dev/v1`
/// RolloutStrategy whose `targetRef` names the workload, or null).
public enum PolicyContext {
    public static let roots: Set<String> = ["request", "rolloutStrategy"]

    public static func make(subject: Value, rolloutStrategy: Value?) -> Value {
        ["request": ["object": subject], "rolloutStrategy": rolloutStrategy ?? .null]
    }
}

/// `spec.containers[].securityContext.privileged` (also written `{{ request.object.spec… }}`):
/// member names, `[N]` indexes and `[]` to range over every item, from `request.object` unless
/// the path starts at another root of ``PolicyContext``. `length(path)` counts what the path
/// reaches (the items of a list, the entries of a mapping, the characters of a string; 0 when
/// missing) and `keys(path)` lists a mapping's keys.
public struct ConditionKey: Sendable, Hashable, CustomStringConvertible {
    enum Step: Sendable, Hashable {
        case member(String)
        case index(Int)
        case every
    }

    enum Function: String, Sendable, Hashable {
        case length, keys
    }

    let steps: [Step]
    let function: Function?
    public let description: String
    /// Whether the path gives a list of values (it ranges over a list, or lists keys).
    public var ranges: Bool { function == .keys || (function == nil && steps.contains(.every)) }

    public struct ParseError: Error, Sendable { public var message: String }

    public init(parsing text: String) throws(ParseError) {
        var body = text.trimmingWhitespace()
        if body.hasPrefix("{{") && body.hasSuffix("}}") { body = body.dropFirst(2).dropLast(2).trimmingWhitespace() }
        description = body
        var function: Function?
        if let open = body.firstIndex(of: "("), body.hasSuffix(")") {
            let name = String(body[..<open])
            guard let known = Function(rawValue: name) else {
                throw ParseError(message: "the key \"\(text)\" calls \(name)(), which is not one of length() or keys()")
            }
            function = known
            body = body[body.index(after: open)..<body.index(before: body.endIndex)].trimmingWhitespace()
        }
        self.function = function
        if body.hasPrefix("object.") { body = "request." + body }
        guard !body.isEmpty else { throw ParseError(message: "the key \"\(text)\" names nothing") }
        var steps: [Step] = []
        var name = ""
        var index = body.startIndex
        func flush() {
            if !name.isEmpty { steps.append(.member(name)) }
            name = ""
        }
        while index < body.endIndex {
            let c = body[index]
            if c == "." {
                flush()
            } else if c == "[" {
                flush()
                guard let close = body[index...].firstIndex(of: "]") else { throw ParseError(message: "the key \"\(text)\" has a [ that is never closed") }
                let inner = body[body.index(after: index)..<close]
                if inner.isEmpty {
                    steps.append(.every)
                } else if let n = Int(inner) {
                    steps.append(.index(n))
                } else {
                    throw ParseError(message: "the key \"\(text)\": [\(inner)] is neither [] nor a number")
                }
                index = close
            } else if c.isWhitespace || c == "|" || c == "(" || c == ")" || c == "`" || c == "]" {
                throw ParseError(message: "the key \"\(text)\" uses \"\(c)\": only member names, [N], [], length() and keys() are supported")
            } else {
                name.append(c)
            }
            index = body.index(after: index)
        }
        flush()
        if case .member(let root) = steps.first, PolicyContext.roots.contains(root) {
            self.steps = steps
        } else {
            self.steps = [.member("request"), .member("object")] + steps
        }
    }

    /// The values the path reaches in a context (see ``PolicyContext``); none when a member is
    /// missing.
    func values(in context: Value) -> [Value] {
        var current = [context]
        for step in steps {
            var next: [Value] = []
            for value in current {
                switch step {
                case .member(let name): if let child = value[name], !child.isNull { next.append(child) }
                case .index(let n): if let items = value.sequenceValue, n < items.count { next.append(items[n]) }
                case .every: next += value.sequenceValue ?? []
                }
            }
            current = next
        }
        switch function {
        case nil:
            return current
        case .keys:
            return current.flatMap { $0.mappingValue?.entries.map { Value.string($0.key) } ?? [] }
        case .length:
            if steps.contains(.every) { return [.int(current.count)] }
            guard let value = current.first else { return [.int(0)] }
            if let items = value.sequenceValue { return [.int(items.count)] }
            if let mapping = value.mappingValue { return [.int(mapping.entries.count)] }
            if let string = value.stringValue { return [.int(string.count)] }
            return [.int(1)]
        }
    }
}
