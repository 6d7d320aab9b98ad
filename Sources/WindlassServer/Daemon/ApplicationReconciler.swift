import WindlassCore
import WindlassCluster
import WindlassGit
import WindlassManifest
import WindlassPlan
import WindlassPolicy
import WindlassRollout

/// One application of the daemon: fetches its source, syncs each new commit once (when
/// automated), and keeps the status the API serves. Work is serialized: a webhook that arrives
/// while a sync runs is remembered and handled after it, many arriving together as one.
public actor ApplicationReconciler {
    public let application: DaemonConfig.Application
    let cluster: EmbeddedCluster
    let stateDirectory: String
    let deployer: Deployer
    let log: DaemonLog
    let metrics: DaemonMetrics

    public struct Status: Sendable {
        public var syncedRevision: String?
        /// The commit last fetched.
        public var headRevision: String?
        /// Synced, OutOfSync or Unknown (never fetched).
        public var syncStatus = "Unknown"
        public var health = "Unknown"
        public var lastSync: LastSync?
        public var lastFetch: Double?
        public var lastError: String?
        /// The canary in progress, if any: `deployment.apps/web step 2/5, weight 34%`.
        public var rollout: String?
        public var fetches = 0
        public var syncs = 0
    }

    public struct LastSync: Sendable {
        public var revision: String?
        public var number: Int?
        public var outcome: String
        public var message: String
        public var startedAt: Double
        public var finishedAt: Double
    }

    public private(set) var status = Status()
    /// A trigger that arrived while busy: one more round after the current one.
    private var pending = false
    private var busy = false
    private var wake: AsyncStream<Void>.Continuation?
    private let wakes: AsyncStream<Void>

    init(
        application: DaemonConfig.Application, cluster: EmbeddedCluster, stateDirectory: String, deployer: Deployer, log: DaemonLog,
        metrics: DaemonMetrics
    ) {
        self.application = application
        self.cluster = cluster
        self.stateDirectory = stateDirectory
        self.deployer = deployer
        self.log = log
        self.metrics = metrics
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a fetch (and a sync of a new commit) as soon as possible; triggers that arrive
    /// together coalesce into one round.
    public nonisolated func trigger() {
        Task { await self.requestRound() }
    }

    private func requestRound() {
        if busy { pending = true }
        wake?.yield()
    }

    /// Polls every `interval` and on each trigger, until cancelled.
    func run() async {
        await round(reason: "start")
        while !Task.isCancelled {
            let interval = application.interval
            // Whichever comes first: the poll interval, or a trigger.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(for: .seconds(interval)) }
                group.addTask { [wakes] in
                    var iterator = wakes.makeAsyncIterator()
                    _ = await iterator.next()
                }
                await group.next()
                group.cancelAll()
            }
            if Task.isCancelled { break }
            repeat {
                pending = false
                await round(reason: "poll")
            } while pending && !Task.isCancelled
        }
        wake?.finish()
    }

    /// One fetch, and a sync when the commit is new (or the last sync of it did not finish).
    func round(reason: String) async {
        busy = true
        defer { busy = false }
        let started = ContinuousClock.now
        let options = SourceOptions(source: application.repository, ref: application.ref, path: application.path, stateDirectory: stateDirectory)
        let resolved: ResolvedSource
        do {
            resolved = try SourceResolver.resolve(options)
        } catch {
            status.lastError = "fetching \(options.source): \(error.description)"
            metrics.fetch(application.name, seconds: Self.seconds(since: started), failed: true)
            log.event("fetch failed", ["application": application.name, "error": error.description])
            return
        }
        metrics.fetch(application.name, seconds: Self.seconds(since: started), failed: false)
        status.fetches += 1
        status.lastFetch = deployer.executor.driver.now()
        let commit = resolved.commit?.sha
        status.headRevision = commit
        guard application.automated else {
            status.syncStatus = commit == status.syncedRevision ? "Synced" : "OutOfSync"
            return
        }
        if commit != nil && commit == status.syncedRevision && status.lastSync?.outcome != "paused" { return }
        await sync(resolved, trigger: "auto-sync")
    }

    /// Syncs what `resolved` holds, as `windlass sync` does.
    func sync(_ resolved: ResolvedSource, trigger: String) async {
        let started = ContinuousClock.now
        let startedAt = deployer.executor.driver.now()
        let commit = resolved.commit?.sha
        let set = ManifestLoader.load(resolved.tree, options: LoadOptions(defaultNamespace: application.namespace))
        let errors = (set.diagnostics + ManifestValidator().validate(set)).filter { $0.severity == .error }
        guard errors.isEmpty else {
            finish(commit: commit, outcome: "invalid", message: errors.map(\.description).joined(separator: "\n"), startedAt: startedAt, record: nil)
            return
        }
        var deployer = self.deployer
        if let directory = application.policies {
            do {
                deployer.policies = try PolicySet.load(directory).adding(from: set)
            } catch {
                finish(commit: commit, outcome: "invalid", message: error.description, startedAt: startedAt, record: nil)
                return
            }
        } else {
            let own = PolicySet().adding(from: set)
            deployer.policies = own.policies.isEmpty && own.exceptions.isEmpty ? nil : own
        }
        if let policies = deployer.policies, policies.errorCount > 0 {
            finish(commit: commit, outcome: "invalid", message: policies.diagnostics.map(\.description).joined(separator: "\n"), startedAt: startedAt, record: nil)
            return
        }
        log.event("sync started", ["application": application.name, "revision": commit.map { String($0.prefix(12)) } ?? "", "trigger": trigger])
        let planner = deployer.planner
        let cluster = self.cluster
        let source = Plan.Source(location: resolved.location, path: resolved.path, revision: commit)
        let name = application.name
        let log = self.log
        do {
            let outcome = try await deployer.sync(
                set, source: source,
                live: { set in try await Self.snapshot(cluster, set, planner: planner) },
                trigger: trigger,
                onEvent: { event in log.syncEvent(name, event) })
            switch outcome {
            case .inSync(let plan):
                finish(commit: commit, outcome: "synced", message: plan.summary.line(), startedAt: startedAt, record: nil)
            case .deployed(let revision, _):
                finish(commit: commit, outcome: "synced", message: revision.description, startedAt: startedAt, record: revision.number)
            case .paused(let revision, _):
                finish(commit: commit, outcome: "paused", message: "revision \(revision.number) paused: a canary waits", startedAt: startedAt, record: revision.number)
            case .failed(let revision, _, let rollback):
                let back = rollback.map { "; rolled back as revision \($0.number)" } ?? ""
                finish(commit: commit, outcome: "failed", message: (revision.message ?? "failed") + back, startedAt: startedAt, record: revision.number)
            }
        } catch let error as Deployer.PolicyDenied {
            finish(commit: commit, outcome: "refused", message: error.description, startedAt: startedAt, record: nil)
        } catch {
            finish(commit: commit, outcome: "error", message: "\(error)", startedAt: startedAt, record: nil)
        }
        metrics.reconcile(application.name, seconds: Self.seconds(since: started))
        await refreshHealth()
    }

    private func finish(commit: String?, outcome: String, message: String, startedAt: Double, record: Int?) {
        let finishedAt = deployer.executor.driver.now()
        status.lastSync = LastSync(revision: commit, number: record, outcome: outcome, message: message, startedAt: startedAt, finishedAt: finishedAt)
        status.syncs += 1
        if outcome == "synced" {
            status.syncedRevision = commit
            status.lastError = nil
        } else {
            status.lastError = message
        }
        status.syncStatus = status.syncedRevision != nil && status.syncedRevision == status.headRevision ? "Synced" : "OutOfSync"
        log.event(
            "sync finished",
            ["application": application.name, "revision": commit.map { String($0.prefix(12)) } ?? "", "outcome": outcome, "message": message,
             "seconds": String(Double(Int(((finishedAt - startedAt) * 100).rounded())) / 100)])
    }

    /// The worst health of the application's tracked objects.
    func refreshHealth() async {
        do {
            let objects = try await cluster.snapshot(
                desiredKinds: [], trackingSelector: Tracking(application: application.name).selector, namespaces: [])
            let healths = objects.objects.values.compactMap(HealthAssessor.assess)
            let worst = objects.objects.isEmpty ? HealthStatus.missing.rawValue : Health.aggregate(healths).status.rawValue
            status.health = worst
        } catch {
            status.health = "Unknown"
        }
        metrics.application(application.name, syncStatus: status.syncStatus, health: status.health)
    }

    static func snapshot(_ cluster: EmbeddedCluster, _ set: ManifestSet, planner: Planner) async throws -> LiveSnapshot {
        let resources = set.resources
        return try await cluster.snapshot(
            desiredKinds: Set(resources.map(\.id.groupKind)),
            trackingSelector: Tracking(application: planner.options.application).selector,
            namespaces: Set(resources.compactMap(\.id.namespace)))
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
