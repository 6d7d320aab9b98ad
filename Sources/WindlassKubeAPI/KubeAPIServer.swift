import Hummingbird
public import Logging
import HummingbirdTLS
import NIOCore
public import ServiceLifecycle
public import WindlassCluster

/// The Kubernetes API of a cluster, served over HTTPS with bearer tokens: what kubectl, the
/// client libraries and informers talk to. docs/kube-api.md lists what it serves.
public struct KubeAPIServer: Sendable {
    public struct Options: Sendable {
        /// Bodies larger than this are refused with 413.
        public var maxBodyBytes = 3 * 1024 * 1024
        /// How often a watch that allows bookmarks gets one.
        public var bookmarkInterval: Double = 15
        /// Changes that may wait for a slow watcher before it is dropped.
        public var watchBuffer = 4_096
        /// The longest a watch runs (a client asking for longer is cut at this).
        public var defaultWatchTimeout: Double = 1_800

        public init() {}
    }

    public let backend: any ClusterBackend
    public let identity: ServingIdentity
    public let host: String
    public let port: Int
    public var options: Options
    let now: @Sendable () -> Double

    public init(backend: any ClusterBackend, identity: ServingIdentity, host: String, port: Int, options: Options = Options(), now: @escaping @Sendable () -> Double) {
        self.backend = backend
        self.identity = identity
        self.host = host
        self.port = port
        self.options = options
        self.now = now
    }

    /// The server as a service (it stops on graceful shutdown); `onListening` gets the bound
    /// port (the one asked for, or the one the system picked for port 0).
    public func service(logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws(ClusterError) -> any Service {
        let tls = try identity.tlsConfiguration()
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let responder = KubeAPIResponder(
            backend: backend, tokens: [(identity.adminToken, .admin), (identity.readOnlyToken, .readOnly)], options: options,
            serverAddress: address, now: now)
        do {
            return Application(
                responder: responder,
                server: try .tls(.http1(), tlsConfiguration: tls),
                configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
                onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
                logger: logger)
        } catch {
            throw ClusterError(.internalError, "cannot start the API server's TLS: \(error)")
        }
    }
}
