#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Resolves plain YAML scalars the way kubectl reads them (the YAML 1.1 rules of go-yaml v2
/// behind sigs.k8s.io/yaml): `yes`/`no`/`on`/`off` are booleans, `0755` is octal, `1e3` is a
/// float, timestamps stay strings.
enum ScalarResolver {
    /// The outcome for a plain scalar: its content, and whether the written text must be kept
    /// because it differs from the canonical spelling of that content.
    struct Resolved {
        var content: Value.Content
        var keepsText: Bool
    }

    /// Resolves untagged plain text; nil means "a string".
    static func resolvePlain(_ text: UnsafeBufferPointer<UInt8>) -> Resolved? {
        guard let first = text.first else { return Resolved(content: .null, keepsText: true) }
        switch first {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            if let fast = fastDecimal(text) { return fast }
            return resolveNumber(text)
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            if let special = lookup(text) { return special }
            return resolveNumber(text)
        case UInt8(ascii: "."):
            if let special = lookup(text) { return special }
            return resolveDotFloat(text)
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"),
            UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"),
            UInt8(ascii: "o"), UInt8(ascii: "O"), UInt8(ascii: "~"):
            return lookup(text)
        default:
            return nil
        }
    }

    /// `[1-9][0-9]*` or `0`, up to 18 digits: the common case, with no text to keep.
    @inline(__always)
    private static func fastDecimal(_ text: UnsafeBufferPointer<UInt8>) -> Resolved? {
        guard text.count <= 18, text.count == 1 || text[0] != UInt8(ascii: "0") else { return nil }
        var value = 0
        for byte in text {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value &* 10 &+ Int(digit)
        }
        return Resolved(content: .int(value), keepsText: false)
    }

    /// The fixed spellings of booleans, null and the special floats, matched on bytes: this runs
    /// for every plain scalar starting with one of their letters (`name`, `ports`, `true`, …).
    private static func lookup(_ text: UnsafeBufferPointer<UInt8>) -> Resolved? {
        @inline(__always)
        func any(_ spellings: StaticString...) -> Bool {
            for spelling in spellings
            where spelling.utf8CodeUnitCount == text.count && memcmp(text.baseAddress!, spelling.utf8Start, text.count) == 0 {
                return true
            }
            return false
        }
        switch text.count {
        case 1:
            switch text[0] {
            case UInt8(ascii: "y"), UInt8(ascii: "Y"): return Resolved(content: .bool(true), keepsText: true)
            case UInt8(ascii: "n"), UInt8(ascii: "N"): return Resolved(content: .bool(false), keepsText: true)
            case UInt8(ascii: "~"): return Resolved(content: .null, keepsText: true)
            default: return nil
            }
        case 2:
            if any("on", "On", "ON") { return Resolved(content: .bool(true), keepsText: true) }
            if any("no", "No", "NO") { return Resolved(content: .bool(false), keepsText: true) }
        case 3:
            if any("yes", "Yes", "YES") { return Resolved(content: .bool(true), keepsText: true) }
            if any("off", "Off", "OFF") { return Resolved(content: .bool(false), keepsText: true) }
        case 4:
            if any("true") { return Resolved(content: .bool(true), keepsText: false) }
            if any("True", "TRUE") { return Resolved(content: .bool(true), keepsText: true) }
            if any("null") { return Resolved(content: .null, keepsText: false) }
            if any("Null", "NULL") { return Resolved(content: .null, keepsText: true) }
            if any(".nan", ".NaN", ".NAN") { return Resolved(content: .double(.nan), keepsText: true) }
            if any(".inf", ".Inf", ".INF") { return Resolved(content: .double(.infinity), keepsText: true) }
        case 5:
            if any("false") { return Resolved(content: .bool(false), keepsText: false) }
            if any("False", "FALSE") { return Resolved(content: .bool(false), keepsText: true) }
            if any("+.inf", "+.Inf", "+.INF") { return Resolved(content: .double(.infinity), keepsText: true) }
            if any("-.inf", "-.Inf", "-.INF") { return Resolved(content: .double(-.infinity), keepsText: true) }
        default:
            break
        }
        return nil
    }

    /// Go's `strconv.ParseInt(s, 0, 64)` after removing underscores, then `ParseUint`, then a
    /// YAML-style float; anything else is a string.
    private static func resolveNumber(_ text: UnsafeBufferPointer<UInt8>) -> Resolved? {
        var plain = [UInt8]()
        plain.reserveCapacity(text.count)
        for byte in text where byte != UInt8(ascii: "_") { plain.append(byte) }
        if let int = parseGoInt(plain) {
            return Resolved(content: .int(int), keepsText: true)
        }
        if let huge = parseGoUInt(plain) {
            return Resolved(content: .double(Double(huge)), keepsText: true)
        }
        if isYAMLStyleFloat(plain), let double = Double(String(decoding: plain, as: UTF8.self)) {
            return Resolved(content: .double(double), keepsText: true)
        }
        return nil
    }

    /// A scalar starting with `.`: Go's `ParseFloat` of the text as written.
    private static func resolveDotFloat(_ text: UnsafeBufferPointer<UInt8>) -> Resolved? {
        let bytes = Array(text)
        guard isYAMLStyleFloat(bytes), let double = Double(String(decoding: bytes, as: UTF8.self)) else {
            return nil
        }
        return Resolved(content: .double(double), keepsText: true)
    }

    /// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
    static func isYAMLStyleFloat(_ s: [UInt8]) -> Bool {
        var i = 0
        func isDigit(_ i: Int) -> Bool { i < s.count && s[i] >= UInt8(ascii: "0") && s[i] <= UInt8(ascii: "9") }
        if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") { i += 1 }
        if i < s.count, s[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { return false }
            while isDigit(i) { i += 1 }
        } else {
            guard isDigit(i) else { return false }
            while isDigit(i) { i += 1 }
            if i < s.count, s[i] == UInt8(ascii: ".") {
                i += 1
                while isDigit(i) { i += 1 }
            }
        }
        if i < s.count, s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") {
            i += 1
            if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { return false }
            while isDigit(i) { i += 1 }
        }
        return i == s.count
    }

    /// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, then `0x`, `0o`, `0b` or a leading `0`
    /// (octal) prefix, or decimal.
    static func parseGoInt(_ s: [UInt8]) -> Int? {
        var i = 0
        var negative = false
        if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            negative = s[i] == UInt8(ascii: "-")
            i += 1
        }
        guard let magnitude = parseMagnitude(s, from: i) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int.min : -Int(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int(magnitude)
    }

    /// Go's `strconv.ParseUint(s, 0, 64)`: no sign.
    static func parseGoUInt(_ s: [UInt8]) -> UInt64? {
        parseMagnitude(s, from: 0)
    }

    private static func parseMagnitude(_ s: [UInt8], from start: Int) -> UInt64? {
        var i = start
        guard i < s.count else { return nil }
        var radix: UInt64 = 10
        if s[i] == UInt8(ascii: "0"), i + 1 < s.count {
            switch s[i + 1] {
            case UInt8(ascii: "x"), UInt8(ascii: "X"): radix = 16; i += 2
            case UInt8(ascii: "o"), UInt8(ascii: "O"): radix = 8; i += 2
            case UInt8(ascii: "b"), UInt8(ascii: "B"): radix = 2; i += 2
            default: radix = 8; i += 1
            }
            guard i < s.count else { return nil }
        }
        var value: UInt64 = 0
        while i < s.count {
            let c = s[i]
            let digit: UInt64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
            guard digit < radix else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            value = a
            i += 1
        }
        return value
    }
}

extension ScalarResolver {
    /// The core-schema tags libyaml reports in full form.
    enum Tag: Equatable {
        case string, int, float, bool, null, binary, timestamp, mapping, sequence, merge
        /// The non-specific `!` tag or an application tag: the scalar stays a string.
        case other(String)

        init(_ raw: String) {
            switch raw {
            case "tag:yaml.org,2002:str": self = .string
            case "tag:yaml.org,2002:int": self = .int
            case "tag:yaml.org,2002:float": self = .float
            case "tag:yaml.org,2002:bool": self = .bool
            case "tag:yaml.org,2002:null": self = .null
            case "tag:yaml.org,2002:binary": self = .binary
            case "tag:yaml.org,2002:timestamp": self = .timestamp
            case "tag:yaml.org,2002:map": self = .mapping
            case "tag:yaml.org,2002:seq": self = .sequence
            case "tag:yaml.org,2002:merge": self = .merge
            default: self = .other(raw)
            }
        }

        var shortName: String {
            switch self {
            case .string: return "!!str"
            case .int: return "!!int"
            case .float: return "!!float"
            case .bool: return "!!bool"
            case .null: return "!!null"
            case .binary: return "!!binary"
            case .timestamp: return "!!timestamp"
            case .mapping: return "!!map"
            case .sequence: return "!!seq"
            case .merge: return "!!merge"
            case .other(let raw): return raw
            }
        }
    }

    /// Resolves a scalar carrying an explicit tag; nil when the text does not fit the tag.
    static func resolveTagged(_ text: UnsafeBufferPointer<UInt8>, tag: Tag) -> Value.Content?? {
        switch tag {
        case .string, .binary, .timestamp, .other:
            return .some(nil)
        case .int:
            guard let r = resolvePlain(text), case .int = r.content else { return nil }
            return .some(r.content)
        case .float:
            guard let r = resolvePlain(text) else { return nil }
            switch r.content {
            case .int(let i): return .some(.double(Double(i)))
            case .double: return .some(r.content)
            default: return nil
            }
        case .bool:
            guard let r = resolvePlain(text), case .bool = r.content else { return nil }
            return .some(r.content)
        case .null:
            guard let r = resolvePlain(text), case .null = r.content else { return nil }
            return .some(r.content)
        case .mapping, .sequence, .merge:
            return nil
        }
    }
}
