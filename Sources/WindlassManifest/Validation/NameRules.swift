/// The name formats Kubernetes enforces (k8s.io/apimachinery/pkg/util/validation), each
/// returning nil when the name is valid or the reason it is not.
public enum NameRules {
    /// RFC 1123 label: at most 63 lowercase alphanumerics or `-`, starting and ending alphanumeric.
    public static func dns1123Label(_ name: String) -> String? {
        if name.utf8.count > 63 { return "must be no more than 63 characters" }
        guard isLabel(Substring(name), firstMayBeDigit: true) else {
            return "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
        }
        return nil
    }

    /// RFC 1035 label (Service names): as a 1123 label, but starting with a letter.
    public static func dns1035Label(_ name: String) -> String? {
        if name.utf8.count > 63 { return "must be no more than 63 characters" }
        guard isLabel(Substring(name), firstMayBeDigit: false) else {
            return "must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"
        }
        return nil
    }

    /// RFC 1123 subdomain: dot-separated 1123 labels, at most 253 characters.
    public static func dns1123Subdomain(_ name: String) -> String? {
        if name.utf8.count > 253 { return "must be no more than 253 characters" }
        guard isSubdomain(name) else {
            return "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        }
        return nil
    }

    /// Dot-separated labels, checked in one pass over the bytes (names are checked for every
    /// object loaded, so this stays allocation-free).
    private static func isSubdomain(_ name: String) -> Bool {
        var previous: UInt8 = UInt8(ascii: ".")
        for byte in name.utf8 {
            if isAlphanumeric(byte, upper: false) {
                previous = byte
                continue
            }
            switch byte {
            case UInt8(ascii: "-"):
                if previous == UInt8(ascii: ".") { return false }
            case UInt8(ascii: "."):
                if previous == UInt8(ascii: ".") || previous == UInt8(ascii: "-") { return false }
            default:
                return false
            }
            previous = byte
        }
        return previous != UInt8(ascii: ".") && previous != UInt8(ascii: "-")
    }

    /// A name that is safe in a URL path segment (RBAC objects such as `system:controller`).
    public static func pathSegmentName(_ name: String) -> String? {
        if name == "." || name == ".." { return "may not be '.' or '..'" }
        if name.contains("/") || name.contains("%") { return "may not contain '/' or '%'" }
        return nil
    }

    /// A label or annotation key: an optional DNS subdomain prefix and `/`, then a name of at
    /// most 63 alphanumerics, `-`, `_` or `.`, starting and ending alphanumeric.
    public static func qualifiedName(_ key: String) -> String? {
        var name = Substring(key)
        if let slash = key.lastIndex(of: "/") {
            let prefix = String(key[..<slash])
            name = key[key.index(after: slash)...]
            if prefix.isEmpty { return "prefix part must be non-empty" }
            if let problem = dns1123Subdomain(prefix) { return "prefix part \(problem)" }
        }
        if name.isEmpty { return "name part must be non-empty" }
        if name.utf8.count > 63 { return "name part must be no more than 63 characters" }
        guard isQualifiedNamePart(name) else {
            return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        }
        return nil
    }

    /// A label value: empty, or at most 63 characters shaped like a qualified name's name part.
    public static func labelValue(_ value: String) -> String? {
        if value.isEmpty { return nil }
        if value.utf8.count > 63 { return "must be no more than 63 characters" }
        guard isQualifiedNamePart(Substring(value)) else {
            return "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        }
        return nil
    }

    /// The rule Kubernetes applies to `metadata.name` of a kind.
    public static func objectName(_ name: String, kind: GroupKind) -> String? {
        switch (kind.group, kind.kind) {
        case ("", "Namespace"): return dns1123Label(name)
        case ("", "Service"): return dns1035Label(name)
        case ("rbac.authorization.k8s.io", _): return pathSegmentName(name)
        default: return dns1123Subdomain(name)
        }
    }

    private static func isAlphanumeric(_ c: UInt8, upper: Bool) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
            || (upper && c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    }

    private static func isLabel(_ s: Substring, firstMayBeDigit: Bool) -> Bool {
        guard let first = s.utf8.first, let last = s.utf8.last else { return false }
        guard isAlphanumeric(first, upper: false), isAlphanumeric(last, upper: false) else { return false }
        if !firstMayBeDigit, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") { return false }
        return s.utf8.allSatisfy { isAlphanumeric($0, upper: false) || $0 == UInt8(ascii: "-") }
    }

    private static func isQualifiedNamePart(_ s: Substring) -> Bool {
        guard let first = s.utf8.first, let last = s.utf8.last else { return false }
        guard isAlphanumeric(first, upper: true), isAlphanumeric(last, upper: true) else { return false }
        return s.utf8.allSatisfy {
            isAlphanumeric($0, upper: true) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                || $0 == UInt8(ascii: ".")
        }
    }
}
