import Foundation

/// The hosts analysis providers may query. An AnalysisTemplate is committed to git, so without
/// a list anyone who can push could make the daemon GET any address from its network position;
/// the daemon therefore queries only the hosts its config allows (`analysis.allowedHosts`,
/// by default loopback and the application's `analysis.prometheus`).
///
/// An entry is `host` (any port), `host:port`, `[v6]:port`, `*.domain` (any host under the
/// domain, not the domain itself) or `loopback` (`localhost`, `127.0.0.0/8`, `::1`). Names are
/// matched as written, before DNS: a name allowed here that resolves to another address is
/// still queried (see docs/security.md).
public struct AllowedHosts: Sendable, Equatable, CustomStringConvertible {
    public var entries: [String]

    public init(_ entries: [String]) {
        self.entries = entries
    }

    /// Loopback and, when one is configured, the Prometheus at `prometheus` (its host and port).
    public static func defaults(prometheus: String?) -> AllowedHosts {
        var list = AllowedHosts(["loopback"])
        if let prometheus { list.allow(url: prometheus) }
        return list
    }

    /// Adds the host and port of `url` (when it parses).
    public mutating func allow(url: String) {
        guard let entry = Self.origin(of: url) else { return }
        if !entries.contains(entry) { entries.append(entry) }
    }

    /// `host:port` (`[v6]:port`) of an http(s) URL, the port the scheme's when none is given;
    /// nil when it is not one.
    public static func origin(of url: String) -> String? {
        Target(url: url)?.shown
    }

    /// Whether `url` may be queried: nil when it may, else why not (one clause, naming the host).
    public func refusal(of url: String) -> String? {
        guard let target = Target(url: url) else { return "it names no host" }
        if entries.contains(where: { Self.matches($0, target) }) { return nil }
        return "\(target.shown) is not an allowed analysis host (analysis.allowedHosts: \(description))"
    }

    public var description: String { entries.isEmpty ? "none" : entries.joined(separator: ", ") }

    /// Checks an entry's spelling: nil when it is one of the forms above, else the problem.
    public static func problem(in entry: String) -> String? {
        let text = entry.lowercased()
        if text == "loopback" { return nil }
        if text.contains("://") || text.contains("/") { return "\"\(entry)\" is a URL; write the host (and port) only" }
        guard let parsed = Pattern(text) else { return "\"\(entry)\" is not host, host:port, [v6]:port, *.domain or loopback" }
        if parsed.host.isEmpty || parsed.host == "*." { return "\"\(entry)\" names no host" }
        return nil
    }

    /// A URL's host (lowercased, brackets removed) and port (the scheme's when none is given),
    /// read as the HTTP client reads it.
    struct Target {
        var host: String
        var port: Int

        init?(url: String) {
            guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
                var host = parsed.host?.lowercased(), !host.isEmpty
            else { return nil }
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            self.host = host
            port = parsed.port ?? (scheme == "https" ? 443 : 80)
        }

        var shown: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        var isLoopback: Bool {
            if host == "localhost" || host.hasSuffix(".localhost") || host == "::1" { return true }
            let octets = host.split(separator: ".", omittingEmptySubsequences: false)
            return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
        }
    }

    struct Pattern {
        var host: String
        var port: Int?

        init?(_ text: String) {
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]") else { return nil }
                host = String(text[text.index(after: text.startIndex)..<close])
                let rest = text[text.index(after: close)...]
                if rest.isEmpty {
                    port = nil
                } else {
                    guard rest.hasPrefix(":"), let number = Int(rest.dropFirst()), (1...65535).contains(number) else { return nil }
                    port = number
                }
                return
            }
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            host = String(parts[0])
            if parts.count == 2 {
                guard let number = Int(parts[1]), (1...65535).contains(number) else { return nil }
                port = number
            } else {
                port = nil
            }
            let allowed = host.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "-" || $0 == "*" }
            guard allowed, !host.dropFirst().contains("*"), !host.hasPrefix("*") || host.hasPrefix("*.") else { return nil }
        }
    }

    static func matches(_ entry: String, _ target: Target) -> Bool {
        let text = entry.lowercased()
        if text == "loopback" { return target.isLoopback }
        guard let pattern = Pattern(text) else { return false }
        if let port = pattern.port, port != target.port { return false }
        if pattern.host.hasPrefix("*.") {
            return target.host.hasSuffix(pattern.host.dropFirst()) && target.host.count > pattern.host.count - 1
        }
        return pattern.host == target.host
    }
}
