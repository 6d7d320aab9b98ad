import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOHTTP1
import NIOSSL
import Synchronization
import WindlassCluster
import WindlassManifest

/// How a Kubernetes client paces and retries its requests.
public struct KubeClientOptions: Sendable, Hashable {
    /// Requests a second on average, once the burst is spent. client-go's 5 throttles a
    /// GitOps sync of hundreds of objects; Argo CD and Flux's controllers default to 50. Windlass
    /// takes 100: the API server's own Priority and Fairness protects it, and answers 429s,
    /// which are honoured.
    public var qps: Double
    /// Requests at once before the average applies: 1,000, so a sync of a thousand objects is
    /// not slowed by the client; the average holds steady work (watch restarts, drift checks)
    /// down.
    public var burst: Int
    /// How long one request may take (a watch: its own timeout plus this).
    public var requestTimeout: Double
    /// How long a request that fails for a passing reason (429, 5xx, a reset or refused
    /// connection) is tried again before its error stands.
    public var retryFor: Double
    /// How long an exec credential plugin may run.
    public var execTimeout: Double
    public var userAgent: String

    public init(qps: Double = 100, burst: Int = 1_000, requestTimeout: Double = 30, retryFor: Double = 30, execTimeout: Double = 30,
        userAgent: String = "windlass"
    ) {
        self.qps = qps
        self.burst = burst
        self.requestTimeout = requestTimeout
        self.retryFor = retryFor
        self.execTimeout = execTimeout
        self.userAgent = userAgent
    }
}

/// An HTTP response read in full.
struct KubeResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer

    var text: String { String(buffer: body) }
}

/// The HTTP side of a Kubernetes client: one connection pool per server and TLS identity,
/// credentials attached (static token, token file, basic auth, exec plugin refreshed when it
/// expires or the server says 401), requests paced by a token bucket and retried with backoff
/// on 429 (after `Retry-After`), 5xx and dropped connections.
final class KubeTransport: Sendable {
    let selection: KubeconfigSelection
    let options: KubeClientOptions
    /// `https://host:port/prefix` as requests are addressed (the `tls-server-name` in place
    /// of the host, which the client resolves to the real one).
    let base: String
    let logger: Logger
    private let limiter: RateLimiter
    private let credentials: CredentialSource

    init(selection: KubeconfigSelection, options: KubeClientOptions = KubeClientOptions(), logger: Logger = Logger(label: "windlass.kube")) throws(KubeClientError) {
        self.selection = selection
        self.options = options
        self.logger = logger
        limiter = RateLimiter(qps: options.qps, burst: options.burst)
        guard let url = URL(string: selection.cluster.server), let host = url.host, let scheme = url.scheme else {
            throw KubeClientError(.kubeconfig, "server \(selection.serverDescription) is not a URL")
        }
        let port = url.port.map { ":\($0)" } ?? ""
        var path = url.path
        while path.hasSuffix("/") { path.removeLast() }
        let addressed = scheme == "https" ? (selection.cluster.tlsServerName ?? host) : host
        base = "\(scheme)://\(addressed.contains(":") ? "[\(addressed)]" : addressed)\(port)\(path)"
        credentials = CredentialSource(selection: selection, options: options, realHost: host)
        _ = try credentials.staticTLS()
    }

    /// The server, as messages name it (credentials redacted).
    var server: String { selection.serverDescription }

    /// Sends a request and reads its whole answer; retried while failures are passing ones and
    /// `retryFor` lasts. `idempotent` requests are also retried after a 5xx or a dropped
    /// connection; the others only when the server cannot have seen them (429, refused).
    func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String? = nil,
        accept: String = "application/json", idempotent: Bool, retryTooMany: Bool = true, maxBytes: Int = 512 << 20
    ) async throws(ClusterError) -> KubeResponse {
        let started = ContinuousClock.now
        var attempt = 0
        var refreshed = false
        while true {
            attempt += 1
            let outcome: Outcome
            do {
                try await limiter.acquire()
                let (client, authorization) = try await credentials.prepared(refresh: false)
                let request = makeRequest(method, path, query: query, body: body, contentType: contentType, accept: accept, authorization: authorization)
                let response = try await client.execute(request, timeout: .milliseconds(Int64(options.requestTimeout * 1000)))
                let bytes = try await response.body.collect(upTo: maxBytes)
                outcome = .answered(KubeResponse(status: Int(response.status.code), headers: response.headers, body: bytes))
            } catch let error as KubeClientError {
                throw error.clusterError
            } catch is CancellationError {
                throw ClusterError(.unavailable, "\(method) \(server)\(path): cancelled")
            } catch {
                outcome = .failed(error)
            }
            let elapsed = Self.seconds(ContinuousClock.now - started)
            switch outcome {
            case .answered(let response):
                if response.status == 401, !refreshed, credentials.refreshable {
                    refreshed = true
                    do { _ = try await credentials.prepared(refresh: true) } catch { throw error.clusterError }
                    continue
                }
                if retryTooMany || response.status != 429,
                    let delay = retryDelay(status: response.status, headers: response.headers, idempotent: idempotent, attempt: attempt),
                    elapsed + delay < options.retryFor
                {
                    logger.debug("kube request retried", metadata: ["http.status": "\(response.status)", "url.path": "\(path)"])
                    try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                    if Task.isCancelled { throw ClusterError(.unavailable, "\(method) \(server)\(path): cancelled") }
                    continue
                }
                return response
            case .failed(let error):
                let failure = describe(error)
                let delay = Self.backoff(attempt)
                if failure.passing && (idempotent || failure.unsent) && elapsed + delay < options.retryFor {
                    logger.debug("kube request retried", metadata: ["error": "\(failure.message)", "url.path": "\(path)"])
                    try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                    if Task.isCancelled { throw ClusterError(.unavailable, "\(method) \(server)\(path): cancelled") }
                    continue
                }
                throw ClusterError(.unavailable, "\(server): \(failure.message)")
            }
        }
    }

    /// Opens a streaming request (a watch) and returns its response once the head is in; the
    /// body streams until `timeout` or the server ends it.
    func open(_ path: String, query: [(String, String)], timeout: Double) async throws(ClusterError) -> HTTPClientResponse {
        let started = ContinuousClock.now
        var attempt = 0
        var refreshed = false
        while true {
            attempt += 1
            do {
                try await limiter.acquire()
                let (client, authorization) = try await credentials.prepared(refresh: false)
                let request = makeRequest(.GET, path, query: query, body: nil, contentType: nil, accept: "application/json", authorization: authorization)
                let response = try await client.execute(request, timeout: .milliseconds(Int64((timeout + options.requestTimeout) * 1000)))
                let status = Int(response.status.code)
                if status == 401, !refreshed, credentials.refreshable {
                    refreshed = true
                    _ = try await credentials.prepared(refresh: true)
                    continue
                }
                let elapsed = Self.seconds(ContinuousClock.now - started)
                if status >= 300 {
                    if let delay = retryDelay(status: status, headers: response.headers, idempotent: true, attempt: attempt), elapsed + delay < options.retryFor {
                        try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                        continue
                    }
                    let body = try await response.body.collect(upTo: 1 << 20)
                    throw KubeStatus.error(status: status, body: body, server: server, path: path)
                }
                return response
            } catch let error as ClusterError {
                throw error
            } catch let error as KubeClientError {
                throw error.clusterError
            } catch is CancellationError {
                throw ClusterError(.unavailable, "watch \(server)\(path): cancelled")
            } catch {
                let failure = describe(error)
                let delay = Self.backoff(attempt)
                if failure.passing, Self.seconds(ContinuousClock.now - started) + delay < options.retryFor {
                    try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                    continue
                }
                throw ClusterError(.unavailable, "\(server): \(failure.message)")
            }
        }
    }

    private enum Outcome {
        case answered(KubeResponse)
        case failed(any Error)
    }

    private func makeRequest(
        _ method: HTTPMethod, _ path: String, query: [(String, String)], body: [UInt8]?, contentType: String?, accept: String, authorization: String?
    ) -> HTTPClientRequest {
        var url = base + path
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: options.userAgent)
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// When to try a request again after an answer (nil: the answer stands). 429 and 503 say
    /// the server did not act: any request may go again. Other 5xx only for idempotent ones.
    private func retryDelay(status: Int, headers: HTTPHeaders, idempotent: Bool, attempt: Int) -> Double? {
        switch status {
        case 429, 503:
            if let after = headers.first(name: "Retry-After").flatMap(Double.init) { return min(max(after, 0), 10) }
            return Self.backoff(attempt)
        case 500, 502, 504:
            return idempotent ? Self.backoff(attempt) : nil
        default:
            return nil
        }
    }

    /// 0.2 s, doubling, at most 4 s, with ±20 % jitter.
    static func backoff(_ attempt: Int) -> Double {
        let base = min(0.2 * pow(2, Double(max(attempt - 1, 0))), 4)
        return base * Double.random(in: 0.8...1.2)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static let allowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~")
        return set
    }()

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// A failure as one line, and whether it may pass (refused, reset, timed out) and whether
    /// the request certainly never reached the server.
    private func describe(_ error: any Error) -> (message: String, passing: Bool, unsent: Bool) {
        if let ssl = error as? NIOSSLError {
            let text = "\(ssl)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
                return ("the server's certificate is not trusted (is certificate-authority the cluster's CA?): \(text)", false, true)
            }
            return ("TLS failed: \(text)", false, true)
        }
        if let ssl = error as? NIOSSLExtraError {
            return ("TLS failed: \(ssl)", false, true)
        }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout: return ("connecting timed out", true, true)
            case .remoteConnectionClosed: return ("the connection was closed", true, false)
            case .deadlineExceeded, .readTimeout: return ("no answer within \(Int(options.requestTimeout)) s", true, false)
            case .tlsHandshakeTimeout: return ("the TLS handshake timed out", true, true)
            case .invalidProxyResponse: return ("the proxy refused the connection", true, true)
            case .proxyAuthenticationRequired: return ("the proxy wants credentials", false, true)
            default: return ("\(client)", false, false)
            }
        }
        if let connection = error as? NIOConnectionError {
            let reasons = connection.connectionErrors.map { "\($0.error)" }
            let refused = reasons.contains { $0.contains("refused") }
            return (refused ? "connection refused" : "cannot connect (\(reasons.first ?? "\(connection)"))", true, true)
        }
        if let io = error as? IOError {
            let text = "\(io)"
            if io.errnoCode == ECONNREFUSED { return ("connection refused", true, true) }
            return (text, io.errnoCode == ECONNRESET || io.errnoCode == EPIPE || io.errnoCode == ETIMEDOUT, false)
        }
        if error is ChannelError { return ("the connection failed (\(error))", true, false) }
        let text = "\(error)"
        if text.contains("refused") { return ("connection refused", true, true) }
        if text.contains("lookup") || text.contains("resolve") { return ("cannot resolve the host (\(text))", false, true) }
        return (text, false, false)
    }
}

/// Where a request's client and `Authorization` header come from.
final class CredentialSource: Sendable {
    let selection: KubeconfigSelection
    let options: KubeClientOptions
    let realHost: String
    private let state = Mutex(State())

    private struct State {
        var exec: ExecCredential?
        var pending: Task<ExecCredential, any Error>?
        var tokenFile: (token: String, readAt: Double)?
    }

    init(selection: KubeconfigSelection, options: KubeClientOptions, realHost: String) {
        self.selection = selection
        self.options = options
        self.realHost = realHost
    }

    /// Whether a 401 is worth asking the credentials again (an exec plugin or a token file).
    var refreshable: Bool { selection.user.exec != nil || selection.user.tokenFile != nil }

    /// The TLS settings that do not depend on an exec plugin, checked once at the start.
    func staticTLS() throws(KubeClientError) -> TLSConfiguration {
        try tls(clientCertificate: selection.user.clientCertificate, clientKey: selection.user.clientKey)
    }

    private func tls(clientCertificate: [UInt8]?, clientKey: [UInt8]?) throws(KubeClientError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        let cluster = selection.cluster
        if cluster.insecureSkipTLSVerify {
            tls.certificateVerification = .none
        } else if let ca = cluster.certificateAuthority {
            do {
                let certificates = try NIOSSLCertificate.fromPEMBytes(ca)
                guard !certificates.isEmpty else { throw KubeClientError(.tls, "") }
                tls.trustRoots = .certificates(certificates)
            } catch {
                throw KubeClientError(.tls, "context \(selection.context): certificate-authority holds no PEM certificate")
            }
        }
        if let clientCertificate, let clientKey {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(clientCertificate).map { .certificate($0) }
            } catch {
                throw KubeClientError(.tls, "user of context \(selection.context): client-certificate holds no PEM certificate")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: clientKey, format: .pem))
            } catch {
                throw KubeClientError(.tls, "user of context \(selection.context): client-key is not a PEM private key")
            }
        }
        return tls
    }

    /// The client to send with and the `Authorization` header; `refresh` asks an exec plugin
    /// again (after a 401) and reads a token file again.
    func prepared(refresh: Bool) async throws(KubeClientError) -> (HTTPClient, String?) {
        let user = selection.user
        if let exec = user.exec {
            let credential = try await execCredential(exec, refresh: refresh)
            let client = try client(clientCertificate: credential.clientCertificate ?? user.clientCertificate, clientKey: credential.clientKey ?? user.clientKey)
            return (client, credential.token.map { "Bearer \($0)" } ?? user.token.map { "Bearer \($0)" })
        }
        let client = try client(clientCertificate: user.clientCertificate, clientKey: user.clientKey)
        if let file = user.tokenFile {
            return (client, "Bearer " + (try fileToken(file, refresh: refresh)))
        }
        if let token = user.token { return (client, "Bearer \(token)") }
        if let username = user.username, let password = user.password {
            return (client, "Basic " + Data("\(username):\(password)".utf8).base64EncodedString())
        }
        return (client, nil)
    }

    private func execCredential(_ config: Kubeconfig.ExecConfig, refresh: Bool) async throws(KubeClientError) -> ExecCredential {
        let now = Date().timeIntervalSince1970
        let task: Task<ExecCredential, any Error> = state.withLock { state in
            if !refresh, let credential = state.exec, !credential.expired(at: now) {
                return Task { credential }
            }
            if let pending = state.pending { return pending }
            let plugin = ExecCredentialPlugin(config: config, cluster: selection.cluster, timeout: options.execTimeout)
            let task = Task { try await plugin.credential() }
            state.pending = task
            return task
        }
        do {
            let credential = try await task.value
            state.withLock { state in
                state.exec = credential
                state.pending = nil
            }
            return credential
        } catch {
            state.withLock { $0.pending = nil }
            if let error = error as? KubeClientError { throw error }
            throw KubeClientError(.credentials, "exec plugin \(config.command): \(error)")
        }
    }

    /// The token in `path`, read again once a minute (projected tokens rotate) or on `refresh`.
    private func fileToken(_ path: String, refresh: Bool) throws(KubeClientError) -> String {
        let now = Date().timeIntervalSince1970
        if !refresh, let cached = state.withLock({ $0.tokenFile }), now - cached.readAt < 60 { return cached.token }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeClientError(.credentials, "tokenFile \(path): cannot read it")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw KubeClientError(.credentials, "tokenFile \(path) is empty") }
        state.withLock { $0.tokenFile = (token, now) }
        return token
    }

    private func client(clientCertificate: [UInt8]?, clientKey: [UInt8]?) throws(KubeClientError) -> HTTPClient {
        let key = ClientKey(
            server: selection.cluster.server, realHost: realHost, tlsServerName: selection.cluster.tlsServerName, proxy: selection.cluster.proxyURL,
            insecure: selection.cluster.insecureSkipTLSVerify, ca: selection.cluster.certificateAuthority, certificate: clientCertificate, key: clientKey)
        if let client = ClientKey.clients.withLock({ $0[key] }) { return client }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: try tls(clientCertificate: clientCertificate, clientKey: clientKey),
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256))
        if let name = selection.cluster.tlsServerName, selection.cluster.server.hasPrefix("https") {
            configuration.dnsOverride = [name: realHost]
        }
        if let proxy = selection.cluster.proxyURL, let url = URL(string: proxy), let host = url.host {
            var authorization: HTTPClient.Authorization?
            if let user = url.user {
                authorization = .basic(username: user.removingPercentEncoding ?? user, password: url.password?.removingPercentEncoding ?? "")
            }
            configuration.proxy = .server(host: host, port: url.port ?? 3128, authorization: authorization)
        }
        // Made under the lock (no I/O happens until a request), so one key has one client.
        return ClientKey.clients.withLock { clients in
            if let existing = clients[key] { return existing }
            let made = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[key] = made
            return made
        }
    }
}

/// What makes two clients interchangeable. HTTP clients are shared per server and identity
/// for the life of the process (pools reused across commands, never shut down mid-request).
struct ClientKey: Hashable, Sendable {
    var server: String
    var realHost: String
    var tlsServerName: String?
    var proxy: String?
    var insecure: Bool
    var ca: [UInt8]?
    var certificate: [UInt8]?
    var key: [UInt8]?

    static let clients = Mutex<[ClientKey: HTTPClient]>([:])
}
