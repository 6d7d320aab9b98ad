internal import CGit2

/// A git operation failed: which operation, on which repository (its URL redacted) and ref,
/// and libgit2's own message, printed as one line.
public struct GitError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case notFound
        case notARepository
        case emptyRepository
        case authentication
        case network
        case corrupt
        case tooLarge
        case invalidArgument
        case other
    }

    public var code: Code
    /// What was being done: `fetch`, `resolve ref`, `read blob`, …
    public var operation: String
    /// The repository, with any password or token redacted.
    public var repository: String
    public var ref: String?
    public var message: String

    public init(_ code: Code, operation: String, repository: String, ref: String? = nil, message: String) {
        self.code = code
        self.operation = operation
        self.repository = repository
        self.ref = ref
        self.message = message
    }

    public var description: String {
        var out = "\(operation) \(repository)"
        if let ref { out += " at \(ref)" }
        return out + ": " + message
    }
}

/// libgit2 is initialised once per process, before its first use.
enum LibGit2 {
    static let initialized: Bool = {
        git_libgit2_init()
        return true
    }()

    static func ensureInitialized() {
        _ = initialized
    }

    /// Reads libgit2's last error for this thread; call it right after the failing call.
    static func lastError(_ result: Int32, operation: String, repository: String, ref: String? = nil) -> GitError {
        var message = "error \(result)"
        var klass: Int32 = 0
        if let error = git_error_last() {
            if let text = error.pointee.message { message = String(cString: text) }
            klass = error.pointee.klass
        }
        // Keep one line, and never let a URL with credentials through.
        message = RemoteURL.redactCredentials(in: message.split(separator: "\n").joined(separator: " "))
        let code: GitError.Code
        switch (result, klass) {
        case (GIT_ENOTFOUND.rawValue, _): code = .notFound
        case (GIT_EAUTH.rawValue, _): code = .authentication
        case (GIT_EUNBORNBRANCH.rawValue, _): code = .emptyRepository
        case (_, Int32(GIT_ERROR_NET.rawValue)), (_, Int32(GIT_ERROR_SSH.rawValue)), (_, Int32(GIT_ERROR_HTTP.rawValue)),
            (_, Int32(GIT_ERROR_SSL.rawValue)):
            code = message.lowercased().contains("auth") || message.contains("401") ? .authentication : .network
        case (_, Int32(GIT_ERROR_ODB.rawValue)), (_, Int32(GIT_ERROR_ZLIB.rawValue)), (_, Int32(GIT_ERROR_OBJECT.rawValue)):
            code = .corrupt
        default:
            let lowered = message.lowercased()
            let network = ["resolve address", "failed to connect", "connection refused", "timed out", "unreachable"]
            code = network.contains { lowered.contains($0) } ? .network : .other
        }
        return GitError(code, operation: operation, repository: repository, ref: ref, message: message)
    }
}
