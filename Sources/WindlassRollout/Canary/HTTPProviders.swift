import AsyncHTTPClient
import NIOCore
import NIOHTTP1
public import WindlassManifest
public import WindlassPlan

/// Reads a small JSON document over HTTP(S) for analysis: bounded in size and time, every
/// failure one line naming the URL (with any password replaced by `***`).
struct JSONFetcher: Sendable {
    /// One client for the process, never shut down. A host that refuses connections fails a
    /// request after the connect timeout (the client retries until then), not after the whole
    /// request timeout.
    /// Redirects are followed by `get` itself, to the same scheme, host and port only: a
    /// template committed to git cannot bounce the daemon to another address.
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(2), read: .seconds(10))))

    var client: HTTPClient = JSONFetcher.client
    var timeout: Int64 = 10
    var maxBytes = 4 << 20
    /// The hosts that may be queried (nil: any, as the CLI run by a person allows).
    var allowedHosts: AllowedHosts? = nil

    func get(_ url: String) async throws -> Value {
        let shown = redacted(url)
        // A templated URL is checked once its arguments are in.
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw ProviderError("\(shown) is not an http:// or https:// URL") }
        if let allowedHosts, let refusal = allowedHosts.refusal(of: url) {
            throw ProviderError("GET \(shown): not queried: \(refusal)")
        }
        var location = url
        var response: HTTPClientResponse
        var redirects = 0
        while true {
            var request = HTTPClientRequest(url: location)
            request.headers.add(name: "Accept", value: "application/json")
            do {
                response = try await client.execute(request, timeout: .seconds(timeout))
            } catch {
                throw ProviderError("GET \(shown): \(Self.describe(error))")
            }
            guard [301, 302, 303, 307, 308].contains(response.status.code), let target = response.headers.first(name: "Location") else { break }
            let next = Self.resolve(target, against: location)
            guard Self.origin(of: next) == Self.origin(of: location) else {
                throw ProviderError("GET \(shown): a redirect to another host (\(redacted(Self.origin(of: next) ?? target))) is not followed")
            }
            redirects += 1
            guard redirects <= 5 else { throw ProviderError("GET \(shown): more than 5 redirects") }
            location = next
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maxBytes)
        } catch {
            throw ProviderError("GET \(shown): reading the body: \(Self.describe(error))")
        }
        let text = String(buffer: body)
        guard (200..<300).contains(response.status.code) else {
            throw ProviderError("GET \(shown): HTTP \(response.status.code) \(response.status.reasonPhrase): \(Self.errorExcerpt(text))")
        }
        do {
            guard let document = try YAMLReader.read(text, limits: YAMLLimits(maxDocumentBytes: maxBytes)).first?.root else { throw ProviderError("empty body") }
            return document
        } catch {
            throw ProviderError("GET \(shown): the body is not JSON: \(error)")
        }
    }

    /// `scheme://host:port` of an absolute URL (the port the scheme implies when none is given).
    static func origin(of url: String) -> String? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = url[schemeEnd.upperBound...]
        var authority = rest[..<(rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex)]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = authority.lowercased()
        if !host.hasSuffix("]"), host.contains(":") {
            return "\(scheme)://\(host)"  // an explicit port
        }
        host += scheme == "https" ? ":443" : ":80"
        return "\(scheme)://\(host)"
    }

    /// A `Location` as an absolute URL: absolute as it is, `/path` on the same origin, else
    /// relative to the current path's directory.
    static func resolve(_ target: String, against current: String) -> String {
        if target.contains("://") { return target }
        guard let schemeEnd = current.firstRange(of: "://") else { return target }
        let rest = current[schemeEnd.upperBound...]
        let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
        let base = String(current[..<pathStart])
        if target.hasPrefix("//") { return String(current[..<schemeEnd.upperBound]) + target.dropFirst(2) }
        if target.hasPrefix("/") { return base + target }
        let path = String(rest[pathStart...].prefix { $0 != "?" && $0 != "#" })
        let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? "/"
        return base + directory + target
    }

    /// What of an error response is shown: its first line, at most 80 characters, control
    /// characters escaped. A committed template can name any URL; the response of a server it
    /// points at is not copied into sync output.
    static func excerpt(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let short = line.count > 80 ? String(line.prefix(80)) + "…" : line
        return TerminalText.escaped(short)
    }

    /// Of an error response: the `error` field of a JSON body (what Prometheus says is wrong
    /// with a query), at most 160 characters; else the first line's excerpt.
    static func errorExcerpt(_ text: String) -> String {
        if text.hasPrefix("{"), let document = try? YAMLReader.read(text).first?.root, let message = document["error"]?.stringValue {
            let short = message.count > 160 ? String(message.prefix(160)) + "…" : message
            return TerminalText.escaped(short)
        }
        return excerpt(text)
    }

    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectTimeout") || text.contains("deadlineExceeded") { return "timed out" }
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }
}

/// `http://user:***@host/…`: a URL as it may be shown.
func redacted(_ url: String) -> String {
    guard let scheme = url.firstRange(of: "://") else { return url }
    let rest = url[scheme.upperBound...]
    let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    let authority = rest[..<authorityEnd]
    guard let at = authority.lastIndex(of: "@") else { return url }
    let userinfo = authority[..<at]
    let user = userinfo.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
    return String(url[..<scheme.upperBound]) + user + ":***" + String(authority[at...]) + String(rest[authorityEnd...])
}

/// Percent-encodes a query parameter's value (RFC 3986 unreserved characters kept).
func percentEncoded(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.append(Character(UnicodeScalar(byte)))
        default:
            let digits = Array("0123456789ABCDEF")
            out += "%" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
        }
    }
    return out
}

/// Prometheus' HTTP API: an instant query; the result is the values of the vector (or the
/// scalar). Prometheus unreachable or answering with an error is a provider error, never a
/// success.
public struct PrometheusProvider: MetricProvider {
    var fetcher = JSONFetcher()

    /// A provider that queries only `allowedHosts` (nil: any host).
    public init(allowedHosts: AllowedHosts? = nil) {
        fetcher.allowedHosts = allowedHosts
    }

    public func measure(_ metric: Metric, arguments: [String: String]) async throws -> [Double] {
        guard case .prometheus(let address, let query) = metric.provider else { throw ProviderError("not a prometheus metric") }
        var base = address
        while base.hasSuffix("/") { base.removeLast() }
        let document = try await fetcher.get(base + "/api/v1/query?query=" + percentEncoded(query))
        guard document["status"]?.stringValue == "success" else {
            throw ProviderError("prometheus at \(redacted(address)): \(document["error"]?.stringValue ?? "the query failed")")
        }
        return try Self.values(of: document["data"] ?? .null, address: address)
    }

    static func values(of data: Value, address: String) throws -> [Double] {
        func number(_ pair: Value?) throws -> Double {
            guard let text = pair?.sequenceValue?.last?.stringValue else { throw ProviderError("prometheus at \(redacted(address)): a sample without a value") }
            switch text {
            case "NaN": return .nan
            case "+Inf": return .infinity
            case "-Inf": return -.infinity
            default:
                guard let value = Double(text) else { throw ProviderError("prometheus at \(redacted(address)): \"\(text)\" is not a number") }
                return value
            }
        }
        switch data["resultType"]?.stringValue {
        case "vector":
            return try (data["result"]?.sequenceValue ?? []).map { try number($0["value"]) }
        case "scalar":
            return [try number(data["result"])]
        case let other:
            throw ProviderError("prometheus at \(redacted(address)): a \(other ?? "missing") result; use a query that gives an instant vector or a scalar")
        }
    }
}

/// GET a URL; the result is the number at `jsonPath` (`$.a.b[0]`, `{$.a.b}`) in its JSON body,
/// a boolean counting as 1 or 0. A manual approval gate is a web metric on a URL a person flips.
public struct WebProvider: MetricProvider {
    var fetcher = JSONFetcher()

    /// A provider that queries only `allowedHosts` (nil: any host).
    public init(allowedHosts: AllowedHosts? = nil) {
        fetcher.allowedHosts = allowedHosts
    }

    public func measure(_ metric: Metric, arguments: [String: String]) async throws -> [Double] {
        guard case .web(let url, let path) = metric.provider else { throw ProviderError("not a web metric") }
        let document = try await fetcher.get(url)
        guard let found = try Self.select(path ?? "$", in: document) else { return [] }
        switch found.content {
        case .null: return []
        case .sequence(let items): return try items.map { try Self.number($0, url: url) }
        default: return [try Self.number(found, url: url)]
        }
    }

    static func number(_ value: Value, url: String) throws -> Double {
        switch value.content {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        case .string(let s):
            if let d = Double(s) { return d }
            if s == "true" { return 1 }
            if s == "false" { return 0 }
        default: break
        }
        throw ProviderError("GET \(redacted(url)): \(JSONWriter().write(value).prefix(80)) is not a number or a boolean")
    }

    /// A JSONPath of member names and indexes.
    static func select(_ path: String, in document: Value) throws -> Value? {
        var text = path.trimmingWhitespace()
        if text.hasPrefix("{") && text.hasSuffix("}") { text = String(text.dropFirst().dropLast()) }
        if text.hasPrefix("$") { text.removeFirst() }
        var current: Value? = document
        var index = text.startIndex
        while index < text.endIndex, let value = current {
            let c = text[index]
            if c == "." {
                index = text.index(after: index)
                let start = index
                while index < text.endIndex, text[index] != ".", text[index] != "[" { index = text.index(after: index) }
                current = value[String(text[start..<index])]
            } else if c == "[" {
                guard let close = text[index...].firstIndex(of: "]") else { throw ProviderError("jsonPath \(path): [ is never closed") }
                let inner = text[text.index(after: index)..<close]
                if let n = Int(inner) {
                    current = value.sequenceValue.flatMap { n < $0.count ? $0[n] : nil }
                } else {
                    current = value[inner.trimmingWhitespace().trimmingQuotes()]
                }
                index = text.index(after: close)
            } else {
                throw ProviderError("jsonPath \(path): expected . or [ at \"\(text[index...])\"")
            }
        }
        return current
    }
}

extension String {
    func trimmingQuotes() -> String {
        if count >= 2, let first, first == "'" || first == "\"", last == first { return String(dropFirst().dropLast()) }
        return self
    }
}
