/// Writes values as JSON. The same value always gives the same text.
///
/// JSON has no NaN or infinities; they are written as the strings `".nan"`, `".inf"` and
/// `"-.inf"` (their YAML spelling) rather than producing invalid JSON.
public struct JSONWriter: Sendable {
    /// Indent nested values by two spaces, one member per line.
    public var pretty: Bool
    /// Sort object keys instead of keeping the written order.
    public var sortKeys: Bool

    public init(pretty: Bool = false, sortKeys: Bool = false) {
        self.pretty = pretty
        self.sortKeys = sortKeys
    }

    public func write(_ value: Value) -> String {
        var out = ""
        write(value, indent: 0, into: &out)
        return out
    }

    private func write(_ value: Value, indent: Int, into out: inout String) {
        switch value.content {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isFinite {
                out += String(d)
            } else {
                Self.writeString(YAMLWriter.formatDouble(d), into: &out)
            }
        case .string(let s): Self.writeString(s, into: &out)
        case .sequence(let items):
            guard !items.isEmpty else {
                out += "[]"
                return
            }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                newline(indent + 1, into: &out)
                write(item, indent: indent + 1, into: &out)
            }
            newline(indent, into: &out)
            out += "]"
        case .mapping(let m):
            guard !m.isEmpty else {
                out += "{}"
                return
            }
            let entries = sortKeys ? m.entries.sorted { $0.key < $1.key } : m.entries
            out += "{"
            for (i, entry) in entries.enumerated() {
                if i > 0 { out += "," }
                newline(indent + 1, into: &out)
                Self.writeString(entry.key, into: &out)
                out += pretty ? ": " : ":"
                write(entry.value, indent: indent + 1, into: &out)
            }
            newline(indent, into: &out)
            out += "}"
        }
    }

    @inline(__always)
    private func newline(_ indent: Int, into out: inout String) {
        guard pretty else { return }
        out += "\n"
        out += String(repeating: "  ", count: indent)
    }

    /// A JSON string literal with the escapes RFC 8259 requires.
    public static func writeString(_ s: String, into out: inout String) {
        out += "\""
        // Most strings need no escaping: append them whole.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// `s` as a JSON string literal.
    public static func quote(_ s: String) -> String {
        var out = ""
        writeString(s, into: &out)
        return out
    }
}
