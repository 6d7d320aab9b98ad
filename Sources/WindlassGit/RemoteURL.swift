/// A repository location as the user wrote it: a path, `file://`, `git://`, `http(s)://`,
/// `ssh://` or scp-style `git@host:path`. Credentials in it never reach output.
public struct RemoteURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable {
        case path
        case file
        case git
        case http
        case https
        case ssh
    }

    /// The location exactly as given (it may carry credentials: never print it).
    public let raw: String
    public let scheme: Scheme

    public init(_ raw: String) throws(GitError) {
        self.raw = raw
        if let colon = raw.firstRange(of: "://") {
            let name = raw[..<colon.lowerBound].lowercased()
            guard let scheme = Scheme(rawValue: name), scheme != .path else {
                throw GitError(
                    .invalidArgument,
                    operation: "open",
                    repository: Self.redact(raw),
                    message: "unsupported URL scheme \"\(name)\"; use file://, git://, http://, https:// or ssh://"
                )
            }
            self.scheme = scheme
        } else if Self.isSCPStyle(raw) {
            scheme = .ssh
        } else {
            scheme = .path
        }
    }

    /// `user@host:path` with no slash before the colon (git's rule for scp-style addresses).
    static func isSCPStyle(_ raw: String) -> Bool {
        guard let colon = raw.firstIndex(of: ":") else { return false }
        let before = raw[..<colon]
        return !before.isEmpty && !before.contains("/") && raw.index(after: colon) < raw.endIndex
    }

    public var isRemote: Bool { scheme != .path }

    /// The URL with any password or token replaced by `***`: what messages show.
    public var description: String { Self.redact(raw) }

    /// The URL without any credentials: what identifies the repository (a mirror's name does not
    /// change when a token rotates).
    public var identity: String {
        guard let parts = Self.splitUserinfo(raw) else { return raw }
        return parts.prefix + parts.hostAndPath
    }

    /// The user name in the URL, if any (`https://user:token@host/…` → `user`, `git@host:x` → `git`).
    public var user: String? {
        if scheme == .ssh, !raw.contains("://"), let at = raw.firstIndex(of: "@") {
            return String(raw[..<at])
        }
        guard let parts = Self.splitUserinfo(raw) else { return nil }
        return String(parts.userinfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0])
    }

    /// The port in a `scheme://host:port/…` URL, if given.
    public var port: Int? {
        guard let schemeEnd = raw.firstRange(of: "://") else { return nil }
        let afterScheme = raw[schemeEnd.upperBound...]
        var authority = afterScheme[..<(afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex)]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") else { return nil }
        return Int(authority[authority.index(after: colon)...])
    }

    /// The password or token in the URL, if any.
    public var password: String? {
        guard let parts = Self.splitUserinfo(raw) else { return nil }
        let fields = parts.userinfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        return fields.count == 2 ? String(fields[1]) : nil
    }

    /// Splits `scheme://userinfo@host/path`; nil when there is no userinfo.
    private static func splitUserinfo(_ raw: String) -> (prefix: String, userinfo: Substring, hostAndPath: String)? {
        guard let schemeEnd = raw.firstRange(of: "://") else { return nil }
        let afterScheme = raw[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return nil }
        return (String(raw[..<schemeEnd.upperBound]), authority[..<at], String(afterScheme[afterScheme.index(after: at)...]))
    }

    /// Replaces the password of a URL with `***`; over HTTP a lone user part is taken for a token
    /// (`https://TOKEN@host`) and replaced too.
    static func redact(_ raw: String) -> String {
        guard let parts = splitUserinfo(raw) else { return raw }
        let fields = parts.userinfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        if fields.count == 2 { return parts.prefix + fields[0] + ":***@" + parts.hostAndPath }
        if parts.prefix.lowercased().hasPrefix("http") { return parts.prefix + "***@" + parts.hostAndPath }
        return raw
    }

    /// Redacts every URL with credentials inside a free-form message (libgit2's errors quote
    /// URLs, sync messages name providers' addresses): what any text shown or served goes through.
    public static func redactCredentials(in message: String) -> String {
        guard message.contains("://") else { return message }
        var out = ""
        for word in message.split(separator: " ", omittingEmptySubsequences: false) {
            if !out.isEmpty { out += " " }
            let text = String(word)
            guard let start = text.firstRange(of: "://") else {
                out += text
                continue
            }
            // Keep any quote or bracket before the scheme.
            var schemeStart = start.lowerBound
            while schemeStart > text.startIndex, text[text.index(before: schemeStart)].isLetter {
                schemeStart = text.index(before: schemeStart)
            }
            out += text[..<schemeStart] + redact(String(text[schemeStart...]))
        }
        return out
    }
}
