import HTTPTypes
import Hummingbird
import WindlassManifest

/// Bearer tokens for the API, as middleware: writes need a configured token or this run's (in
/// `<state>/daemon.json`, for the CLI on this machine); reads are open on a loopback listener
/// and need a token anywhere else. Tokens are compared in constant time.
struct TokenAuthentication<Context: RequestContext>: RouterMiddleware {
    enum Access { case read, write }

    let access: Access
    let tokens: [String]
    /// Whether the daemon listens on loopback only (reads need no token there).
    let loopback: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if access == .read && loopback { return try await next(request, context) }
        guard let token = Self.bearer(request), tokens.contains(where: { BearerToken.matches($0, token) }) else {
            return API.error(.unauthorized, "a valid bearer token is required")
        }
        return try await next(request, context)
    }

    /// The token of an `Authorization: Bearer …` header.
    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        return String(header.dropFirst(7))
    }
}
