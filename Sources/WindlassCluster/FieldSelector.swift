public import WindlassManifest

/// A Kubernetes field selector (`metadata.name=web,status.phase!=Running`): requirements on
/// an object's fields, all of which must hold. Fields are dotted paths into the object
/// (`involvedObject.kind`, `spec.nodeName`); a missing field is the empty string, as the API
/// server's field labels are. The empty selector matches everything.
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Requirement: Sendable, Hashable {
        public var field: String
        public var equals: Bool
        public var value: String

        public init(field: String, equals: Bool, value: String) {
            self.field = field
            self.equals = equals
            self.value = value
        }
    }

    public var requirements: [Requirement]

    public init(_ requirements: [Requirement] = []) {
        self.requirements = requirements
    }

    public static let everything = FieldSelector()

    public var isEmpty: Bool { requirements.isEmpty }

    /// Parses `a=b`, `a==b` and `a!=b` terms separated by commas.
    public init(parsing text: String) throws(ClusterError) {
        var requirements: [Requirement] = []
        for term in text.split(separator: ",", omittingEmptySubsequences: true) {
            let term = String(term)
            let (field, value, equals): (Substring, Substring, Bool)
            if let range = term.firstRange(of: "!=") {
                (field, value, equals) = (term[..<range.lowerBound], term[range.upperBound...], false)
            } else if let range = term.firstRange(of: "==") ?? term.firstRange(of: "=") {
                (field, value, equals) = (term[..<range.lowerBound], term[range.upperBound...], true)
            } else {
                throw ClusterError(.badRequest, "invalid field selector \"\(text)\": \"\(term)\" is not FIELD=VALUE or FIELD!=VALUE")
            }
            let name = field.trimmingWhitespace()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." }) else {
                throw ClusterError(.badRequest, "invalid field selector \"\(text)\": bad field \"\(name)\"")
            }
            requirements.append(Requirement(field: name, equals: equals, value: value.trimmingWhitespace()))
        }
        self.init(requirements)
    }

    /// Whether every requirement holds for `object`.
    public func matches(_ object: Value) -> Bool {
        requirements.allSatisfy { requirement in
            let path = requirement.field.split(separator: ".").map(String.init)
            let actual = object[path: path].map { $0.stringValue ?? $0.scalarText ?? $0.intValue.map(String.init) ?? "" } ?? ""
            return (actual == requirement.value) == requirement.equals
        }
    }

    public var description: String {
        requirements.map { "\($0.field)\($0.equals ? "=" : "!=")\($0.value)" }.joined(separator: ",")
    }
}
