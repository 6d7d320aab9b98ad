public import WindlassPlan

/// HMAC-SHA256 (RFC 2104) over Windlass's own SHA-256, for webhook signatures.
public enum HMACSHA256 {
    public static func mac<Key: Collection<UInt8>, Message: Collection<UInt8>>(key: Key, message: Message) -> [UInt8] {
        let blockSize = 64
        var block = key.count > blockSize ? SHA256.hash(key) : Array(key)
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        let inner = SHA256.hash(block.map { $0 ^ 0x36 } + Array(message))
        return SHA256.hash(block.map { $0 ^ 0x5c } + inner)
    }

    /// Whether `signature` (lower- or upper-case hex, optionally prefixed `sha256=`) is the MAC
    /// of `message`, compared in constant time.
    public static func verify<Message: Collection<UInt8>>(signature: String, key: String, message: Message) -> Bool {
        var hex = Substring(signature)
        if hex.hasPrefix("sha256=") { hex = hex.dropFirst(7) }
        guard hex.utf8.count == 64 else { return false }
        let expected = mac(key: Array(key.utf8), message: message)
        var difference: UInt8 = 0
        var bytes = hex.utf8.makeIterator()
        for byte in expected {
            guard let high = bytes.next().flatMap(nibble), let low = bytes.next().flatMap(nibble) else { return false }
            difference |= byte ^ (high << 4 | low)
        }
        return difference == 0
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
