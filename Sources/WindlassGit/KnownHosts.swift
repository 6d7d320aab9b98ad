#if canImport(Glibc)
import Glibc
#endif

/// An OpenSSH known_hosts file: the host keys Windlass accepts. Plain host patterns are matched
/// (`host`, `[host]:port`, comma-separated, `*` and `?` wildcards); hashed entries (`|1|…`) are
/// not read, which the error for an unknown key says.
struct KnownHosts {
    struct Entry {
        var patterns: [String]
        var keyType: String
        var key: String
    }

    var entries: [Entry] = []

    init(path: String) {
        guard let file = fopen(path, "r") else { return }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let fields = String(cString: line).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            guard fields.count >= 3, !fields[0].hasPrefix("#"), !fields[0].hasPrefix("@"), !fields[0].hasPrefix("|") else {
                continue
            }
            entries.append(Entry(patterns: fields[0].split(separator: ",").map(String.init), keyType: String(fields[1]), key: String(fields[2])))
        }
    }

    /// Whether the file lists `key` (base64) for `host` on `port`.
    func accepts(host: String, port: Int, key: String) -> Bool {
        let names = port == 22 ? [host, "[\(host)]:22"] : ["[\(host)]:\(port)"]
        for entry in entries where entry.key == key {
            for pattern in entry.patterns where !pattern.hasPrefix("!") {
                if names.contains(where: { Self.matches(pattern, $0) }) { return true }
            }
        }
        return false
    }

    static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.utf8)
        let n = Array(name.utf8)
        func match(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == n.count }
            switch p[i] {
            case UInt8(ascii: "*"):
                for k in j...n.count where match(i + 1, k) { return true }
                return false
            case UInt8(ascii: "?"):
                return j < n.count && match(i + 1, j + 1)
            default:
                return j < n.count && p[i] == n[j] && match(i + 1, j + 1)
            }
        }
        return match(0, 0)
    }
}

/// Standard base64, as known_hosts writes keys.
func base64(_ bytes: UnsafeRawBufferPointer) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out = [UInt8]()
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var i = 0
    while i + 2 < bytes.count {
        let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
        out += [alphabet[Int(v >> 18 & 63)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)], alphabet[Int(v & 63)]]
        i += 3
    }
    let rest = bytes.count - i
    if rest == 1 {
        let v = UInt32(bytes[i]) << 16
        out += [alphabet[Int(v >> 18 & 63)], alphabet[Int(v >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
    } else if rest == 2 {
        let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
        out += [alphabet[Int(v >> 18 & 63)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)], UInt8(ascii: "=")]
    }
    return String(decoding: out, as: UTF8.self)
}
