import WindlassManifest

/// What a push webhook says: the repository URLs it is about.
enum WebhookPush {
    /// The repository URLs of a GitHub or GitLab push body (or a generic `{"repository": URL}`);
    /// nil when the body is not a JSON object (YAML is refused, as documented: JSON only).
    static func repositories(in body: [UInt8]) -> [String]? {
        let parsed = body.withUnsafeBufferPointer { bytes in Result { () throws(YAMLError) in try JSONReader.read(bytes) } }
        guard case .success(let value) = parsed, let document = value, document.mappingValue != nil else { return nil }
        var urls: [String] = []
        for key in ["clone_url", "ssh_url", "git_url", "html_url", "url"] {
            if let url = document[path: ["repository", key]]?.stringValue { urls.append(url) }
        }
        for key in ["git_http_url", "git_ssh_url", "http_url", "ssh_url", "web_url"] {
            if let url = document[path: ["project", key]]?.stringValue { urls.append(url) }
        }
        if let url = document["repository"]?.stringValue { urls.append(url) }
        if let url = document["repo"]?.stringValue { urls.append(url) }
        return urls
    }

    /// `host/path` without scheme, user, port or `.git`, lower-cased host: the same repository
    /// over https, ssh and git:// compares equal.
    static func normalize(_ url: String) -> String {
        var rest = Substring(url.trimmingWhitespace())
        var scpLike = true
        if let scheme = rest.firstRange(of: "://") {
            rest = rest[scheme.upperBound...]
            scpLike = false
        }
        var host: Substring
        var path: Substring
        let slash = rest.firstIndex(of: "/")
        if scpLike, let colon = rest.firstIndex(of: ":"), slash.map({ colon < $0 }) ?? true {  // git@host:org/repo
            host = rest[..<colon]
            path = rest[rest.index(after: colon)...]
        } else if let slash {
            host = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        } else {
            host = rest
            path = ""
        }
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        while path.hasSuffix("/") { path = path.dropLast() }
        if path.hasSuffix(".git") { path = path.dropLast(4) }
        while path.hasPrefix("/") { path = path.dropFirst() }
        return host.lowercased() + "/" + path
    }
}

/// The delivery ids seen lately, so a replayed delivery triggers nothing.
struct DeliveryLog: Sendable {
    private var order: [String] = []
    private var seen: Set<String> = []
    let capacity: Int

    init(capacity: Int = 4096) { self.capacity = capacity }

    /// Whether `id` is new (and remembers it).
    mutating func insert(_ id: String) -> Bool {
        guard seen.insert(id).inserted else { return false }
        order.append(id)
        if order.count > capacity {
            seen.remove(order.removeFirst())
        }
        return true
    }
}

/// Signed bodies seen lately, by digest: a delivery id is not signed, so a captured push sent
/// again under a new id is still the same body, and within `window` seconds it triggers nothing.
struct RecentBodies: Sendable {
    private var seen: [String: Double] = [:]
    let window: Double
    let capacity: Int

    init(window: Double = 60, capacity: Int = 4096) {
        self.window = window
        self.capacity = capacity
    }

    /// Whether a body of this digest is new within the window (and remembers it at `now`).
    mutating func insert(_ digest: String, now: Double) -> Bool {
        if seen.count >= capacity { seen = seen.filter { now - $0.value < window } }
        if let at = seen[digest], now - at < window { return false }
        seen[digest] = now
        return true
    }
}
