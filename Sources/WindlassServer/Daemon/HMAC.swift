import Crypto

/// HMAC-SHA256 (RFC 2104, swift-crypto) for webhook signatures.
public enum HMACSHA256 {
    public static func mac<Key: Collection<UInt8>, Message: Collection<UInt8>>(key: Key, message: Message) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(message), using: SymmetricKey(data: Array(key))))
    }

    /// Whether `signature` (lower- or upper-case hex, optionally prefixed `sha256=`) is the MAC
    /// of `message`, compared in constant time.
    public static func verify<Message: Collection<UInt8>>(signature: String, key: String, message: Message) -> Bool {
        var hex = Substring(signature)
        if hex.hasPrefix("sha256=") { hex = hex.dropFirst(7) }
        guard hex.utf8.count == 64 else { return false }
        var code: [UInt8] = []
        var bytes = hex.utf8.makeIterator()
        while let high = bytes.next() {
            guard let h = nibble(high), let l = bytes.next().flatMap(nibble) else { return false }
            code.append(h << 4 | l)
        }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Array(message), using: SymmetricKey(data: Array(key.utf8)))
    }

    /// The SHA-256 of `message` in lower-case hex.
    static func digest(_ message: [UInt8]) -> String {
        SHA256.hash(data: message).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
        }.joined()
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
