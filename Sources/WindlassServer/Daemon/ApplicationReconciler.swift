public import WindlassCluster
import WindlassGit
import WindlassManifest
public import WindlassPipeline
public import WindlassPlan
import WindlassRollout
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One application of the daemon: its ``GitWatcher`` polls the source (and fetches at once on a
/// webhook); each poll becomes a round that syncs a new commit once (when automated) or, with
/// self-heal, looks for drift. The reconciler keeps the status the API serves. Work is
/// serialized: what arrives while a sync runs is remembered and handled after it, many rounds
/// asked for together as one. Polling runs on its own timer, so no amount of other work (drift
/// checks, manual syncs) holds it back.
public actor ApplicationReconciler {
    public let application: DaemonConfig.Application
    /// The application's pipeline: every plan, sync and drift check goes through it.
    let pipeline: ApplicationPipeline
    /// The one polling loop: fetches with jitter and backoff, reports each poll.
    let watcher: GitWatcher
    let log: DaemonLog
    let metrics: DaemonMetrics
    /// The sync in progress stage by stage, and the canaries' steps and measurements.
    let activity: SyncActivity

    public struct Status: Sendable {
        public var syncedRevision: String?
        /// The commit last fetched.
        public var headRevision: String?
        public var syncStatus = SyncStatus.unknown
        public var health = HealthStatus.unknown
        public var lastSync: LastSync?
        public var lastFetch: Double?
        /// The last error, its URLs' credentials redacted (whatever set it).
        public var lastError: String? {
            didSet { if let lastError { self.lastError = RemoteURL.redactCredentials(in: lastError) } }
        }
        /// The canary in progress, if any: `deployment.apps/web step 2/5, weight 34%`.
        public var rollout: String?
        public var fetches = 0
        public var syncs = 0
        /// The last drift check: when, and what it found.
        public var drift: DriftCheck?
        /// Self-heal syncs since the last clean check (for the backoff).
        public var healAttempts = 0
        /// Why auto-sync leaves the head alone, when it does (a rollback's pin, a failed commit).
        public var autoSyncPaused: String?
    }

    public struct DriftCheck: Sendable {
        public var at: Double
        public var report: DriftReport
        /// JSON, as `windlass drift -o json` prints it.
        public var json: String
        /// Whether a self-heal sync followed.
        public var healed: Bool
    }

    public struct LastSync: Sendable {
        public var revision: String?
        public var number: Int?
        public var outcome: SyncOutcome
        public var message: String
        public var startedAt: Double
        public var finishedAt: Double
    }

    public private(set) var status = Status() {
        didSet { statusChanged(application.name) }
    }
    /// Told the application's name whenever its status changes (the event stream's source).
    let statusChanged: @Sendable (String) -> Void

    /// Work asked for and not yet done; asking twice before it runs is asking once.
    enum Work: Hashable {
        /// Sync the polled commit when it is new (auto-sync), or look for drift (self-heal).
        case round
        /// Fetch now and sync whatever the head is (a manual sync: it also ends a rollback's pin).
        case sync
        case drift
        case rollback(Int?)
        /// Go on with the sync that paused (a canary request came).
        case resume
        /// Apply the synced revision again (a person's "heal now" after a drift report).
        case heal
    }

    private var queued: Set<Work> = []
    /// The work queued and not yet taken (for tests).
    var queuedWork: Set<Work> { queued }
    /// The run loop, while it waits for work.
    private var waiter: CheckedContinuation<Void, Never>?
    /// What the last good poll found: the commit (nil for a directory source), or nothing yet.
    private var head: GitCommit??

    init(
        application: DaemonConfig.Application, pipeline: ApplicationPipeline, log: DaemonLog, metrics: DaemonMetrics,
        statusChanged: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.application = application
        self.statusChanged = statusChanged
        self.pipeline = pipeline
        self.log = log
        self.metrics = metrics
        let name = application.name
        activity = SyncActivity(stateDirectory: pipeline.stateDirectory, application: name, changed: { statusChanged(name) })
        watcher = GitWatcher(
            source: pipeline.watchedSource,
            configuration: GitWatcher.Configuration(interval: .seconds(application.interval), jitter: Self.pollJitter),
            onFetch: { metrics.fetch(name, seconds: $0, failed: $1) })
    }

    /// Up to this fraction of the interval is added to each poll's wait (as for drift checks).
    static let pollJitter = 0.1

    private var now: Double { pipeline.cluster.driver.now() }

    /// Asks for a fetch now (a webhook), and a round once it is done; triggers that arrive
    /// while a fetch runs share one more fetch after it, however many they are.
    public nonisolated func trigger() {
        Task { await self.watcher.trigger() }
    }

    /// Asks for the paused sync to go on without fetching (a canary request: it takes it).
    public nonisolated func resume() {
        Task { await self.enqueue(.resume) }
    }

    /// Asks for a sync of the head now, as `windlass sync` does (ending a rollback's pin).
    public nonisolated func syncNow() {
        Task { await self.enqueue(.sync) }
    }

    /// Asks for a rollback to revision `number` (nil: the one deployed before the current).
    public nonisolated func rollback(to number: Int?) {
        Task { await self.enqueue(.rollback(number)) }
    }

    /// Asks for a drift check (the drift schedule's tick).
    public nonisolated func checkDriftSoon() {
        Task { await self.enqueue(.drift) }
    }

    /// Asks for the synced revision to be applied again, undoing drift (`POST …/heal`).
    public nonisolated func healNow() {
        Task { await self.enqueue(.heal) }
    }

    /// When the drift schedule looks next (nil: it has no schedule).
    private(set) var nextDriftCheck: Double?

    /// The drift schedule's next tick, for the API.
    nonisolated func driftScheduled(at time: Double) {
        Task { await self.setNextDriftCheck(time) }
    }

    private func setNextDriftCheck(_ time: Double) {
        nextDriftCheck = time
    }

    /// Graceful shutdown: the work in progress goes on (a sync finishes its wave, or is
    /// cancelled at the deadline with its progress saved); nothing new starts.
    public nonisolated func stopTakingWork() {
        Task { await self.stop() }
    }

    private var stopping = false

    private func stop() {
        stopping = true
        enqueue(nil)
    }

    private func enqueue(_ work: Work?) {
        if let work, !stopping { queued.insert(work) }
        waiter?.resume()
        waiter = nil
    }

    /// Polls the source and does the queued work one item at a time (so a sync never overlaps
    /// another), until cancelled or stopped.
    func run() async {
        await restore()
        let watcher = self.watcher
        await withDiscardingTaskGroup { group in
            group.addTask { await watcher.run() }
            group.addTask {
                for await event in watcher.events { await self.observe(event) }
            }
            await work()
            group.cancelAll()
        }
    }

    private func work() async {
        while !Task.isCancelled && !stopping {
            if queued.isEmpty {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        if queued.isEmpty && !Task.isCancelled && !stopping { waiter = continuation } else { continuation.resume() }
                    }
                } onCancel: {
                    Task { await self.enqueue(nil) }
                }
                if Task.isCancelled || stopping { break }
            }
            let work = queued
            queued = []
            for case .rollback(let number) in work { await rollback(number) }
            if work.contains(.sync) {
                await syncHead()
            } else if work.contains(.resume) {
                await resumePaused()
            } else if work.contains(.heal) {
                await heal()
            } else if work.contains(.round) {
                await round()
            }
            if work.contains(.drift) && !Task.isCancelled { await checkDrift() }
            publish()
        }
    }

    /// The status a start finds: the revision deployed (by this daemon before, or by the CLI)
    /// and the application's health, so the API and the metrics know every application at once.
    func restore() async {
        if let deployed = try? pipeline.revisions().deployed(application.name) {
            status.syncedRevision = deployed.commit
        }
        await refreshHealth()
    }

    /// The status as the metrics show it: one source of truth for the API, metrics and logs.
    private func publish() {
        metrics.application(application.name, syncStatus: status.syncStatus.rawValue, health: status.health.rawValue)
    }

    /// A poll's outcome: a round follows each good one.
    private func observe(_ event: WatchEvent) {
        switch event {
        case .revision(let commit, _), .unchanged(let commit?):
            polled(commit)
        case .unchanged(nil):
            polled(nil)
        case .forcePush(let commit, let previous):
            log.event(
                "force-push", ["application": application.name, "revision": String(commit.sha.prefix(12)), "previous": String(previous.sha.prefix(12))],
                level: .warning)
            polled(commit)
        case .fetchFailed(let error, let failures, let retryIn):
            status.lastError = "fetching \(application.repository): \(error.message)"
            log.event(
                "fetch failed",
                fields: ["application": .string(application.name), "error": .string(error.message), "failures": .int(failures), "retryIn": .string(retryIn.description)],
                level: .warning)
        case .recovered(let failures):
            log.event("fetch recovered", fields: ["application": .string(application.name), "failures": .int(failures)])
        }
    }

    private func polled(_ commit: GitCommit?) {
        head = .some(commit)
        status.fetches += 1
        status.lastFetch = now
        enqueue(.round)
    }

    /// Whether the plan of `commit` has changes (Argo CD's sync status): a commit that touches
    /// only other applications' files leaves this one Synced.
    func planStatus(_ commit: String?) async -> SyncStatus {
        do {
            let report = try await pipeline.plan(try await pipeline.render(commit, fetchingMissingOnly: true), judging: false)
            return report.plan.summary.hasChanges ? .outOfSync : .synced
        } catch {
            return .unknown
        }
    }

    /// Records (and logs, when it changes) why auto-sync leaves the head alone; nil: it does not.
    private func pauseAutoSync(_ reason: String?) {
        guard status.autoSyncPaused != reason else { return }
        status.autoSyncPaused = reason
        if let reason {
            log.event("auto-sync paused", ["application": application.name, "reason": reason], level: .warning)
        } else {
            log.event("auto-sync resumed", ["application": application.name])
        }
    }

    /// A manual sync (`POST …/sync`, as `windlass sync`): the source as it is now (fetched, not
    /// as the last poll saw it), synced whatever it holds, automated or not; it ends a
    /// rollback's pin.
    func syncHead() async {
        let resolved: ResolvedSource
        do {
            resolved = try await pipeline.resolve()
        } catch {
            status.lastError = "fetching \(application.repository): \(error.message)"
            log.event("fetch failed", ["application": application.name, "error": error.message], level: .warning)
            return
        }
        status.headRevision = resolved.commit?.sha
        pipeline.unpin()
        await sync(resolved, trigger: "manual")
    }

    /// The synced revision applied again, whatever the drift check found (Argo CD's sync to
    /// the synced revision); auto-sync settings do not matter. A canary in progress is left
    /// alone: its revision is not drift.
    func heal() async {
        guard let revision = status.syncedRevision, pipeline.pendingRevision() == nil else { return }
        do {
            await sync(try await pipeline.render(revision, fetchingMissingOnly: true), trigger: "heal")
        } catch {
            finish(commit: revision, outcome: .invalid, message: error.diagnostics.map(\.description).joined(separator: "\n"), startedAt: now, record: nil)
        }
        if status.drift != nil { await checkDrift() }
    }

    /// The sync that paused, taken up again with the request that came (automated or not); with
    /// none paused, a round.
    func resumePaused() async {
        guard let last = status.lastSync, last.outcome == .paused, let revision = last.revision else {
            await round()
            return
        }
        do {
            await sync(try await pipeline.render(revision, fetchingMissingOnly: true), trigger: "resume")
        } catch {
            finish(commit: revision, outcome: .invalid, message: error.diagnostics.map(\.description).joined(separator: "\n"), startedAt: now, record: nil)
        }
    }

    /// The commit the last good poll found, and a sync when it is new (or the last sync of it did
    /// not finish); with self-heal, a drift check when it is not.
    func round() async {
        // Nothing fetched yet: the first good poll asks for a round.
        guard let polled = head else { return }
        let commit = polled?.sha
        status.headRevision = commit
        guard application.automated else {
            status.syncStatus = await planStatus(commit)
            return
        }
        // After a rollback, the commit it was pinned at is left alone until a newer one arrives
        // that changes the application (the pin is the head the last poll saw: commits to other
        // applications may land between that poll and the next, and do not end it).
        if var pinned = pipeline.pinnedCommit() {
            if let commit, pinned != commit, pinned != "*", await changesApplication(from: pinned, to: commit) == false {
                pipeline.movePin(to: commit)
                pinned = commit
            }
            if pinned == commit || pinned == "*" {
                status.syncStatus = .outOfSync
                pauseAutoSync(
                    pinned == "*"
                        ? "rolled back: auto-sync waits for a manual sync"
                        : "rolled back at \(pinned.prefix(12)): auto-sync waits for a newer commit or a manual sync")
                return
            }
            pipeline.unpin()
        }
        // A commit whose sync failed, was refused or was invalid is not auto-synced again (as
        // Argo CD does not retry a failed revision on its own): a new commit, or a manual sync.
        if let commit, pipeline.failedCommit() == commit {
            status.syncStatus = .outOfSync
            pauseAutoSync("the sync of \(commit.prefix(12)) failed: auto-sync waits for a newer commit or a manual sync")
            // What is deployed is still watched: drift from it is found (and healed) meanwhile.
            if application.selfHeal { await checkDrift() }
            return
        }
        pauseAutoSync(nil)
        if commit != nil && commit == status.syncedRevision && status.lastSync?.outcome != .paused {
            // Started on a commit deployed before: whether it is in sync is what its plan says.
            if status.syncStatus == .unknown { status.syncStatus = await planStatus(commit) }
            // Nothing new in git: with self-heal on, each poll also looks for drift (as Argo CD does).
            if application.selfHeal { await checkDrift() }
            return
        }
        // A commit that changes nothing under the application's path is not synced and records
        // no revision (Argo CD's manifest-generate-paths): the application is synced at it.
        if let commit, let synced = status.syncedRevision, status.lastSync?.outcome != .paused,
            await pipeline.changesInputs(from: synced, to: commit) == false
        {
            status.syncedRevision = commit
            // Out of sync before (a refused commit, now reverted; drift): whether it still is,
            // is what the plan of this commit says. In sync, it stays so without a render.
            if status.syncStatus != .synced { status.syncStatus = await planStatus(commit) }
            log.event(
                "commit outside the application's path",
                ["application": application.name, "revision": String(commit.prefix(12)), "path": application.path])
            if application.selfHeal { await checkDrift() }
            return
        }
        let resolved: ResolvedSource
        do {
            // The polled commit is in the mirror: read it without fetching again.
            resolved = try await pipeline.resolve(commit, fetchingMissingOnly: true)
        } catch {
            status.lastError = "reading \(application.repository): \(error.message)"
            log.event("read failed", ["application": application.name, "error": error.message], level: .warning)
            return
        }
        await sync(resolved, trigger: "auto-sync")
    }

    /// Whether commit `new` changes the application since `old` (nil: cannot be told). The inputs
    /// of `old` are read once from its render when this process has not rendered it (a pin
    /// made before a restart).
    private func changesApplication(from old: String, to new: String) async -> Bool? {
        if let known = await pipeline.changesInputs(from: old, to: new) { return known }
        guard (try? await pipeline.render(old, fetchingMissingOnly: true)) != nil else { return nil }
        return await pipeline.changesInputs(from: old, to: new)
    }

    /// Rolls back as `windlass rollback` does, and pins auto-sync to the head commit.
    func rollback(_ number: Int?) async {
        let startedAt = now
        let name = application.name
        let log = self.log
        let activity = self.activity
        activity.begin(revision: nil, trigger: "rollback", at: startedAt, strategies: [:])
        do {
            let restored = try await pipeline.rollback(
                to: number, pinnedAt: status.headRevision,
                onEvent: {
                    log.syncEvent(name, $0)
                    activity.record($0)
                })
            finish(commit: restored.commit, outcome: .rolledBack, message: restored.description, startedAt: startedAt, record: restored.number)
            status.syncedRevision = restored.commit
            status.syncStatus = .outOfSync
        } catch {
            finish(commit: nil, outcome: .error, message: "rollback: \(error)", startedAt: startedAt, record: nil)
        }
        await refreshHealth()
    }

    /// The plan of `ref` (default: the application's) against the live cluster, as JSON.
    /// Commits already read, by SHA: what the API shows of them (nil: not readable, not
    /// tried again).
    private var commitSummaries: [String: API.CommitSummary?] = [:]

    /// The subject, author and time of commit `sha`, read from the mirror once (nil: not a
    /// commit of the source, or a directory source).
    func commitSummary(_ sha: String?) async -> API.CommitSummary? {
        guard let sha, !sha.isEmpty else { return nil }
        if let known = commitSummaries[sha] { return known }
        let summary = (try? await pipeline.resolve(sha, fetchingMissingOnly: true).commit).flatMap { $0 }.map {
            API.CommitSummary(sha: $0.sha, subject: $0.subject, author: $0.authorName, time: Timestamp.rfc3339(Double($0.time)))
        }
        if commitSummaries.count > 64 { commitSummaries.removeAll() }
        commitSummaries[sha] = summary
        return summary
    }

    /// The last resource tree the API made, with what it was made at (see `Daemon.currentTree`).
    struct TreeCache: Sendable {
        var key: String
        var report: PlanReport
        var nodes: [ResourceNode]
    }

    nonisolated let treeCache = Mutex<TreeCache?>(nil)

    /// What the tree depends on besides the cluster: the revision planned, the syncs made, and
    /// the health.
    var treeKey: String {
        "\(status.headRevision ?? status.syncedRevision ?? "-") \(status.syncs) \(status.health.rawValue)"
    }

    /// The plan of the head last fetched (the synced revision before the first fetch) against
    /// the cluster as it is now, without policies: what the UI's resource tree shows.
    func currentPlan() async throws(PipelineError) -> PlanReport {
        let revision = status.headRevision ?? status.syncedRevision
        return try await pipeline.plan(try await pipeline.render(revision, fetchingMissingOnly: true), judging: false)
    }

    /// The plan of `ref` (nil: the application's revision) as JSON, with its forecast when asked.
    func plan(ref: String?, forecast: Bool = false) async -> (json: String?, error: String?) {
        do {
            let report = try await pipeline.plan(ref, forecasting: forecast)
            return (JSONRenderer(windlassVersion: WindlassVersion.current).render(report), nil)
        } catch {
            return (nil, error.description)
        }
    }

    /// Renders what `resolved` holds and syncs it, as `windlass sync` does.
    func sync(_ resolved: ResolvedSource, trigger: String) async {
        do {
            await sync(try await pipeline.render(resolved), trigger: trigger)
        } catch {
            finish(commit: resolved.commit?.sha, outcome: .invalid, message: error.diagnostics.map(\.description).joined(separator: "\n"), startedAt: now, record: nil)
        }
    }

    /// Syncs a rendered revision, as `windlass sync` does.
    func sync(_ rendered: ApplicationPipeline.Rendered, trigger: String) async {
        let started = ContinuousClock.now
        let startedAt = now
        let commit = rendered.source.commit?.sha
        log.event("sync started", ["application": application.name, "revision": commit.map { String($0.prefix(12)) } ?? "", "trigger": trigger])
        let name = application.name
        let log = self.log
        let activity = self.activity
        activity.begin(revision: commit, trigger: trigger, at: startedAt, strategies: CanaryStrategies.read(rendered.manifests).strategies)
        do {
            let outcome = try await pipeline.sync(
                rendered, trigger: trigger,
                onEvent: { event in
                    log.syncEvent(name, event)
                    activity.record(event)
                    if case .canary(let progress) = event { Task { await self.note(progress) } }
                })
            switch outcome {
            case .inSync(let plan):
                finish(commit: commit, outcome: .synced, message: plan.summary.line(), startedAt: startedAt, record: nil)
            case .deployed(let revision, _):
                finish(commit: commit, outcome: .synced, message: revision.description, startedAt: startedAt, record: revision.number)
            case .paused(let revision, _):
                // A stop signal pauses a canary where it is: that is not a canary waiting.
                let why = stopping || pipeline.stopRequested() ? "the daemon is stopping; the next start goes on from here" : "a canary waits"
                finish(commit: commit, outcome: .paused, message: "revision \(revision.number) paused: \(why)", startedAt: startedAt, record: revision.number)
            case .failed(let revision, _, let rollback):
                let back = rollback.map { "; rolled back as revision \($0.number)" } ?? ""
                finish(commit: commit, outcome: .failed, message: (revision.message ?? "failed") + back, startedAt: startedAt, record: revision.number)
            }
        } catch let error as PipelineError where error.code == .policies || error.code == .manifests {
            finish(commit: commit, outcome: .invalid, message: error.diagnostics.map(\.description).joined(separator: "\n"), startedAt: startedAt, record: nil)
        } catch let error as Deployer.PolicyDenied {
            finish(commit: commit, outcome: .refused, message: error.description, startedAt: startedAt, record: nil)
        } catch let error as Deployer.PlanRefused {
            finish(commit: commit, outcome: .refused, message: error.description, startedAt: startedAt, record: nil)
        } catch {
            finish(commit: commit, outcome: .error, message: "\(error)", startedAt: startedAt, record: nil)
        }
        metrics.reconcile(application.name, seconds: Self.seconds(since: started))
        await refreshHealth()
        // A sync of a large set leaves freed memory in malloc's arenas: give it back, so an idle
        // daemon's resident set is what it holds.
        _ = releaseFreeMemory(0)
    }

    /// A canary's progress, for `rollout` in the API and `windlass_rollout_phase`.
    private func note(_ progress: CanaryProgress) {
        let step = min(progress.step + 1, progress.stepCount)
        status.rollout = "\(progress.target) step \(step)/\(progress.stepCount), weight \(progress.weight)%, \(progress.phase.rawValue)"
        let phase: Int
        switch progress.phase {
        case .progressing: phase = 1
        case .paused: phase = 2
        case .aborted: phase = 3
        case .promoted: phase = 0
        }
        metrics.rolloutPhase(application.name, phase: phase)
    }

    private func finish(commit: String?, outcome: SyncOutcome, message: String, startedAt: Double, record: Int?) {
        let finishedAt = now
        activity.finish(outcome: outcome, revision: commit, message: RemoteURL.redactCredentials(in: message), at: finishedAt)
        // The pipeline's sync records a failed commit itself; what failed before it (a revision
        // that does not render) is recorded here.
        if outcome == .invalid { pipeline.record(commit, failed: true) }
        status.lastSync = LastSync(revision: commit, number: record, outcome: outcome, message: RemoteURL.redactCredentials(in: message), startedAt: startedAt, finishedAt: finishedAt)
        status.syncs += 1
        if outcome != .paused {
            // Promoted, aborted or never started: no canary is in progress any more.
            if status.rollout != nil { metrics.rolloutPhase(application.name, phase: outcome == .failed ? 3 : 0) }
            status.rollout = nil
        }
        if outcome == .synced {
            status.syncedRevision = commit
            status.lastError = nil
        } else if outcome != .paused {
            // A canary waiting is not an error: `lastSync` and `rollout` say where it is.
            status.lastError = message
        }
        status.syncStatus = status.syncedRevision != nil && status.syncedRevision == status.headRevision ? .synced : .outOfSync
        // What did not go as committed (refused, invalid, failed, an error) is a warning.
        var fields: [String: LogValue] = [
            "application": .string(application.name), "revision": .string(commit.map { String($0.prefix(12)) } ?? ""), "outcome": .string(outcome.rawValue),
            "message": .string(message), "seconds": .double(Double(Int(((finishedAt - startedAt) * 100).rounded())) / 100),
        ]
        if let record { fields["number"] = .int(record) }
        log.event("sync finished", fields: fields, level: outcome.blocksAutoSync || outcome == .error ? .warning : .info)
    }

    /// Compares the synced revision's manifests with the live cluster, records the report (and
    /// writes it to `<state>/drift/<application>.json`), and, when self-heal is on, syncs again,
    /// backing off (10 s doubling to 5 min) while drift keeps coming back.
    func checkDrift() async {
        guard let revision = status.syncedRevision else { return }
        // A rollout in progress (a paused canary) is not drift: comparing the cluster with the
        // revision before it would "heal" the release away. The check waits until it ends.
        if let pending = pipeline.pendingRevision() {
            log.event(
                "drift check deferred",
                ["application": application.name, "reason": "revision \(pending.number) is in progress: \(pending.message ?? "syncing")"], level: .debug)
            return
        }
        do {
            // The synced commit is in the mirror already: no fetch.
            let rendered = try await pipeline.render(revision, fetchingMissingOnly: true)
            let (report, _) = try await pipeline.drift(rendered)
            let now = self.now
            var check = DriftCheck(at: now, report: report, json: DriftRenderer().json(report), healed: false)
            metrics.drift(application.name, resources: report.items.count)
            SmallFile.write(check.json, to: pipeline.stateDirectory + "/drift/" + application.name + ".json")
            for item in report.items {
                log.event(
                    "drift", ["application": application.name, "resource": item.id.description, "kind": item.kind.rawValue, "reason": item.reason])
            }
            if !report.hasDrift {
                status.healAttempts = 0
                status.drift = check
                return
            }
            let heal = application.selfHeal || application.driftSelfHeal
            if heal && now >= nextHeal {
                check.healed = true
                status.drift = check
                status.healAttempts += 1
                nextHeal = now + min(300, 10 * pow2(status.healAttempts - 1))
                await sync(rendered, trigger: "self-heal")
            } else {
                status.drift = check
                status.syncStatus = .outOfSync
            }
        } catch {
            log.event("drift check failed", ["application": application.name, "error": error.description], level: .warning)
        }
    }

    /// When the next self-heal may run.
    private var nextHeal: Double = 0

    private func pow2(_ n: Int) -> Double { Double(1 << max(0, min(n, 16))) }

    /// The worst health of the application's tracked objects.
    func refreshHealth() async {
        status.health = await pipeline.health()
        publish()
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// glibc's `malloc_trim`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
private func releaseFreeMemory(_ pad: Int) -> Int32
