#if canImport(Glibc)
import Glibc
#endif

/// How Windlass authenticates to a remote: an HTTPS token or user and password, or an SSH key
/// (with its passphrase) or the SSH agent. Printing it never shows a secret.
public struct GitCredentials: Sendable, CustomStringConvertible {
    public var username: String?
    /// A password or token for HTTPS.
    public var password: String?
    /// A private key file for SSH; without one, the SSH agent is asked.
    public var sshKeyPath: String?
    public var sshKeyPassphrase: String?
    /// The known_hosts file an SSH server's host key must be listed in (default
    /// `~/.ssh/known_hosts`); a server whose key is not there is refused.
    public var sshKnownHosts: String?

    public init(
        username: String? = nil,
        password: String? = nil,
        sshKeyPath: String? = nil,
        sshKeyPassphrase: String? = nil,
        sshKnownHosts: String? = nil
    ) {
        self.username = username
        self.password = password
        self.sshKeyPath = sshKeyPath
        self.sshKeyPassphrase = sshKeyPassphrase
        self.sshKnownHosts = sshKnownHosts
    }

    public static let none = GitCredentials()

    /// The environment variables read, with what they set.
    public static let environmentVariables: [(name: String, meaning: String)] = [
        ("WINDLASS_GIT_TOKEN", "HTTPS token (sent as the password; user defaults to x-access-token)"),
        ("WINDLASS_GIT_USERNAME", "HTTPS or SSH user"),
        ("WINDLASS_GIT_PASSWORD", "HTTPS password"),
        ("WINDLASS_GIT_SSH_KEY", "path of an SSH private key"),
        ("WINDLASS_GIT_SSH_KEY_PASSPHRASE", "passphrase of that key"),
        ("WINDLASS_GIT_SSH_KNOWN_HOSTS", "known_hosts file for SSH host keys (default ~/.ssh/known_hosts)"),
        ("WINDLASS_GIT_CREDENTIALS_FILE", "a git-credential-store file (https://user:token@host lines)"),
    ]

    /// Credentials for `url` from the environment: the variables above, then a line of the
    /// credentials file matching the URL's scheme and host.
    public static func fromEnvironment(for url: RemoteURL, environment: [String: String] = processEnvironment()) -> GitCredentials {
        var credentials = GitCredentials(
            username: environment["WINDLASS_GIT_USERNAME"],
            password: environment["WINDLASS_GIT_PASSWORD"],
            sshKeyPath: environment["WINDLASS_GIT_SSH_KEY"],
            sshKeyPassphrase: environment["WINDLASS_GIT_SSH_KEY_PASSPHRASE"],
            sshKnownHosts: environment["WINDLASS_GIT_SSH_KNOWN_HOSTS"]
                ?? environment["HOME"].map { $0 + "/.ssh/known_hosts" }
        )
        if let token = environment["WINDLASS_GIT_TOKEN"], !token.isEmpty {
            credentials.password = token
            if credentials.username == nil { credentials.username = "x-access-token" }
        }
        if credentials.password == nil, let file = environment["WINDLASS_GIT_CREDENTIALS_FILE"],
            let line = credentialLine(in: file, for: url)
        {
            let stored = try? RemoteURL(line)
            credentials.username = credentials.username ?? stored?.user
            credentials.password = stored?.password
        }
        return credentials
    }

    /// The first `scheme://user:pass@host[/path]` line of a git-credential-store file whose scheme
    /// and host match the URL's (and whose path, if any, is a prefix of the URL's).
    static func credentialLine(in file: String, for url: RemoteURL) -> String? {
        guard let fd = fopen(file, "r") else { return nil }
        defer { fclose(fd) }
        let target = url.identity
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, fd) > 0, let line {
            let text = String(cString: line).trimmingTrailingNewlines()
            guard let stored = try? RemoteURL(text), stored.scheme == url.scheme else { continue }
            if target.hasPrefix(stored.identity) { return text }
        }
        return nil
    }

    public static func processEnvironment() -> [String: String] {
        var out: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                out[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return out
    }

    public var description: String {
        var parts: [String] = []
        if let username { parts.append("user \(username)") }
        if password != nil { parts.append("password ***") }
        if let sshKeyPath { parts.append("ssh key \(sshKeyPath)") }
        return parts.isEmpty ? "no credentials" : parts.joined(separator: ", ")
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var text = self
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}
