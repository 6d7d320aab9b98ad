import ArgumentParser
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassPipeline
import WindlassPlan
import WindlassServer

#if canImport(Glibc)
import Glibc
#endif

/// `windlass serve`: the reconciler daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the reconciler daemon: watch git, sync each new commit, serve the HTTP API and metrics.",
        discussion: """
            With --config, the applications and server settings of a windlass.dev/v1 Config file \
            (docs/serve.md). Without one, one application "default" from --source/--ref/--path \
            (default: the repository it runs in, manifests/), polled every --interval, on \
            the embedded cluster in --state-dir. An empty embedded cluster gets --nodes nodes first.
            SIGTERM or SIGINT stops it: no new work, the sync in progress gets 6 s, exit 0.
            Exit status: 0 stopped, 2 an invalid config or a usage error.
            """
    )

    @Option(help: "A windlass.dev/v1 Config file (windlass.yaml).") var config: String?
    @OptionGroup(title: "Source (without --config)") var source: SourceFlags
    @Option(help: "Where to listen, HOST:PORT (without --config; default 127.0.0.1:8080).") var listen: ListenAddress?
    @Option(help: "How often to poll the source without --config, as 30s, 3m.") var interval: String = "3m"
    @Option(name: .shortAndLong, help: "Namespace for namespaced objects that name none (without --config).") var namespace: String = "default"
    @Option(help: "The policies (without --config): builtin, or a directory on disk (default: the source's own policies/ when it has one).") var policies: String?
    @Option(help: "Log format: text or json.") var logFormat: LogFormat = .text
    @Option(help: "Nodes to create when the embedded cluster has none.") var nodes: Int = 3
    @Option(name: .customLong("label"), help: "A label for nodes created at start, KEY=VALUE (repeatable).") var labels: [String] = []

    func validate() throws {
        if config != nil && (source.isCustomized || listen != nil) {
            throw ValidationError("give --config or --source/--ref/--path/--listen, not both")
        }
        guard nodes > 0 else { throw ValidationError("--nodes must be at least 1") }
    }

    func run() async throws {
        let log = DaemonLog(format: logFormat.daemon)
        let settings = try daemonConfig()
        let cluster: EmbeddedCluster
        do {
            cluster = try EmbeddedCluster(stateDirectory: source.stateDirectory)
            let existing = try await cluster.list(GroupKind(group: "", kind: "Node"), namespace: nil, selector: .everything).items
            if existing.isEmpty {
                var nodeLabels: [String: String] = [:]
                for label in labels {
                    let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                    if parts.count == 2 { nodeLabels[parts[0]] = parts[1] }
                }
                try await cluster.createNodes(count: nodes, cpu: "8", memory: "32Gi", labels: nodeLabels)
            }
            try await cluster.reconcile()
        } catch {
            throw CommandFailure(message: error.description)
        }
        var wired = DaemonCluster.embedded(cluster)
        // The same process owns the state directory: the Kubernetes API serves the daemon's
        // cluster, where the config asks (`clusters.embedded.api.listen`), else on a loopback
        // port of its own, for the CLI beside the daemon (it reads `<state>/kubeconfig`).
        unlink(source.stateDirectory + "/kubeconfig")
        let api = settings.embeddedAPI
        wired.services.append(
            try KubeAPIWiring.service(
                cluster: cluster, stateDirectory: source.stateDirectory, host: api?.host ?? "127.0.0.1", port: api?.port ?? 0, announce: api != nil))
        let daemon: Daemon
        do {
            daemon = try Daemon(
                options: Daemon.Options(config: settings, stateDirectory: source.stateDirectory, log: log), cluster: wired,
                connect: { destination in Wiring.connection(try Wiring.kubernetes(destination, caching: true)) })
        } catch {
            throw CommandFailure(message: "\(settings.path.isEmpty ? "serve" : settings.path): \(error)")
        }
        try await daemon.run()
    }

    /// The config file, or one application from the source flags.
    func daemonConfig() throws -> DaemonConfig {
        if let path = config {
            let text: String
            do {
                text = String(decoding: try DirectoryTree.contents(ofFile: path, limit: 1_048_576), as: UTF8.self)
            } catch {
                throw CommandFailure(message: "\(path): \(error.message)")
            }
            let (parsed, diagnostics) = DaemonConfig.read(text, path: path)
            guard let parsed else {
                for diagnostic in diagnostics { printError(diagnostic.description) }
                printError("stopped: \(diagnostics.count) error\(diagnostics.count == 1 ? "" : "s") in \(path); nothing was started")
                throw ExitCode(2)
            }
            return parsed
        }
        guard let seconds = DurationText.seconds(interval), seconds > 0 else { throw ValidationError("--interval \"\(interval)\" is not a duration such as 30s or 3m") }
        guard seconds >= DaemonConfig.minimumInterval else { throw ValidationError("--interval \"\(interval)\" is shorter than 1s, the shortest allowed") }
        var application = DaemonConfig.Application(name: "default", repository: source.source)
        application.ref = source.ref ?? "HEAD"
        application.path = source.path
        application.namespace = namespace
        application.interval = seconds
        application.policies = policies.map { $0 == "builtin" ? .builtin : .directory(StateOwner.absolutePath($0)) } ?? .convention
        var server = DaemonConfig.Server()
        if let listen {
            server.host = listen.host
            server.port = listen.port
        }
        return DaemonConfig(server: server, applications: [application], path: "")
    }
}

enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json

    var daemon: DaemonLog.Format { self == .json ? .json : .text }
}
