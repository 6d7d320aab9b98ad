import ArgumentParser
import WindlassCluster
import WindlassCore
import WindlassKube
import WindlassKustomize
import WindlassManifest
import WindlassPipeline
import WindlassRollout

/// Where the CLI wires a process together: the one place (with `cluster` and `serve`, which
/// drive the embedded cluster itself) that names the concrete cluster. Every command that
/// plans or syncs gets an ``ApplicationPipeline`` from here and knows nothing of what is
/// under it.
enum Wiring {
    /// The pipeline of `application` over its destination: the embedded cluster in
    /// `stateDirectory`, opened when the pipeline first reads it (a pull-request plan without
    /// a cluster never does), or the Kubernetes cluster its kubeconfig and context name.
    static func pipeline(_ application: Application, stateDirectory: String) throws -> ApplicationPipeline {
        if application.destination.isKubernetes {
            let cluster = try kubernetes(application.destination)
            return pipeline(application, over: cluster, stateDirectory: stateDirectory)
        }
        return pipeline(application, over: DeferredCluster(stateDirectory: stateDirectory))
    }

    /// The pipeline of `application` over a Kubernetes cluster: its controllers run on their
    /// own, so waiting only sleeps; its history is kept apart, keyed by its server.
    static func pipeline(_ application: Application, over cluster: KubeCluster, stateDirectory: String) -> ApplicationPipeline {
        var pipeline = ApplicationPipeline(application: application, cluster: connection(cluster), stateDirectory: stateDirectory, holder: Planning.holder)
        pipeline.twinFactory = EmbeddedCluster.makeTwin
        return pipeline
    }

    /// A Kubernetes cluster as the pipeline uses it.
    static func connection(_ cluster: KubeCluster) -> ClusterConnection {
        let clock = SystemClock()
        var connection = ClusterConnection(
            backend: cluster, driver: .realTime(now: { clock.now() }, reconcile: {}), displayName: cluster.displayName,
            historyKey: ClusterConnection.historyKey(server: cluster.server))
        if let cache = cluster.cache { connection.changes = { cache.changes() } }
        return connection
    }

    /// The kubeconfig context a destination names, read as kubectl reads it.
    static func kubeconfigSelection(_ destination: Application.Destination) throws -> KubeconfigSelection {
        do {
            return try Kubeconfig.load(explicitPath: destination.kubeconfig).select(context: destination.context)
        } catch {
            throw CommandFailure(message: error.message)
        }
    }

    /// A client of the Kubernetes cluster a destination names; `caching` keeps a live model
    /// by watches (the daemon's way; a one-shot command lists instead).
    static func kubernetes(_ destination: Application.Destination, caching: Bool = false) throws -> KubeCluster {
        let selection = try kubeconfigSelection(destination)
        do {
            var options = KubeClientOptions()
            if let qps = destination.qps { options.qps = qps }
            if let burst = destination.burst { options.burst = burst }
            return try KubeCluster(selection, options: options, cache: caching ? KubeCache() : nil)
        } catch {
            throw CommandFailure(message: error.message)
        }
    }

    /// The pipeline of `application` over `cluster`.
    static func pipeline(_ application: Application, over cluster: DeferredCluster) -> ApplicationPipeline {
        let stateDirectory = cluster.stateDirectory
        let clock = SystemClock()
        let connection = ClusterConnection(
            backend: cluster,
            driver: .realTime(now: { clock.now() }, reconcile: { try await cluster.opened().reconcile(budget: EmbeddedCluster.waitingBudget) }),
            displayName: "the cluster in \(stateDirectory)")
        var pipeline = ApplicationPipeline(application: application, cluster: connection, stateDirectory: stateDirectory, holder: Planning.holder)
        pipeline.twinFactory = EmbeddedCluster.makeTwin
        return pipeline
    }

    /// Real time passing through the embedded cluster's controllers.
    static func driver(_ cluster: EmbeddedCluster) -> SyncDriver {
        let clock = SystemClock()
        return .realTime(now: { clock.now() }, reconcile: { try await cluster.reconcile(budget: EmbeddedCluster.waitingBudget) })
    }

    /// The application the flags describe.
    static func application(source: SourceFlags, flags: PlanFlags, policies: PolicyFlags? = nil, sync: SyncFlags? = nil) -> Application {
        var options = Application.SyncOptions(prune: !flags.noPrune, allowEmpty: flags.allowEmpty, takeOwnership: flags.takeOwnership)
        _ = Application.apply(syncOptions: flags.syncOptions, to: &options)  // checked when the flags were read
        if let sync {
            options.atomic = sync.atomic
            options.waveTimeout = sync.waveTimeout
        }
        return Application(
            name: flags.application,
            source: Application.Source(repository: source.source, revision: source.ref, path: source.path, kustomize: source.kustomize),
            destination: flags.cluster.destination(namespace: flags.namespace),
            syncOptions: options,
            policies: policies?.source ?? .none)
    }
}

extension PolicyFlags {
    /// `--no-policies`: none; `--policies builtin`: the pack compiled in; `--policies DIR`:
    /// that directory on disk; else the source's own `policies/` at the revision (when it has
    /// one), as the daemon reads an application's.
    var source: Application.PolicySource {
        if disabled { return .none }
        if directory == "builtin" { return .builtin }
        if let directory { return .directory(directory) }
        return .convention
    }
}

extension PipelineError {
    /// Prints the located problems and the message; the error to exit with: `failureCode` for
    /// errors in the manifests, 2 for the rest.
    func exit(manifestsCode failureCode: Int32) -> any Error {
        switch code {
        case .manifests, .policies:
            for diagnostic in diagnostics { printError(diagnostic.description) }
            printError(message)
            return ExitCode(code == .manifests ? failureCode : 2)
        case .source, .cluster:
            return CommandFailure(message: message)
        }
    }
}

/// Runs a pipeline operation, turning its errors into the command's exit.
func stopping<T>(manifestsCode: Int32, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as PipelineError {
        throw error.exit(manifestsCode: manifestsCode)
    }
}

/// The embedded cluster of a state directory, opened (and brought up to date) on first use, so
/// a command reads its source and manifests before it takes the state directory's lock; while
/// a daemon owns the directory, reached through that daemon (``StateCluster``).
actor DeferredCluster: ClusterBackend {
    let stateDirectory: String
    private var cluster: StateCluster?

    init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
    }

    func opened() async throws(ClusterError) -> StateCluster {
        if let cluster { return cluster }
        do {
            let opened = try await StateCluster.open(stateDirectory)
            cluster = opened
            return opened
        } catch {
            throw ClusterError(.unavailable, "\(error)")
        }
    }

    func discovery() async throws(ClusterError) -> RESTMapping { try await opened().discovery() }

    func list(_ kind: GroupKind, namespace: String?, options: ListOptions) async throws(ClusterError) -> ObjectList {
        try await opened().list(kind, namespace: namespace, options: options)
    }

    func get(_ id: ResourceID) async throws(ClusterError) -> Value { try await opened().get(id) }

    func create(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        try await opened().create(object, options: options)
    }

    func update(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        try await opened().update(object, options: options)
    }

    func updateStatus(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        try await opened().updateStatus(object, options: options)
    }

    func patch(_ id: ResourceID, _ patch: Patch, options: PatchOptions) async throws(ClusterError) -> Value {
        try await opened().patch(id, patch, options: options)
    }

    func delete(_ id: ResourceID, options: DeleteOptions) async throws(ClusterError) {
        try await opened().delete(id, options: options)
    }

    func evict(_ pod: ResourceID) async throws(ClusterError) { try await opened().evict(pod) }

    func watch(_ kind: GroupKind?, namespace: String?, since resourceVersion: String) async throws(ClusterError) -> AsyncStream<ClusterWatchEvent> {
        try await opened().watch(kind, namespace: namespace, since: resourceVersion)
    }

    func events(for id: ResourceID?) async throws(ClusterError) -> [ClusterEvent] { try await opened().events(for: id) }
}
