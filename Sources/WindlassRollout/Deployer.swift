public import WindlassCluster
public import WindlassManifest
public import WindlassPlan

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

    public init(store: RevisionStore, executor: SyncExecutor, planner: Planner, holder: String, leaseSeconds: Double = 30) {
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
    }

    public struct Busy: Error, Sendable, CustomStringConvertible {
        public var operation: RevisionStore.Operation
        public var description: String {
            "another sync of application \"\(operation.application)\" is in progress (revision \(operation.revision), held by \(operation.holder))"
        }
    }

    private var application: String { planner.options.application }

    /// Plans `desired` against `live` and, when anything changes, applies it as a new revision.
    public func sync(
        _ desired: ManifestSet,
        source: Plan.Source,
        live: (ManifestSet) async throws -> LiveSnapshot,
        trigger: String,
        atomic: Bool = false,
        description: String? = nil,
        onEvent: @Sendable (SyncEvent) -> Void = { _ in }
    ) async throws -> Outcome {
        let plan = planner.plan(desired, source: source, live: try await live(desired))
        guard plan.summary.hasChanges else { return .inSync(plan) }
        let previous = try store.deployed(application)
        var revision = try start(plan, desired: desired, trigger: trigger, description: description ?? plan.summary.line())
        defer { try? store.release(application, holder: holder) }
        let result = await run(plan, revision: revision.number, onEvent: onEvent)
        revision = try finish(revision, result)
        guard case .failed = result.outcome else { return .deployed(revision, result) }
        guard atomic, let previous else { return .failed(revision, result, rollback: nil) }

        // Atomic: back to what was deployed before, as a revision of its own.
        let restored = try await apply(revision: previous, live: live, trigger: "atomic", onEvent: onEvent)
        try store.markRolledBack(application, revision.number)
        revision.status = .rolledBack
        return .failed(revision, result, rollback: restored)
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
        let plan = planner.plan(desired, source: source, live: try await live(desired))
        var revision = try start(plan, desired: desired, trigger: trigger, description: "Rollback to \(target.number)", commit: target.commit)
        defer { try? store.release(application, holder: holder) }
        let result = await run(plan, revision: revision.number, onEvent: onEvent)
        revision = try finish(revision, result)
        if case .failed(let reason) = result.outcome {
            throw RollbackError(message: "rollback to revision \(target.number) failed (revision \(revision.number)): \(reason)")
        }
        return revision
    }

    private func start(_ plan: Plan, desired: ManifestSet, trigger: String, description: String, commit: String?? = nil) throws -> Revision {
        let now = executor.driver.now()
        let (acquired, busy) = try store.acquire(application, holder: holder, revision: 0, now: now, seconds: leaseSeconds)
        guard acquired else { throw Busy(operation: busy!) }
        let draft = Revision(
            application: application, number: 0, status: .pending, commit: commit ?? plan.source.revision, source: plan.source.location,
            path: plan.source.path, digest: ManifestArchive.digest(desired.resources), trigger: trigger, description: description, startedAt: now)
        let revision = try store.begin(draft, manifests: ManifestArchive.encode(desired.resources))
        try store.checkpoint(application, holder: holder, now: now, seconds: leaseSeconds, state: "{\"revision\":\(revision.number)}")
        return revision
    }

    private func run(_ plan: Plan, revision: Int, onEvent: @Sendable (SyncEvent) -> Void) async -> SyncResult {
        let lease = LeaseKeeper(store: store, application: application, holder: holder, seconds: leaseSeconds, now: executor.driver.now)
        return await executor.run(plan) { event in
            lease.renewIfDue(state: "{\"revision\":\(revision)}")
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
        }
        try store.finish(done)
        return done
    }
}

/// Renews a lease at a third of its length while a sync reports progress.
final class LeaseKeeper: @unchecked Sendable {
    let store: RevisionStore
    let application: String
    let holder: String
    let seconds: Double
    let now: @Sendable () -> Double
    private var last: Double

    init(store: RevisionStore, application: String, holder: String, seconds: Double, now: @escaping @Sendable () -> Double) {
        self.store = store
        self.application = application
        self.holder = holder
        self.seconds = seconds
        self.now = now
        last = now()
    }

    func renewIfDue(state: String) {
        let current = now()
        guard current - last >= seconds / 3 else { return }
        last = current
        try? store.checkpoint(application, holder: holder, now: current, seconds: seconds, state: state)
    }
}
