
/// A Kubernetes label selector: requirements that all must hold (`app=web,tier!=db,
/// env in (prod,staging),!legacy`), from its string form or from `matchLabels` and
/// `matchExpressions`. The empty selector matches everything.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Requirement: Sendable, Hashable {
        public enum Operator: String, Sendable, Hashable {
            case equals = "="
            case notEquals = "!="
            case `in` = "In"
            case notIn = "NotIn"
            case exists = "Exists"
            case doesNotExist = "DoesNotExist"
        }

        public var key: String
        public var op: Operator
        public var values: [String]

        public init(key: String, op: Operator, values: [String] = []) {
            self.key = key
            self.op = op
            self.values = values
        }

        public func matches(_ labels: [String: String]) -> Bool {
            matches(label: { labels[$0] })
        }

        /// Matches labels looked up one key at a time (an object's own labels, unconverted).
        public func matches(label: (String) -> String?) -> Bool {
            let value = label(key)
            switch op {
            case .equals, .in: return value.map { values.contains($0) } ?? false
            case .notEquals, .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            }
        }
    }

    public var requirements: [Requirement]

    public init(_ requirements: [Requirement] = []) {
        self.requirements = requirements
    }

    /// Everything.
    public static let everything = LabelSelector()

    /// `key=value` for each label.
    public init(matchLabels: [String: String]) {
        requirements = matchLabels.sorted { $0.key < $1.key }.map { Requirement(key: $0.key, op: .equals, values: [$0.value]) }
    }

    /// Matches labels looked up one key at a time (an object's own labels, unconverted).
    public func matches(label: (String) -> String?) -> Bool {
        requirements.allSatisfy { $0.matches(label: label) }
    }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    public var isEmpty: Bool { requirements.isEmpty }

    /// The selector of a workload's `spec.selector` (`matchLabels` and `matchExpressions`).
    public init(_ value: Value) throws(SelectorError) {
        var requirements: [Requirement] = []
        if let labels = value["matchLabels"]?.mappingValue {
            for entry in labels.entries {
                guard let v = entry.value.stringValue else {
                    throw SelectorError("selector.matchLabels.\(entry.key) must be a string")
                }
                requirements.append(Requirement(key: entry.key, op: .equals, values: [v]))
            }
        }
        for expression in value["matchExpressions"]?.sequenceValue ?? [] {
            guard let key = expression["key"]?.stringValue, let opName = expression["operator"]?.stringValue,
                let op = Requirement.Operator(rawValue: opName), op != .equals, op != .notEquals
            else {
                throw SelectorError("selector.matchExpressions: each needs a key and an operator In, NotIn, Exists or DoesNotExist")
            }
            let values = (expression["values"]?.sequenceValue ?? []).compactMap(\.stringValue)
            if (op == .in || op == .notIn) && values.isEmpty {
                throw SelectorError("selector.matchExpressions: \(opName) on \(key) needs values")
            }
            requirements.append(Requirement(key: key, op: op, values: values))
        }
        self.init(requirements)
    }

    /// Parses the string form kubectl takes with `-l`.
    public init(parsing text: String) throws(SelectorError) {
        var requirements: [Requirement] = []
        for part in Self.splitTopLevel(text) {
            let term = part.trimmingSpaces()
            if term.isEmpty { continue }
            if term.hasPrefix("!") {
                requirements.append(Requirement(key: String(term.dropFirst()).trimmingSpaces(), op: .doesNotExist))
            } else if let range = term.firstRange(of: " notin ") ?? term.firstRange(of: " in ") {
                let key = String(term[..<range.lowerBound]).trimmingSpaces()
                let rest = term[range.upperBound...].trimmingSpaces()
                guard rest.hasPrefix("("), rest.hasSuffix(")") else {
                    throw SelectorError("invalid label selector \"\(text)\": expected a (list) after in/notin")
                }
                let values = rest.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingSpaces() }
                let op: Requirement.Operator = term[range].contains("notin") ? .notIn : .in
                requirements.append(Requirement(key: key, op: op, values: values))
            } else if let range = term.firstRange(of: "!=") {
                requirements.append(Requirement(key: String(term[..<range.lowerBound]).trimmingSpaces(), op: .notEquals, values: [String(term[range.upperBound...]).trimmingSpaces()]))
            } else if let range = term.firstRange(of: "==") ?? term.firstRange(of: "=") {
                requirements.append(Requirement(key: String(term[..<range.lowerBound]).trimmingSpaces(), op: .equals, values: [String(term[range.upperBound...]).trimmingSpaces()]))
            } else {
                requirements.append(Requirement(key: term, op: .exists))
            }
        }
        for requirement in requirements where requirement.key.isEmpty || NameRules.qualifiedName(requirement.key) != nil {
            throw SelectorError("invalid label selector \"\(text)\": bad key \"\(requirement.key)\"")
        }
        self.init(requirements)
    }

    /// Splits on commas outside parentheses.
    private static func splitTopLevel(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "(": depth += 1
            case ")": depth -= 1
            case "," where depth == 0:
                parts.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        parts.append(current)
        return parts
    }

    public var description: String {
        requirements.map { r in
            switch r.op {
            case .equals: return "\(r.key)=\(r.values.first ?? "")"
            case .notEquals: return "\(r.key)!=\(r.values.first ?? "")"
            case .in: return "\(r.key) in (\(r.values.joined(separator: ",")))"
            case .notIn: return "\(r.key) notin (\(r.values.joined(separator: ",")))"
            case .exists: return r.key
            case .doesNotExist: return "!\(r.key)"
            }
        }.joined(separator: ",")
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// A label selector that cannot be read: `invalid label selector "a in b": expected a (list)
/// after in/notin`, or a `matchExpressions` entry without an operator.
public struct SelectorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
