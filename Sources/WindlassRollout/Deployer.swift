public import WindlassCluster
public import WindlassManifest
public import WindlassPlan
public import WindlassPolicy

/// Syncs that leave a record: each sync that changes the cluster becomes a revision, taken under
/// the application's lease; rollbacks apply an earlier revision's manifests as a new revision;
/// an atomic sync that fails rolls back to the revision deployed before it.
public struct Deployer: Sendable {
    public var store: RevisionStore
    public var executor: SyncExecutor
    public var planner: Planner
    /// Who holds the lease while syncing: `pid@host`.
    public var holder: String
    /// How long a lease lasts without renewal.
    public var leaseSeconds: Double
    /// Analysis providers by name (`prometheus`, `web`, `health`).
    public var providers: [String: any MetricProvider]
    /// The policies every sync is judged by (nil: none). A sync where an Enforce rule fails is
    /// refused before anything is applied; rollbacks (to a revision once deployed) are not judged.
    public var policies: PolicySet?
    /// Whether the holder of a lease is known to be gone (a process on this machine that no
    /// longer exists): its lease is then taken over at once instead of at its expiry.
    public var holderIsGone: @Sendable (String) -> Bool = { _ in false }
    /// Whether the process is stopping: canaries take no further step.
    public var stopRequested: @Sendable () -> Bool = { false }

    public init(
        store: RevisionStore, executor: SyncExecutor, planner: Planner, holder: String, leaseSeconds: Double = 30,
        providers: [String: any MetricProvider] = [:]
    ) {
        self.providers = providers
        self.store = store
        self.executor = executor
        self.planner = planner
        self.holder = holder
        self.leaseSeconds = leaseSeconds
    }

    public enum Outcome: Sendable {
        /// Nothing to change; no revision written.
        case inSync(Plan)
        /// Revision written and deployed.
        case deployed(Revision, SyncResult)
        /// Revision failed; with `rolledBackTo`, an atomic sync restored the earlier revision as
        /// the new revision given.
        case failed(Revision, SyncResult, rollback: Revision?)
        /// A canary waits for a person; the revision stays pending and the next sync (or a
        /// rollout verb) resumes it where it stopped.
        case paused(Revision, SyncResult)
    }

    /// The plan found mistakes in the manifests (hooks, waves, strategies, templates): nothing
    /// is applied.
    public struct InvalidManifests: Error, Sendable, CustomStringConvertible {
        public var diagnostics: [Diagnostic]
        public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
    }

    /// An Enforce rule fails on the manifests: nothing is applied and no revision is written.
    public struct PolicyDenied: Error, Sendable, CustomStringConvertible {
        public var plan: Plan
        /// The verdicts, with at least one Enforce failure.
        public var verdicts: PolicyReport
        public var failures: [PolicyResult] { verdicts.findings.filter { $0.status == .fail } }
        public var description: String {
            (failures.map(PolicyReport.line) + ["sync refused: \(failures.count) Enforce rule failure\(failures.count == 1 ? "" : "s"); nothing was applied"])
                .joined(separator: "\n")
        }
    }

    /// The plan cannot be applied whole (objects another application tracks, namespaces that
    /// do not exist): nothing is applied and no revision is written.
    public struct PlanRefused: Error, Sendable, CustomStringConvertible {
        public var plan: Plan
        /// One line per problem, then the verdict.
        public var lines: [String]
        public var description: String { lines.joined(separator: "\n") }

        /// Why `plan` cannot be applied whole (nil: it can). Ownership conflicts count unless
        /// `takeOwnership`.
        public static func check(_ plan: Plan, takeOwnership: Bool) -> PlanRefused? {
            var lines: [String] = []
            var verdicts: [String] = []
            let conflicts = takeOwnership ? [] : plan.ownershipConflicts
            if !conflicts.isEmpty {
                lines += conflicts.map { "\($0.id) is tracked by application \"\($0.trackedBy ?? "")\"" }
                let count = conflicts.count
                verdicts.append(
                    "\(count) object\(count == 1 ? "" : "s") tracked by another application (take \(count == 1 ? "it" : "them") over with --take-ownership, or syncPolicy.takeOwnership in windlass.yaml)")
            }
            if !plan.missingNamespaces.isEmpty {
                lines += plan.missingNamespaces.map { "namespace \"\($0)\" does not exist and is not in the manifests" }
                let count = plan.missingNamespaces.count
                verdicts.append("\(count) namespace\(count == 1 ? "" : "s") missing (add \(count == 1 ? "it" : "them") to the manifests, or sync with CreateNamespace=true)")
            }
            guard !verdicts.isEmpty else { return nil }
            return PlanRefused(plan: plan, lines: lines + ["sync refused: " + verdicts.joined(separator: "; ") + "; nothing was applied"])
        }
    }

    public struct Busy: Error, Sendable, CustomStringConvertible {
        public var operation: RevisionStore.Operation
        public var description: String {
            "another sync of application \"\(operation.application)\" is in progress (revision \(operation.revision), held by \(operation.holder))"
        }
    }

    private var application: String { planner.options.application }

    /// The setting that pins an application after a rollback: the commit its source was at
    /// then. Auto-sync (the daemon) leaves that commit alone; a newer one, or a manual sync,
    /// ends the pin.
    public static let pinnedCommitSetting = "pinnedCommit"

    /// Plans `desired` against `live` and, when anything changes, applies it as a new revision.
    public func sync(
        _ desired: ManifestSet,
        source: Plan.Source,
        live: (ManifestSet) async throws -> LiveSnapshot,
        trigger: String,
        atomic: Bool = false,
        description: String? = nil,
        hooksWhenInSync: Bool = false,
        onEvent: @Sendable (SyncEvent) -> Void = { _ in }
    ) async throws -> Outcome {
        let snapshot = try await live(desired)
        let plan = planner.plan(desired, source: source, live: snapshot)
        let errors = plan.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else { throw InvalidManifests(diagnostics: errors) }
        let verdicts = policies.map { PolicyEngine.judge(desired, by: $0, liveNamespaces: snapshot.namespaces) }
        let denied = verdicts.map { $0.summary.failures > 0 } ?? false
        // Refused before anything is touched: no lease, no revision, a pending one left as it is.
        if let verdicts, denied && plan.summary.hasChanges { throw PolicyDenied(plan: plan, verdicts: verdicts) }
        if let refused = PlanRefused.check(plan, takeOwnership: planner.options.takeOwnership) { throw refused }
        // A sync that stopped (paused, or its process died) with the same manifests resumes.
        let digest = ManifestArchive.digest(desired.resources)
        var resumed: Revision?
        var resume: [ResourceID: CanaryProgress] = [:]
        if let operation = try store.operation(application), let pending = try store.revision(application, operation.revision), pending.status == .pending {
            if pending.digest == digest {
                resumed = pending
                resume = Self.canaries(in: operation.state)
            } else if operation.leaseExpires <= executor.driver.now() || operation.holder == holder || holderIsGone(operation.holder) {
                var interrupted = pending
                interrupted.status = .failed
                interrupted.finishedAt = executor.driver.now()
                interrupted.message = "interrupted; superseded by revision of other manifests"
                // Its canary workloads go with it: nothing would manage them any more (the
                // stable workloads take the new revision's size as it is applied).
                let abandoned = Self.canaries(in: operation.state).keys.sorted { $0.description < $1.description }
                for target in abandoned {
                    do throws(ClusterError) {
                        try await executor.backend.delete(CanaryRunner.canaryID(of: target), propagation: .background, dryRun: false)
                    } catch {
                        if error.code != .notFound { throw error }
                    }
                }
                if !abandoned.isEmpty { interrupted.message! += "; its canary workloads were removed" }
                try store.finish(interrupted)
            }
        }
        guard plan.summary.hasChanges || resumed != nil else {
            if hooksWhenInSync, plan.changes.contains(where: { $0.hook != nil }) { try await runHooks(plan, onEvent: onEvent) }
            return .inSync(plan)
        }
        if let verdicts, denied { throw PolicyDenied(plan: plan, verdicts: verdicts) }
        let previous = try store.deployed(application)
        var revision: Revision
        if let resumed {
            try lease(revision: resumed.number)
            revision = resumed
        } else {
            revision = try start(plan, desired: desired, trigger: trigger, description: description ?? plan.summary.line())
        }
        let result = await run(plan, revision: revision.number, resume: resume, resuming: resumed != nil, onEvent: onEvent)
        if case .paused = result.outcome {
            try store.suspend(application, holder: holder, now: executor.driver.now())
            return .paused(revision, result)
        }
        defer { try? store.release(application, holder: holder) }
        revision = try finish(revision, result)
        guard case .failed = result.outcome else { return .deployed(revision, result) }
        guard atomic || result.canaryAborted, let previous else { return .failed(revision, result, rollback: nil) }

        // Atomic, or a canary's gate failed: back to what was deployed before, as a revision of its own.
        let restored = try await apply(revision: previous, live: live, trigger: atomic ? "atomic" : "canary aborted", onEvent: onEvent)
        try store.markRolledBack(application, revision.number)
        revision.status = .rolledBack
        return .failed(revision, result, rollback: restored)
    }

    /// A hook of a sync with nothing to change failed: the sync fails, and no revision is
    /// written (the manifests did not change).
    public struct HooksFailed: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Runs the plan's hooks alone, under the application's lease: a sync operation runs its
    /// hooks even when nothing changes, as Argo CD's does. No revision is written.
    private func runHooks(_ plan: Plan, onEvent: @Sendable (SyncEvent) -> Void) async throws {
        try lease(revision: 0)
        defer { try? store.release(application, holder: holder) }
        let result = await executor.run(plan, hooksOnly: true, onEvent: onEvent)
        switch result.outcome {
        case .succeeded: return
        case .failed(let reason): throw HooksFailed(message: "hooks failed (nothing to change, no revision written): \(reason)")
        case .paused(let reason): throw HooksFailed(message: "hooks stopped (nothing to change, no revision written): \(reason)")
        }
    }

    /// The canaries recorded in an operation's state.
    public static func canaries(in state: String) -> [ResourceID: CanaryProgress] {
        guard let value = try? YAMLReader.read(state).first?.root else { return [:] }
        var out: [ResourceID: CanaryProgress] = [:]
        for item in value["canaries"]?.sequenceValue ?? [] {
            if let progress = CanaryProgress(item) { out[progress.target] = progress }
        }
        return out
    }

    /// Applies revision `number`'s manifests again (default: the deployed revision before the
    /// current one) as a new revision "Rollback to N".
    public func rollback(to number: Int?, live: (ManifestSet) async throws -> LiveSnapshot, onEvent: @Sendable (SyncEvent) -> Void = { _ in }) async throws -> Revision {
        let history = try store.history(application)
        guard let current = history.last(where: { $0.status == .deployed }) else {
            throw RollbackError(message: "application \"\(application)\" has no deployed revision to roll back from")
        }
        let target: Revision
        if let number {
            guard let found = history.first(where: { $0.number == number }) else {
                let kept = history.map { String($0.number) }.joined(separator: ", ")
                throw RollbackError(message: "revision \(number) of application \"\(application)\" is not in the history (kept: \(kept))")
            }
            target = found
        } else {
            guard let earlier = history.last(where: { $0.number < current.number && ($0.status == .superseded || $0.status == .deployed) }) else {
                throw RollbackError(message: "application \"\(application)\" has no earlier deployed revision than \(current.number)")
            }
            target = earlier
        }
        return try await apply(revision: target, live: live, trigger: "rollback", onEvent: onEvent)
    }

    public struct RollbackError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    // MARK: - Steps

    private func apply(revision target: Revision, live: (ManifestSet) async throws -> LiveSnapshot, trigger: String, onEvent: @Sendable (SyncEvent) -> Void) async throws -> Revision {
        guard let text = try store.manifests(application, target.number) else {
            throw RollbackError(message: "revision \(target.number) has no stored manifests")
        }
        let desired = try ManifestArchive.decode(text, revision: target.number)
        let source = Plan.Source(location: target.source, path: target.path, revision: target.commit)
        var plan = planner.plan(desired, source: source, live: try await live(desired))
        // Back to a version that ran before: straight to it, without canary steps (as Argo
        // Rollouts fast-tracks a rollback to a stable revision).
        for index in plan.changes.indices { plan.changes[index].canary = nil }
        var revision = try start(plan, desired: desired, trigger: trigger, description: "Rollback to \(target.number)", commit: target.commit)
        defer { try? store.release(application, holder: holder) }
        let result = await run(plan, revision: revision.number, onEvent: onEvent)
        revision = try finish(revision, result)
        if case .failed(let reason) = result.outcome {
            throw RollbackError(message: "rollback to revision \(target.number) failed (revision \(revision.number)): \(reason)")
        }
        return revision
    }

    private func lease(revision: Int) throws {
        let (acquired, busy) = try store.acquire(
            application, holder: holder, revision: revision, now: executor.driver.now(), seconds: leaseSeconds, holderIsGone: holderIsGone)
        guard acquired else { throw Busy(operation: busy!) }
    }

    private func start(_ plan: Plan, desired: ManifestSet, trigger: String, description: String, commit: String?? = nil) throws -> Revision {
        let now = executor.driver.now()
        try lease(revision: 0)
        let draft = Revision(
            application: application, number: 0, status: .pending, commit: commit ?? plan.source.revision, source: plan.source.location,
            path: plan.source.path, digest: ManifestArchive.digest(desired.resources), trigger: trigger, description: description, startedAt: now,
            renderer: plan.source.renderer)
        let revision = try store.begin(draft, manifests: ManifestArchive.encode(desired.resources))
        try store.checkpoint(application, holder: holder, now: now, seconds: leaseSeconds, state: "{\"revision\":\(revision.number)}", revision: revision.number)
        return revision
    }

    private func run(
        _ plan: Plan, revision: Int, resume: [ResourceID: CanaryProgress] = [:], resuming: Bool = false, onEvent: @Sendable (SyncEvent) -> Void
    ) async -> SyncResult {
        let lease = LeaseKeeper(store: store, application: application, holder: holder, seconds: leaseSeconds, now: executor.driver.now, revision: revision, canaries: resume)
        let store = self.store
        let application = self.application
        var control = CanaryControl(
            providers: providers, resume: resume,
            checkpoint: { progress in lease.record(progress) },
            request: { target in try? store.takeRequest(application, target: target, revision: revision) })
        control.stopRequested = stopRequested
        return await executor.run(plan, canaries: control, resuming: resuming) { event in
            lease.renewIfDue()
            onEvent(event)
        }
    }

    private func finish(_ revision: Revision, _ result: SyncResult) throws -> Revision {
        var done = revision
        done.finishedAt = result.finishedAt
        done.results = result.resources.map { "\($0.id) \($0.status)" }
        switch result.outcome {
        case .succeeded:
            done.status = .deployed
        case .failed(let reason):
            done.status = .failed
            done.message = reason
        case .paused(let reason):
            done.status = .pending
            done.message = reason
        }
        try store.finish(done)
        return done
    }
}

/// Renews a lease at a third of its length while a sync reports progress, and records the
/// canaries' progress with it (at once: a restarted process must find every step it took).
final class LeaseKeeper: @unchecked Sendable {
    let store: RevisionStore
    let application: String
    let holder: String
    let seconds: Double
    let now: @Sendable () -> Double
    let revision: Int
    private var canaries: [ResourceID: CanaryProgress]
    private var last: Double

    init(
        store: RevisionStore, application: String, holder: String, seconds: Double, now: @escaping @Sendable () -> Double, revision: Int,
        canaries: [ResourceID: CanaryProgress]
    ) {
        self.store = store
        self.application = application
        self.holder = holder
        self.seconds = seconds
        self.now = now
        self.revision = revision
        self.canaries = canaries
        last = now()
    }

    var state: String {
        let value: Value = [
            "revision": .int(revision),
            "canaries": .sequence(canaries.keys.sorted().map { canaries[$0]!.value }),
        ]
        return JSONWriter().write(value)
    }

    func record(_ progress: CanaryProgress) {
        canaries[progress.target] = progress
        last = now()
        try? store.checkpoint(application, holder: holder, now: last, seconds: seconds, state: state, revision: revision)
    }

    func renewIfDue() {
        let current = now()
        guard current - last >= seconds / 3 else { return }
        last = current
        try? store.checkpoint(application, holder: holder, now: current, seconds: seconds, state: state, revision: revision)
    }
}
