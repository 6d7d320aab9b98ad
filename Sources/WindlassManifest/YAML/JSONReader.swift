/// Reads one JSON text (RFC 8259) into a value, the same value `YAMLReader` makes of it (JSON
/// is YAML: numbers resolve as kubectl resolves them, and a number's written text is kept
/// where YAMLReader keeps it), without libyaml's events in between. The embedded cluster's
/// state, its history and the daemon's API are JSON, and restoring a large cluster reads tens
/// of thousands of objects.
///
/// Stricter than YAML, as JSON is: bare words other than `true`, `false` and `null`, comments,
/// control characters in strings and invalid UTF-8 are errors, each located. A key given twice
/// is an error, as in YAMLReader.
public enum JSONReader {
    /// The value of `text`; nil when it holds only whitespace.
    public static func read(_ text: String, file: FileID = .synthesized, limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> Value? {
        var text = text
        let result: Result<Value?, YAMLError> = text.withUTF8 { bytes in
            do throws(YAMLError) {
                return .success(try read(bytes, file: file, limits: limits))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The value of `bytes`, which the caller keeps alive for the call; nil for whitespace only.
    public static func read(_ bytes: UnsafeBufferPointer<UInt8>, file: FileID = .synthesized, limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> Value? {
        var parser = Parser(bytes: bytes, file: file, limits: limits)
        parser.skipWhitespace()
        guard parser.index < bytes.count else { return nil }
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected \(parser.describeNext()) after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        let file: FileID
        let limits: YAMLLimits
        var index = 0
        var line: UInt32 = 1
        var lineStart = 0

        init(bytes: UnsafeBufferPointer<UInt8>, file: FileID, limits: YAMLLimits) {
            self.bytes = bytes
            self.file = file
            self.limits = limits
            // A UTF-8 byte order mark at the start is allowed, as YAMLReader allows it.
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        }

        var position: SourcePosition { SourcePosition(line: line, column: UInt32(index - lineStart + 1)) }

        func error(_ message: String) -> YAMLError {
            YAMLError(message, file: file, position: position)
        }

        func describeNext() -> String {
            guard index < bytes.count else { return "end of input" }
            let byte = bytes[index]
            return byte >= 0x20 && byte < 0x7F ? "\"\(Character(UnicodeScalar(byte)))\"" : "byte 0x\(String(byte, radix: 16))"
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                    index += 1
                case UInt8(ascii: "\n"):
                    index += 1
                    line += 1
                    lineStart = index
                default:
                    return
                }
            }
        }

        mutating func value(depth: Int) throws(YAMLError) -> Value {
            guard index < bytes.count else { throw error("unexpected end of input: a value is missing") }
            let span = SourceSpan(file: file, start: position)
            switch bytes[index] {
            case UInt8(ascii: "{"):
                guard depth < limits.maxDepth else { throw error("nesting is deeper than \(limits.maxDepth) levels") }
                return Value(.mapping(try mapping(depth: depth + 1)), span: span)
            case UInt8(ascii: "["):
                guard depth < limits.maxDepth else { throw error("nesting is deeper than \(limits.maxDepth) levels") }
                return Value(.sequence(try sequence(depth: depth + 1)), span: span)
            case UInt8(ascii: "\""):
                return Value(.string(try string()), span: span)
            default:
                return try bare(span: span)
            }
        }

        mutating func mapping(depth: Int) throws(YAMLError) -> Mapping {
            index += 1
            var entries: [Mapping.Entry] = []
            var keys: Set<String>? = nil
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return Mapping(entries)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw error("expected a key in quotes, found \(describeNext())")
                }
                let keyPosition = position
                let key = try string()
                // Few keys: a linear scan; many: a set.
                if entries.count >= 16 {
                    if keys == nil { keys = Set(entries.map(\.key)) }
                    guard keys!.insert(key).inserted else { throw YAMLError("duplicate key \"\(key)\"", file: file, position: keyPosition) }
                } else if entries.contains(where: { $0.key == key }) {
                    throw YAMLError("duplicate key \"\(key)\"", file: file, position: keyPosition)
                }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected \":\" after a key, found \(describeNext())") }
                index += 1
                skipWhitespace()
                let child = try value(depth: depth)
                entries.append(Mapping.Entry(key: key, keySpan: SourceSpan(file: file, start: keyPosition), value: child))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of input: an object is not closed") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "}") else { throw error("expected \",\" or \"}\", found \(describeNext())") }
                index += 1
                return Mapping(entries)
            }
        }

        mutating func sequence(depth: Int) throws(YAMLError) -> [Value] {
            index += 1
            var items: [Value] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return items
            }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of input: an array is not closed") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "]") else { throw error("expected \",\" or \"]\", found \(describeNext())") }
                index += 1
                return items
            }
        }

        /// A string literal, the opening quote at `index`.
        mutating func string() throws(YAMLError) -> String {
            index += 1
            let start = index
            // The common case: no escapes.
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 {
                index += 1
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                let text = try decode(start..<index)
                index += 1
                return text
            }
            var out = Array(bytes[start..<index])
            while true {
                guard index < bytes.count else { throw error("unexpected end of input: a string is not closed") }
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    guard let text = String(validating: out, as: UTF8.self) else { throw error("a string is not valid UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { throw error("unexpected end of input: a string is not closed") }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                    case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                    case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                                throw error("a \\u escape of a high surrogate is not followed by its low surrogate")
                            }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("a \\u escape of a high surrogate is not followed by its low surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw error("\\u escape of a lone surrogate") }
                        out.append(contentsOf: String(Character(unicode)).utf8)
                    default:
                        index -= 1
                        let shown = escaped >= 0x20 && escaped < 0x7F ? String(UnicodeScalar(escaped)) : "(byte 0x\(String(escaped, radix: 16)))"
                        throw error("unknown escape \\\(shown)")
                    }
                case 0..<0x20:
                    throw error("a control character (byte 0x\(String(byte, radix: 16))) in a string must be escaped")
                default:
                    out.append(byte)
                    index += 1
                }
            }
        }

        func decode(_ range: Range<Int>) throws(YAMLError) -> String {
            let slice = UnsafeBufferPointer(rebasing: bytes[range])
            var ascii = true
            for byte in slice where byte >= 0x80 {
                ascii = false
                break
            }
            if ascii { return String(decoding: slice, as: UTF8.self) }
            guard let text = String(validating: slice, as: UTF8.self) else { throw error("a string is not valid UTF-8") }
            return text
        }

        mutating func hex4() throws(YAMLError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("a \\u escape needs four hex digits") }
            var scalar: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = Character(UnicodeScalar(bytes[index])).hexDigitValue else { throw error("a \\u escape needs four hex digits") }
                scalar = scalar << 4 | UInt32(digit)
                index += 1
            }
            return scalar
        }

        /// A number, `true`, `false` or `null`, resolved as YAMLReader resolves the same plain scalar.
        mutating func bare(span: SourceSpan) throws(YAMLError) -> Value {
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
                    index += 1
                    continue
                default:
                    break
                }
                break
            }
            let token = UnsafeBufferPointer(rebasing: bytes[start..<index])
            guard !token.isEmpty else { throw error("unexpected \(describeNext()): a value is missing") }
            guard Self.isLiteral(token) || Self.isNumber(token), let resolved = ScalarResolver.resolvePlain(token) else {
                index = start
                throw error("\"\(String(decoding: token, as: UTF8.self))\" is not JSON: expected a number, a string in quotes, true, false or null")
            }
            return Value(resolved.content, span: span, scalarText: resolved.keepsText ? String(decoding: token, as: UTF8.self) : nil)
        }

        static func isLiteral(_ token: UnsafeBufferPointer<UInt8>) -> Bool {
            token.elementsEqual("true".utf8) || token.elementsEqual("false".utf8) || token.elementsEqual("null".utf8)
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
        static func isNumber(_ token: UnsafeBufferPointer<UInt8>) -> Bool {
            var i = 0
            func digits() -> Int {
                let from = i
                while i < token.count, token[i] >= UInt8(ascii: "0"), token[i] <= UInt8(ascii: "9") { i += 1 }
                return i - from
            }
            if i < token.count, token[i] == UInt8(ascii: "-") { i += 1 }
            guard i < token.count else { return false }
            if token[i] == UInt8(ascii: "0") {
                i += 1
            } else if digits() == 0 {
                return false
            }
            if i < token.count, token[i] == UInt8(ascii: ".") {
                i += 1
                guard digits() > 0 else { return false }
            }
            if i < token.count, token[i] == UInt8(ascii: "e") || token[i] == UInt8(ascii: "E") {
                i += 1
                if i < token.count, token[i] == UInt8(ascii: "+") || token[i] == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { return false }
            }
            return i == token.count
        }
    }
}
