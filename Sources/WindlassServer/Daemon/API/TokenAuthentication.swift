import HTTPTypes
import Hummingbird
import WindlassManifest

/// The API's credentials, as middleware. A request carries a bearer token (`Authorization:
/// Bearer …`) or the web UI's session cookie. Write tokens (configured, or this run's in
/// `<state>/daemon.json` for the CLI on this machine) and their sessions may change things;
/// read-only tokens and theirs may only read (403 on a write). Reads are open on a loopback
/// listener unless configured otherwise and need a credential anywhere else. A change made
/// through a session must carry its CSRF token in `X-CSRF-Token` (403 without it), so a page of
/// another site cannot make the browser act. Tokens are compared in constant time.
struct TokenAuthentication<Context: RequestContext>: RouterMiddleware {
    let access: Access
    let credentials: Credentials

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch credentials.check(request) {
        case .none:
            if access == .read && credentials.loopbackReads { return try await next(request, context) }
            return API.error(.unauthorized, "a valid bearer token is required")
        case .refused(let response):
            return response
        case .granted(let granted):
            if access == .write && granted == .read {
                return API.error(.forbidden, "this token is read-only: it cannot change anything")
            }
            return try await next(request, context)
        }
    }

    /// The token of an `Authorization: Bearer …` header.
    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        return String(header.dropFirst(7))
    }
}

/// The credentials the daemon accepts.
struct Credentials: Sendable {
    let writeTokens: [String]
    let readTokens: [String]
    let sessions: SessionStore
    /// Whether reads need no credential (a loopback listener).
    let loopbackReads: Bool

    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    enum Outcome {
        /// No credential came with the request.
        case none
        /// One came and was refused: the response says why.
        case refused(Response)
        case granted(Access)
    }

    /// What a token may do (nil: it is not one of the daemon's).
    func access(of token: String) -> Access? {
        // Every candidate is compared, so the time taken says nothing about which matched.
        var found: Access?
        for candidate in writeTokens where BearerToken.matches(candidate, token) { found = .write }
        for candidate in readTokens where BearerToken.matches(candidate, token) { found = found ?? .read }
        return found
    }

    func check(_ request: Request) -> Outcome {
        if let token = TokenAuthentication<BasicRequestContext>.bearer(request) {
            guard let access = access(of: token) else { return .refused(API.error(.unauthorized, "a valid bearer token is required")) }
            return .granted(access)
        }
        guard let id = request.cookies[SessionStore.cookieName]?.value, !id.isEmpty else { return .none }
        guard let session = sessions.session(id) else {
            return .refused(API.error(.unauthorized, "the session has expired or ended: log in again"))
        }
        if ![.get, .head].contains(request.method) {
            guard let sent = request.headers[Self.csrfHeader], BearerToken.matches(sent, session.csrf) else {
                return .refused(API.error(.forbidden, "a change made through a session needs its CSRF token in X-CSRF-Token"))
            }
        }
        return .granted(session.access)
    }
}
