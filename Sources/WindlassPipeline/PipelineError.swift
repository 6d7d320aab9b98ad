public import WindlassManifest

/// Why a pipeline operation stopped before it touched the cluster: the source could not be
/// read, the manifests or the policies have errors, or the cluster could not be read. Each
/// prints as one line per problem, located where the problem is.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The source could not be resolved or fetched.
        case source
        /// The manifests have errors (every one located); nothing was compared.
        case manifests
        /// The policies have errors (every one located); nothing was judged.
        case policies
        /// The cluster could not be read.
        case cluster
    }

    public var code: Code
    public var message: String
    /// The located problems, for `manifests` and `policies`.
    public var diagnostics: [Diagnostic]

    public init(_ code: Code, _ message: String, diagnostics: [Diagnostic] = []) {
        self.code = code
        self.message = message
        self.diagnostics = diagnostics
    }

    /// Stops on the errors among `diagnostics` (`manifests` or `policies`), naming each.
    static func stopping(_ code: Code, on diagnostics: [Diagnostic]) -> PipelineError? {
        let errors = diagnostics.filter { $0.severity == .error }
        guard !errors.isEmpty else { return nil }
        let count = "\(errors.count) error\(errors.count == 1 ? "" : "s")"
        let message = code == .policies ? "stopped: \(count) in the policies; nothing was judged" : "stopped: \(count) in the manifests; nothing was compared"
        return PipelineError(code, message, diagnostics: errors)
    }

    /// Every located problem, then the message.
    public var description: String {
        (diagnostics.map(\.description) + [message]).joined(separator: "\n")
    }
}
