import WindlassCluster

/// A Kubernetes client that cannot be made or cannot reach its server, as one line that names
/// the server (credentials redacted) or the kubeconfig.
public struct KubeClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The kubeconfig cannot be read or used.
        case kubeconfig
        /// An exec plugin failed, hung or printed no credential; a token file cannot be read.
        case credentials
        /// The TLS settings (CA, client certificate, key) cannot be used.
        case tls
        /// The server cannot be reached or does not answer as Kubernetes does.
        case connection
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The error as a cluster's: the pipeline reports it like any other.
    var clusterError: ClusterError {
        ClusterError(code == .credentials ? .forbidden : .unavailable, message)
    }
}
