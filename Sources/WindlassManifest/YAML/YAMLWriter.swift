/// Writes values as block-style YAML the way kubectl prints it (two-space indent, sequence items
/// at their key's indent). The same value always gives the same text.
public struct YAMLWriter: Sendable {
    /// Sort mapping keys (as `kubectl get -o yaml` does) instead of keeping the written order.
    public var sortKeys: Bool
    /// Print scalars as the user wrote them (`0755`, `yes`) when the text still means the value.
    public var preservesScalarText: Bool

    public init(sortKeys: Bool = false, preservesScalarText: Bool = true) {
        self.sortKeys = sortKeys
        self.preservesScalarText = preservesScalarText
    }

    /// One document, ending in a newline.
    public func write(_ value: Value) -> String {
        var out = ""
        switch value.content {
        case .mapping(let m) where !m.isEmpty:
            writeMapping(m, indent: 0, into: &out)
        case .sequence(let items) where !items.isEmpty:
            writeSequence(items, indent: 0, into: &out)
        default:
            out += scalar(value)
            out += "\n"
        }
        return out
    }

    /// Several documents separated by `---`.
    public func write(documents: [Value]) -> String {
        documents.map { write($0) }.joined(separator: "---\n")
    }

    private func ordered(_ m: Mapping) -> [Mapping.Entry] {
        sortKeys ? m.entries.sorted { $0.key < $1.key } : m.entries
    }

    private func writeMapping(_ m: Mapping, indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for entry in ordered(m) {
            out += pad
            out += Self.scalarString(entry.key)
            out += ":"
            writeNested(entry.value, indent: indent, sequenceIndent: indent, into: &out)
        }
    }

    private func writeSequence(_ items: [Value], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            out += pad
            out += "-"
            switch item.content {
            case .mapping(let m) where !m.isEmpty:
                // The first entry goes on the dash's line.
                var nested = ""
                writeMapping(m, indent: indent + 2, into: &nested)
                out += " "
                out += nested.dropFirst(indent + 2)
            case .sequence(let inner) where !inner.isEmpty:
                var nested = ""
                writeSequence(inner, indent: indent + 2, into: &nested)
                out += " "
                out += nested.dropFirst(indent + 2)
            default:
                writeNested(item, indent: indent, sequenceIndent: indent, into: &out)
            }
        }
    }

    /// Writes what follows `key:` or `-`.
    private func writeNested(_ value: Value, indent: Int, sequenceIndent: Int, into out: inout String) {
        switch value.content {
        case .mapping(let m) where !m.isEmpty:
            out += "\n"
            writeMapping(m, indent: indent + 2, into: &out)
        case .sequence(let items) where !items.isEmpty:
            out += "\n"
            writeSequence(items, indent: sequenceIndent, into: &out)
        case .string(let s) where Self.wantsLiteralBlock(s):
            out += " |"
            if !s.hasSuffix("\n") {
                out += "-"
            } else if s.hasSuffix("\n\n") {
                out += "+"
            }
            let pad = String(repeating: " ", count: indent + 2)
            var body = Substring(s)
            if body.hasSuffix("\n") { body = body.dropLast() }
            for line in body.split(separator: "\n", omittingEmptySubsequences: false) {
                out += line.isEmpty ? "\n" : "\n" + pad + line
            }
            out += "\n"
        default:
            out += " "
            out += scalar(value)
            out += "\n"
        }
    }

    private func scalar(_ value: Value) -> String {
        if preservesScalarText, let text = value.scalarText, !text.isEmpty, Self.reads(text, as: value.content) {
            return text
        }
        switch value.content {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return Self.formatDouble(d)
        case .string(let s): return Self.scalarString(s)
        case .sequence: return "[]"
        case .mapping: return "{}"
        }
    }

    /// Whether plain `text` reads back as `content`.
    static func reads(_ text: String, as content: Value.Content) -> Bool {
        var utf8 = Array(text.utf8)
        return utf8.withUnsafeMutableBufferPointer { buffer in
            ScalarResolver.resolvePlain(UnsafeBufferPointer(buffer))?.content == content
        }
    }

    static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        return String(d)
    }

    /// A string as a YAML scalar: plain when it reads back as the same string, otherwise quoted.
    static func scalarString(_ s: String) -> String {
        if isPlainSafe(s) { return s }
        if s.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) {
            return "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'"
        }
        return doubleQuoted(s)
    }

    static func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func wantsLiteralBlock(_ s: String) -> Bool {
        guard s.contains("\n"), !s.hasPrefix(" "), !s.hasPrefix("\n") else { return false }
        for scalar in s.unicodeScalars where scalar != "\n" && (scalar.value < 0x20 || scalar.value == 0x7F) {
            return false
        }
        // Trailing spaces on a line would be kept, but are invisible; quote instead.
        for line in s.split(separator: "\n") where line.hasSuffix(" ") {
            return false
        }
        return true
    }

    private static func isPlainSafe(_ s: String) -> Bool {
        guard let first = s.utf8.first, let last = s.utf8.last else { return false }
        switch first {
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
            // Allowed when followed by a non-space, like `-foo` or `:x`.
            if s.utf8.count == 1 { return false }
            let second = s.utf8[s.utf8.index(after: s.utf8.startIndex)]
            if second == UInt8(ascii: " ") { return false }
        case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"),
            UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
            UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"),
            UInt8(ascii: "`"), UInt8(ascii: " "):
            return false
        default:
            break
        }
        if last == UInt8(ascii: " ") || last == UInt8(ascii: ":") { return false }
        var previous: UInt8 = 0
        for byte in s.utf8 {
            if byte < 0x20 || byte == 0x7F { return false }
            if byte == UInt8(ascii: " ") && previous == UInt8(ascii: ":") { return false }
            if byte == UInt8(ascii: "#") && previous == UInt8(ascii: " ") { return false }
            // Flow indicators would end the scalar inside `[...]` or `{...}`; quote to stay safe.
            if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
                || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}")
            {
                return false
            }
            previous = byte
        }
        if s == "<<" { return false }
        // It must not read back as something else: `yes`, `0755`, `null`, `1e3`.
        var utf8 = Array(s.utf8)
        return utf8.withUnsafeMutableBufferPointer { ScalarResolver.resolvePlain(UnsafeBufferPointer($0)) == nil }
    }
}

extension Value: CustomStringConvertible {
    /// The value as compact JSON.
    public var description: String { JSONWriter().write(self) }
}
