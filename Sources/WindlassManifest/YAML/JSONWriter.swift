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
        if !pretty && !sortKeys { return String(decoding: encode(value), as: UTF8.self) }
        var out = ""
        write(value, indent: 0, into: &out)
        return out
    }

    /// Compact JSON as UTF-8 bytes, written straight into one buffer (what an API server sends;
    /// `pretty` and `sortKeys` are not applied here).
    public func encode(_ value: Value) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        Self.encode(value, into: &out)
        return out
    }

    private static func encode(_ value: Value, into out: inout [UInt8]) {
        switch value.content {
        case .null: out.append(contentsOf: [0x6e, 0x75, 0x6c, 0x6c])
        case .bool(let b): b ? out.append(contentsOf: [0x74, 0x72, 0x75, 0x65]) : out.append(contentsOf: [0x66, 0x61, 0x6c, 0x73, 0x65])
        case .int(let i): appendInt(i, into: &out)
        case .double(let d):
            if d.isFinite {
                out.append(contentsOf: String(d).utf8)
            } else {
                encodeString(YAMLWriter.formatDouble(d), into: &out)
            }
        case .string(let s): encodeString(s, into: &out)
        case .sequence(let items):
            out.append(UInt8(ascii: "["))
            var first = true
            for item in items {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                encode(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .mapping(let m):
            out.append(UInt8(ascii: "{"))
            var first = true
            for entry in m.entries {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                encodeString(entry.key, into: &out)
                out.append(UInt8(ascii: ":"))
                encode(entry.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func appendInt(_ value: Int, into out: inout [UInt8]) {
        if value >= 0 && value < 10 {
            out.append(UInt8(ascii: "0") &+ UInt8(value))
            return
        }
        if value == Int.min {
            out.append(contentsOf: String(value).utf8)
            return
        }
        var magnitude = value < 0 ? -value : value
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }

    private static func encodeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var clean = true
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                clean = false
                break
            }
            if clean {
                out.append(contentsOf: bytes)
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: [0x5c, 0x22])
                case UInt8(ascii: "\\"): out.append(contentsOf: [0x5c, 0x5c])
                case 0x0a: out.append(contentsOf: [0x5c, 0x6e])
                case 0x0d: out.append(contentsOf: [0x5c, 0x72])
                case 0x09: out.append(contentsOf: [0x5c, 0x74])
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5c, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xf)]])
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
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
