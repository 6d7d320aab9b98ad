/// A manifest value: the JSON data model (null, bool, int, double, string, sequence, ordered
/// mapping) plus where each node was written.
///
/// Two values are equal when their content is: spans and the original scalar text do not
/// take part, and a mapping's key order does not either (Kubernetes objects are unordered maps).
/// Numbers are compared as written kinds: `1` and `1.0` differ here; the plan normalizes them.
public struct Value: Sendable {
    /// What a node holds.
    public enum Content: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        case sequence([Value])
        case mapping(Mapping)
    }

    public var content: Content
    /// Where the node was written; ``SourceSpan/synthesized`` for values made in code.
    public var span: SourceSpan
    /// The rare scalar written otherwise than its value spells itself, boxed so that the
    /// common node does not pay for a string's 16 bytes (a Value is 40 bytes; every manifest
    /// and every object of the embedded cluster is made of them).
    private var written: WrittenText?

    /// The scalar exactly as written when that differs from the resolved value's own spelling
    /// (`0755` for 493, `yes` for true, `1.0`, `~`); nil for strings and collections.
    public var scalarText: String? {
        get { written?.text }
        set { written = newValue.map(WrittenText.init) }
    }

    public init(_ content: Content, span: SourceSpan = .synthesized, scalarText: String? = nil) {
        self.content = content
        self.span = span
        self.written = scalarText.map(WrittenText.init)
    }

    public static let null = Value(.null)

    public static func string(_ string: String) -> Value { Value(.string(string)) }
    public static func int(_ int: Int) -> Value { Value(.int(int)) }
    public static func double(_ double: Double) -> Value { Value(.double(double)) }
    public static func bool(_ bool: Bool) -> Value { Value(.bool(bool)) }
    public static func sequence(_ items: [Value]) -> Value { Value(.sequence(items)) }
    public static func mapping(_ mapping: Mapping) -> Value { Value(.mapping(mapping)) }
}

/// A scalar's text as written; immutable, so values share it freely.
@usableFromInline
final class WrittenText: Sendable {
    let text: String

    init(_ text: String) {
        self.text = text
    }
}

// MARK: - Accessors

extension Value {
    public var isNull: Bool {
        if case .null = content { return true }
        return false
    }

    public var stringValue: String? {
        if case .string(let s) = content { return s }
        return nil
    }

    public var intValue: Int? {
        if case .int(let i) = content { return i }
        return nil
    }

    public var doubleValue: Double? {
        switch content {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = content { return b }
        return nil
    }

    public var sequenceValue: [Value]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    public var mappingValue: Mapping? {
        if case .mapping(let m) = content { return m }
        return nil
    }

    /// The member of a mapping, or nil when this is not a mapping or has no such key.
    public subscript(key: String) -> Value? {
        guard case .mapping(let m) = content else { return nil }
        return m[key]
    }

    /// The value at a path of mapping keys, e.g. `["metadata", "name"]`.
    ///
    /// Walks the mappings in place: only the value found is copied (this is the core's and the
    /// planner's most frequent read).
    public subscript(path path: [String]) -> Value? {
        guard !path.isEmpty else { return self }
        guard case .mapping(let mapping) = content else { return nil }
        return mapping.value(at: path, from: path.startIndex)
    }

    /// A short name for the kind of node, as used in error messages: `string`, `integer`, …
    public var typeName: String {
        switch content {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .sequence: return "array"
        case .mapping: return "object"
        }
    }
}

// MARK: - Equality

extension Value: Equatable, Hashable {
    public static func == (lhs: Value, rhs: Value) -> Bool {
        lhs.content == rhs.content
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(content)
    }
}

extension Value.Content: Equatable, Hashable {
    public static func == (lhs: Value.Content, rhs: Value.Content) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): return a == b
        case (.sequence(let a), .sequence(let b)): return a == b
        case (.mapping(let a), .mapping(let b)): return a == b
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .int(let i): hasher.combine(2); hasher.combine(i)
        case .double(let d): hasher.combine(3); hasher.combine(d.isNaN ? Double.nan.bitPattern : d.bitPattern)
        case .string(let s): hasher.combine(4); hasher.combine(s)
        case .sequence(let items): hasher.combine(5); hasher.combine(items)
        case .mapping(let m): hasher.combine(6); hasher.combine(m)
        }
    }
}

// MARK: - Literals

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self.init(.string(value)) }
    public init(integerLiteral value: Int) { self.init(.int(value)) }
    public init(floatLiteral value: Double) { self.init(.double(value)) }
    public init(booleanLiteral value: Bool) { self.init(.bool(value)) }
    public init(nilLiteral: ()) { self.init(.null) }
    public init(arrayLiteral elements: Value...) { self.init(.sequence(elements)) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        self.init(.mapping(Mapping(elements.map { Mapping.Entry(key: $0.0, value: $0.1) })))
    }
}
