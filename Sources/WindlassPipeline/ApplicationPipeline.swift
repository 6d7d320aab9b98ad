public import WindlassCluster
public import WindlassGit
public import WindlassKustomize
public import WindlassManifest
public import WindlassPlan
public import WindlassPolicy
public import WindlassRollout
import Foundation
import Synchronization

/// The one place an application's pipeline is assembled: source → file tree → manifests
/// (validated) → live snapshot → plan → policies → sync, and the drift check, rollbacks and
/// canary requests beside it. The CLI and the daemon both call it; it works over any
/// ``ClusterBackend`` and never names a concrete one.
public struct ApplicationPipeline: Sendable {
    public var application: Application
    public var cluster: ClusterConnection
    /// Where mirrors of remote repositories and the revision history are kept.
    public var stateDirectory: String
    /// The revision history, leases, canary progress and settings, opened on first use.
    let history: RevisionHistory
    /// The input directories of the commits rendered last.
    let renders = RenderedInputs()
    /// Who holds the lease while syncing: `pid@host`.
    public var holder: String
    /// Whether a lease holder is known to be gone (its lease is then taken over at once).
    public var holderIsGone: @Sendable (String) -> Bool
    /// Analysis providers by name (`prometheus`, `web`, `health`).
    public var providers: [String: any MetricProvider]
    /// Credentials and other settings read from the environment when fetching.
    public var environment: [String: String]
    /// Whether the process is stopping: a sync's canaries take no further step (they pause,
    /// their progress saved, and the next start resumes them).
    public var stopRequested: @Sendable () -> Bool = { false }
    /// Makes twins of the cluster for forecasts (the process's wiring gives the embedded core
    /// held in memory); nil: this process forecasts nothing.
    public var twinFactory: TwinFactory?

    /// A pipeline whose revision history is kept in `stateDirectory` (opened when first
    /// needed: plans never open it); the providers are Prometheus, web and the cluster's health.
    public init(
        application: Application, cluster: ClusterConnection, stateDirectory: String, holder: String = LocalProcess.holder,
        environment: [String: String] = GitCredentials.processEnvironment()
    ) {
        self.application = application
        self.cluster = cluster
        self.stateDirectory = stateDirectory
        self.holder = holder
        self.environment = environment
        holderIsGone = { LocalProcess.isGone($0) }
        providers = ["prometheus": PrometheusProvider(), "web": WebProvider(), "health": HealthProvider(backend: cluster.backend)]
        history = RevisionHistory(stateDirectory: cluster.historyKey.map { stateDirectory + "/destinations/" + $0 } ?? stateDirectory)
    }

    /// Lets analysis query only `hosts` (the daemon's rule: a template committed to git must
    /// not make it fetch any address it can reach). The CLI, run by a person, allows any host.
    public mutating func restrictAnalysis(to hosts: AllowedHosts) {
        providers["prometheus"] = PrometheusProvider(allowedHosts: hosts)
        providers["web"] = WebProvider(allowedHosts: hosts)
    }

    /// The revision history, leases, canary progress and settings of the state directory.
    public func revisions() throws(PipelineError) -> RevisionStore {
        try history.store()
    }

    /// The planner of the application, Secret values masked with the installation's key.
    public var planner: Planner {
        var options = application.planOptions
        options.secretMask = SecretMaskKey.mask(stateDirectory: stateDirectory)
        return Planner(options: options)
    }

    // MARK: - Render

    /// A revision of the source, read and checked: what every other operation starts from.
    public struct Rendered: Sendable {
        public var source: ResolvedSource
        /// The manifests, validated: they hold no errors (warnings may remain).
        public var manifests: ManifestSet
        /// The kustomize that rendered kustomizations of the source; nil when it holds none.
        public var kustomize: KustomizeTool?
        /// The repository directories the manifests were read from (the application's path,
        /// and the bases and components its kustomizations name outside it).
        public var inputDirectories: [String]

        /// The plan's record of where the manifests came from.
        public var planSource: Plan.Source {
            Plan.Source(location: source.location, path: source.path, revision: source.commit?.sha, renderer: kustomize.map { "kustomize \($0.version)" })
        }
    }

    /// Resolves `revision` (nil: the application's) to a tree, fetching a remote source into its
    /// mirror (off the cooperative pool). With `fetchingMissingOnly`, a full commit SHA already
    /// mirrored is read without a fetch.
    public func resolve(_ revision: String? = nil, fetchingMissingOnly: Bool = false) async throws(PipelineError) -> ResolvedSource {
        let options = sourceOptions(revision)
        do {
            return try await GitRepository.offloaded { () throws(GitError) in try SourceResolver.resolve(options, fetchingMissingOnly: fetchingMissingOnly) }
        } catch {
            throw PipelineError(.source, error.description)
        }
    }

    /// The application's source as a ``GitWatcher`` polls it (its revision followed).
    public var watchedSource: WatchedSource { WatchedSource.resolving(sourceOptions(nil)) }

    func sourceOptions(_ revision: String?) -> SourceOptions {
        SourceOptions(
            source: application.source.repository, ref: revision ?? application.source.revision, path: application.source.path,
            stateDirectory: stateDirectory, environment: environment)
    }

    /// The directories whose files made the application's manifests at `commit`,
    /// repository-relative: its path, and the bases and components its kustomizations name
    /// outside it. A commit that changes none of them changes nothing to sync (Argo CD's
    /// `manifest-generate-paths`). Known for the commits this process rendered; nil for others.
    public func inputDirectories(at commit: String) -> [String]? {
        renders.inputs(of: commit)
    }

    /// Whether the commit `new` changes any input of the application since `old`: false when
    /// it changes none (nothing to sync), true when it does, nil when that cannot be told (a
    /// plain directory, a commit not in the repository or mirror, or one whose inputs this
    /// process has not rendered).
    public func changesInputs(from old: String, to new: String) async -> Bool? {
        guard old != new else { return false }
        guard let directories = inputDirectories(at: old) else { return nil }
        let options = sourceOptions(nil)
        let changed = try? await GitRepository.offloaded { () throws(GitError) in
            try SourceResolver.changedPaths(options, from: old, to: new, under: directories)
        }
        guard let paths = changed else { return nil }
        // Nothing the application reads changed: `new` reads what `old` did.
        if paths.isEmpty { renders.remember(directories, of: new) }
        return !paths.isEmpty
    }

    /// Loads and validates a resolved source: the seam where renderers of other source kinds
    /// (kustomize) plug in. Errors stop it: a plan is never made from part of a set. Loading
    /// runs off the cooperative pool, bounded by ``TreeLimits``, and stops when the task is
    /// cancelled.
    public func render(_ source: ResolvedSource) async throws(PipelineError) -> Rendered {
        let load = await loadInBackground(source)
        if Task.isCancelled { throw PipelineError(.manifests, "cancelled while loading the manifests") }
        let manifests = load.manifests
        if let stop = PipelineError.stopping(.manifests, on: manifests.diagnostics + ManifestValidator().validate(manifests)) { throw stop }
        if let commit = source.commit?.sha { renders.remember(load.inputDirectories, of: commit) }
        return Rendered(source: source, manifests: manifests, kustomize: load.tool, inputDirectories: load.inputDirectories)
    }

    /// The renderer of the application's kustomizations, its cache in the state directory.
    public var kustomizeRenderer: KustomizeRenderer {
        KustomizeRenderer(settings: application.source.kustomize, cacheDirectory: stateDirectory + "/cache/kustomize")
    }

    /// Loads a resolved source (its plain manifests read, its kustomizations rendered) on a
    /// thread outside the cooperative pool; a cancelled task stops it between files.
    func loadInBackground(_ source: ResolvedSource) async -> KustomizeLoad {
        let input = KustomizeInput(tree: source.tree, path: source.path, repository: SourceRendering.repository(sourceOptions(source.commit?.sha), at: source.commit))
        let renderer = kustomizeRenderer
        let cancelled = CancellationFlag()
        let options = LoadOptions(defaultNamespace: application.destination.namespace, isCancelled: { cancelled.isSet })
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: renderer.load(input, options: options)) }
            }
        } onCancel: {
            cancelled.set()
        }
    }

    /// Resolves and renders `revision` (nil: the application's).
    public func render(_ revision: String? = nil, fetchingMissingOnly: Bool = false) async throws(PipelineError) -> Rendered {
        try await render(try await resolve(revision, fetchingMissingOnly: fetchingMissingOnly))
    }

    /// Loads and validates `roots` as they are (a pull request's changed files): no source to
    /// resolve.
    func load(_ roots: [ManifestRoot]) async throws(PipelineError) -> ManifestSet {
        let manifests = await ManifestLoader.loadInBackground(roots, options: LoadOptions(defaultNamespace: application.destination.namespace))
        if let stop = PipelineError.stopping(.manifests, on: manifests.diagnostics + ManifestValidator().validate(manifests)) { throw stop }
        return manifests
    }

    // MARK: - Live state

    /// The live objects a plan of `sets` needs.
    public func snapshot(for sets: [ManifestSet]) async throws(PipelineError) -> LiveSnapshot {
        let resources = sets.flatMap(\.resources)
        do {
            return try await cluster.backend.snapshot(
                // Every Namespace too: a plan says which of its objects' namespaces are missing.
                desiredKinds: Set(resources.map(\.id.groupKind)).union([LiveSnapshot.namespaceKind]),
                trackingSelector: Tracking(application: application.name).selector, namespaces: Set(resources.compactMap(\.id.namespace)))
        } catch {
            throw PipelineError(.cluster, "reading \(cluster.displayName): \(error.message)")
        }
    }

    /// The worst health of the application's tracked objects (Missing when there are none).
    public func health() async -> HealthStatus {
        do {
            let objects = try await cluster.backend.snapshot(
                desiredKinds: [], trackingSelector: Tracking(application: application.name).selector, namespaces: [])
            guard !objects.objects.isEmpty else { return .missing }
            return Health.aggregate(objects.objects.values.compactMap(HealthAssessor.assess)).status
        } catch {
            return .unknown
        }
    }

    // MARK: - Plan

    /// The plan of `rendered` against the live cluster, judged by the application's policies
    /// unless `judging` is false (`diff` shows changes only). Errors found while planning
    /// (hooks, waves, strategies) stop it.
    public func plan(_ rendered: Rendered, judging: Bool = true, serverDryRun: Bool = false) async throws(PipelineError) -> PlanReport {
        let live = try await snapshot(for: [rendered.manifests])
        var plan = planner.plan(rendered.manifests, source: rendered.planSource, live: live)
        if let stop = PipelineError.stopping(.manifests, on: plan.diagnostics) { throw stop }
        if serverDryRun {
            plan = try await serverDryRunPlan(plan, rendered: rendered, live: live)
        }
        var report = PlanReport(plan: plan, manifests: rendered.manifests, live: live)
        if judging, let policies = try policies(for: rendered.manifests, source: rendered.source, warnings: &report.policyWarnings) {
            report.policies = PolicyEngine.judge(rendered.manifests, by: policies, liveNamespaces: live.namespaces)
            // Where they came from, when not a directory the user named: the source at the
            // commit (`policies/ at 3f2c1ab`) or the pack compiled in.
            switch application.policies {
            case .repository, .builtin: report.policies?.source = policies.directory.isEmpty ? nil : policies.directory
            case .none, .directory: break
            }
        }
        return report
    }

    /// The plan of `revision` (nil: the application's) against the live cluster.
    public func plan(_ revision: String? = nil, judging: Bool = true, serverDryRun: Bool = false) async throws(PipelineError) -> PlanReport {
        try await plan(try await render(revision), judging: judging, serverDryRun: serverDryRun)
    }

    static func dryRun(_ object: Value, backend: any ClusterBackend, manager: String) async -> Result<Value, ClusterError> {
        do {
            return .success(try await backend.apply(object, options: ApplyOptions(fieldManager: manager, dryRun: true, force: true)))
        } catch {
            return .failure(error)
        }
    }

    /// `plan --server-dry-run`: each object the plan creates or updates is applied with
    /// `dryRun=All`, and the plan is made again from the server's answers, so the diff shows
    /// the server's own defaulting, admission and mutating webhooks. An object the server
    /// refuses stops the plan with its location and the server's message; one whose namespace
    /// the sync would create first keeps the prediction.
    func serverDryRunPlan(_ plan: Plan, rendered: Rendered, live: LiveSnapshot) async throws(PipelineError) -> Plan {
        let changes = plan.changes.filter { ($0.action == .create || $0.action == .update) && $0.hook == nil && $0.object != nil }
        let backend = cluster.backend
        let manager = planner.options.fieldManager
        let answers = await withTaskGroup(of: TaskAnswer<Plan.Change, Result<Value, ClusterError>>.self) { group in
            for change in changes {
                group.addTask {
                    TaskAnswer(change, await Self.dryRun(change.object!, backend: backend, manager: manager))
                }
            }
            var answers: [(Plan.Change, Result<Value, ClusterError>)] = []
            for await done in group { answers.append((done.key, done.answer)) }
            return answers
        }
        var results: [ResourceID: Value] = [:]
        var problems: [Diagnostic] = []
        for (change, answer) in answers.sorted(by: { $0.0.id.description < $1.0.id.description }) {
            switch answer {
            case .success(let object): results[change.id] = object
            case .failure(let error):
                if error.code == .notFound, let namespace = change.id.namespace, live.namespaceExists(namespace) != true { continue }
                let location = change.location ?? SourceLocation(path: change.id.description, position: nil)
                problems.append(Diagnostic(.error, at: location, "server dry run: \(error.message)"))
            }
        }
        if let stop = PipelineError.stopping(.manifests, on: problems) { throw stop }
        var options = planner.options
        options.serverResults = results
        return Planner(options: options).plan(rendered.manifests, source: rendered.planSource, live: live)
    }

    /// Where the cluster differs from `rendered`: changed or missing managed objects, tracked
    /// objects gone from git and, with `includeUnmanaged`, objects nothing manages.
    public func drift(_ rendered: Rendered, includeUnmanaged: Bool = false) async throws(PipelineError) -> (DriftReport, PlanReport) {
        let report = try await plan(rendered, judging: false)
        return (DriftReport(plan: report.plan, live: report.live ?? LiveSnapshot(), desired: rendered.manifests, includeUnmanaged: includeUnmanaged), report)
    }

    /// Where the cluster differs from `revision` (nil: the application's).
    public func drift(_ revision: String? = nil, includeUnmanaged: Bool = false) async throws(PipelineError) -> DriftReport {
        try await drift(try await render(revision), includeUnmanaged: includeUnmanaged).0
    }

    // MARK: - Policies

    /// The policies that judge `manifests` with the manifests' own (nil: none at all). Errors
    /// stop the operation; warnings are added to `warnings`.
    /// The policies that judge `manifests` read from `source` (nil: a pull request's head,
    /// judged by other means), with the manifests' own.
    func policies(for manifests: ManifestSet, source: ResolvedSource?, warnings: inout [Diagnostic]) throws(PipelineError) -> PolicySet? {
        let set: PolicySet?
        switch application.policies {
        case .none:
            set = PolicySet().adding(from: manifests).nilIfEmpty
        case .builtin:
            set = PolicySet.builtin.adding(from: manifests)
        case .directory(let path):
            do {
                set = try PolicySet.judging(manifests, directory: path)
            } catch {
                throw PipelineError(.policies, error.description)
            }
        case .repository(let path, let required):
            if let source, let tree = try policyTree(path, of: source) {
                let name = source.commit.map { "\(path)/ at \($0.shortSHA)" } ?? path
                set = PolicySet.load(tree: tree, directory: name).adding(from: manifests)
            } else if required {
                let at = source?.commit.map { " at \($0.shortSHA)" } ?? ""
                throw PipelineError(.policies, "the policies directory \(path) is not in \(source?.location ?? application.source.repository)\(at)")
            } else {
                set = PolicySet().adding(from: manifests).nilIfEmpty
            }
        }
        return try checked(set, warnings: &warnings)
    }

    /// A directory of the source (relative to its root) at the source's commit; nil when absent.
    func policyTree(_ path: String, of source: ResolvedSource) throws(PipelineError) -> (any FileTree)? {
        do {
            return try SourceResolver.tree(sourceOptions(source.commit?.sha), at: source.commit, directory: path)
        } catch {
            throw PipelineError(.policies, "reading the policies directory \(path): \(error.description)")
        }
    }

    func checked(_ set: PolicySet?, warnings: inout [Diagnostic]) throws(PipelineError) -> PolicySet? {
        let diagnostics = set?.diagnostics ?? []
        warnings += diagnostics.filter { $0.severity == .warning }
        if let stop = PipelineError.stopping(.policies, on: diagnostics) { throw stop }
        return set
    }
}

/// The input directories of the last commits rendered (a few: the synced one and its successors).
final class RenderedInputs: Sendable {
    private let inputs = Mutex<[(commit: String, directories: [String])]>([])

    func remember(_ directories: [String], of commit: String) {
        inputs.withLock { list in
            list.removeAll { $0.commit == commit }
            list.append((commit, directories))
            if list.count > 16 { list.removeFirst(list.count - 16) }
        }
    }

    func inputs(of commit: String) -> [String]? {
        inputs.withLock { list in list.last { $0.commit == commit }?.directories }
    }
}

/// Set once, from a cancellation handler; read by a load running on another thread.
final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .relaxed) }

    func set() { flag.store(true, ordering: .relaxed) }
}

/// The revision store of a state directory, opened once, when first asked for.
final class RevisionHistory: Sendable {
    let stateDirectory: String
    private let opened = Mutex<RevisionStore?>(nil)

    init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
    }

    func store() throws(PipelineError) -> RevisionStore {
        let directory = stateDirectory
        return try opened.withLock { (store) throws(PipelineError) -> RevisionStore in
            if let store { return store }
            do {
                try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let made = try RevisionStore(stateDirectory: directory)
                store = made
                return made
            } catch {
                throw PipelineError(.cluster, "opening the revision history in \(directory): \(error)")
            }
        }
    }
}
