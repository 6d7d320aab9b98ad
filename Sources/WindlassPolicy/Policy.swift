public import WindlassCluster
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
/// namespaces and names with globs, and a label selector. Empty lists match everything.
public struct ResourceFilter: Sendable {
    public var kinds: [String]
    public var namespaces: [String]
    public var names: [String]
    public var selector: LabelSelector?

    public func matches(_ resource: Resource) -> Bool {
        let id = resource.id
        if !kinds.isEmpty && !kinds.contains(where: { Self.kind($0, matches: id) }) { return false }
        if !namespaces.isEmpty && !namespaces.contains(where: { Glob.matches($0, id.namespace ?? "") }) { return false }
        if !names.isEmpty && !names.contains(where: { Glob.matches($0, id.name) }) { return false }
        if let selector, !selector.matches(resource.labels) { return false }
        return true
    }

    static func kind(_ pattern: String, matches id: ResourceID) -> Bool {
        if pattern == "*" { return true }
        let parts = pattern.split(separator: "/").map(String.init)
        switch parts.count {
        case 1: return Glob.matches(parts[0], id.kind)
        case 2: return Glob.matches(parts[0], id.group.isEmpty ? id.version : id.group) && Glob.matches(parts[1], id.kind)
        default: return Glob.matches(parts[0], id.group) && Glob.matches(parts[1], id.version) && Glob.matches(parts[2], id.kind)
        }
    }

    /// Whether the filter names Pods: such rules also judge the pod templates of workloads.
    var includesPods: Bool { kinds.contains { Self.kind($0, matches: ResourceID(group: "", version: "v1", kind: "Pod", namespace: nil, name: "")) } }
}

/// A `deny` condition: `key` (a path into the resource, `[]` ranging over a list), an operator,
/// and a value.
public struct Condition: Sendable {
    public enum Operator: String, Sendable, CaseIterable {
        case equals = "Equals", notEquals = "NotEquals", `in` = "In", notIn = "NotIn", anyIn = "AnyIn", allIn = "AllIn"
        case anyNotIn = "AnyNotIn", allNotIn = "AllNotIn", greaterThan = "GreaterThan", lessThan = "LessThan"
        case greaterThanOrEquals = "GreaterThanOrEquals", lessThanOrEquals = "LessThanOrEquals"
    }

    public var key: KeyPath
    public var op: Operator
    public var value: Value

    /// Whether the condition holds for `object`.
    public func holds(for object: Value) -> Bool {
        let found = key.values(in: object)
        let actual: [Value] = key.ranges ? found : Array(found.prefix(1))
        let expected = value.sequenceValue ?? [value]
        func equal(_ a: Value, _ b: Value) -> Bool {
            if let x = a.doubleValue, let y = b.doubleValue { return x == y }
            if let x = Pattern.text(of: a), let y = Pattern.text(of: b) { return x == y }
            return a == b
        }
        func contains(_ list: [Value], _ item: Value) -> Bool { list.contains { equal($0, item) } }
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

/// `spec.containers[].securityContext.privileged` (also written `{{ request.object.spec… }}`):
/// member names, `[N]` indexes and `[]` to range over every item.
public struct KeyPath: Sendable, Hashable, CustomStringConvertible {
    enum Step: Sendable, Hashable {
        case member(String)
        case index(Int)
        case every
    }

    let steps: [Step]
    public let description: String
    /// Whether the path ranges over a list (its result is a list).
    public var ranges: Bool { steps.contains(.every) }

    public struct ParseError: Error, Sendable { public var message: String }

    public init(parsing text: String) throws(ParseError) {
        var body = text.trimmingWhitespace()
        if body.hasPrefix("{{") && body.hasSuffix("}}") { body = body.dropFirst(2).dropLast(2).trimmingWhitespace() }
        for prefix in ["request.object.", "object."] where body.hasPrefix(prefix) { body = String(body.dropFirst(prefix.count)) }
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
            } else if c.isWhitespace || c == "|" || c == "(" || c == "`" {
                throw ParseError(message: "the key \"\(text)\" uses \"\(c)\": only member names, [N] and [] are supported")
            } else {
                name.append(c)
            }
            index = body.index(after: index)
        }
        flush()
        self.steps = steps
        description = body
    }

    /// The values the path reaches (none when a member is missing).
    func values(in object: Value) -> [Value] {
        var current = [object]
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
        return current
    }
}
