import ArgumentParser
import Logging
import ServiceLifecycle
import UnixSignals
import WindlassCluster
import WindlassCore
import WindlassKubeAPI
import WindlassServer

extension ClusterCommand {
    /// `windlass cluster serve`: the embedded cluster's controllers and its Kubernetes API over
    /// HTTPS, until SIGTERM or SIGINT.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the embedded cluster's Kubernetes API over HTTPS (for kubectl and client libraries) and run its controllers.",
            discussion: """
                On first start, makes a certificate authority, a serving certificate and two tokens (admin and read-only) \
                under <state>/api/, and writes <state>/kubeconfig for the admin user. Runs until SIGTERM or SIGINT.
                """
        )

        @OptionGroup var state: StateOptions
        @Option(help: "HOST:PORT to listen on (port 0: any free port).") var listen = ListenAddress(argument: "127.0.0.1:6443")!
        @Option(help: "How many changes the server keeps for watches to resume from; an older resourceVersion is 410 Expired.")
        var changeLogSize: Int = 20_000

        func validate() throws {
            guard changeLogSize >= 1 else { throw ValidationError("--change-log-size must be at least 1") }
        }

        func run() async throws {
            let address = listen
            let cluster = try await StateCluster.openEmbedded(state.path)
            await cluster.limitChangeLog(to: changeLogSize)
            let stateDirectory = state.path
            let service = try KubeAPIWiring.service(cluster: cluster, stateDirectory: stateDirectory, host: address.host, port: address.port)
            var logger = Logger(label: "windlass.kube-api")
            logger.logLevel = .warning
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(
                services: [.init(service: service), .init(service: ClusterService(cluster: cluster))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do {
                try await group.run()
            } catch {
                throw CommandFailure(message: "the API server stopped: \(error)")
            }
        }
    }

    /// `windlass cluster kubeconfig`: the kubeconfig of the API `cluster serve` serves.
    struct Kubeconfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a kubeconfig for the API `windlass cluster serve` serves.")

        @OptionGroup var state: StateOptions
        @Option(help: "HOST:PORT the API listens on.") var listen = ListenAddress(argument: "127.0.0.1:6443")!
        @Flag(help: "For the read-only user (get, list and watch only).") var readOnly = false

        func run() async throws {
            let address = listen
            do {
                let identity = try ServingIdentity.loadOrCreate(in: state.path, host: address.host)
                printOut(identity.kubeconfig(server: ServingIdentity.serverURL(host: address.host, port: address.port), readOnly: readOnly), terminator: "")
            } catch {
                throw CommandFailure(message: "\(error)")
            }
        }
    }
}

/// Where the CLI wires the Kubernetes API to the embedded cluster (`cluster serve`, and
/// `serve` when its config asks for it).
enum KubeAPIWiring {
    /// The API server over `cluster` as a service: the identity under the state directory
    /// (made on first use), `<state>/kubeconfig` written once it listens, and (with `announce`)
    /// a line saying where.
    static func service(cluster: EmbeddedCluster, stateDirectory: String, host: String, port: Int, announce: Bool = true) throws -> any Service {
        do {
            let identity = try ServingIdentity.loadOrCreate(in: stateDirectory, host: host)
            var logger = Logger(label: "windlass.kube-api")
            logger.logLevel = .warning
            let clock = cluster.clock
            let server = KubeAPIServer(backend: cluster, identity: identity, host: host, port: port, now: { clock.now() })
            return try server.service(logger: logger) { port in
                let url = ServingIdentity.serverURL(host: host, port: port)
                do {
                    try identity.writeKubeconfig(in: stateDirectory, server: url)
                } catch {
                    printError("windlass: \(error)")
                }
                if announce { printOut("serving the Kubernetes API on \(url) (KUBECONFIG=\(stateDirectory)/kubeconfig)") }
            }
        } catch {
            throw CommandFailure(message: "\(error)")
        }
    }
}
