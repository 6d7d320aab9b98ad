public import WindlassManifest
import Crypto

/// Hides Secret values in everything a plan shows: each value becomes `***` and a short keyed
/// hash of its decoded content (HMAC-SHA-256 with the installation's key), so a changed value
/// still shows as a change, the same value written under `data` (base64) or `stringData`
/// (plain) shows the same hash, and nobody without the key can test a guess against it (an
/// unkeyed hash of a short password is found by hashing candidates).
public struct SecretMask: Sendable, Hashable {
    /// The key, kept in the state directory (`secret-mask.key`); the same key gives the same
    /// masks across plans of one installation.
    public var key: [UInt8]

    public init(key: [UInt8]) {
        self.key = key
    }

    public static func isSecret(_ object: Value) -> Bool {
        object["kind"]?.stringValue == "Secret" && (object["apiVersion"]?.stringValue ?? "v1") == "v1"
    }

    /// `object` with its Secret values masked (other objects are returned as they are).
    public func masked(_ object: Value) -> Value {
        guard Self.isSecret(object) else { return object }
        var out = object
        for (field, encoded) in [("data", true), ("stringData", false)] {
            guard let mapping = out[field]?.mappingValue else { continue }
            var masked = Mapping()
            for entry in mapping.entries {
                masked[entry.key] = .string(mask(entry.value, base64: encoded))
            }
            out.set(.mapping(masked), at: [field])
        }
        // The last applied configuration of a Secret holds its values in clear.
        out.remove(at: ["metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"])
        return out
    }

    func mask(_ value: Value, base64: Bool) -> String {
        let text = value.stringValue ?? value.scalarText ?? ""
        let bytes = base64 ? (Base64.decode(text) ?? Array(text.utf8)) : Array(text.utf8)
        let code = HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: key))
        return "*** (hmac:\(Hex.string(Array(code)).prefix(8)))"
    }
}

/// Standard base64 decoding (with or without padding; whitespace ignored).
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: " "): continue
            default: return nil
            }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }
}
