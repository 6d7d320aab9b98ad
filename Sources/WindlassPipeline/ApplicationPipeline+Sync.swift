public import WindlassCluster
public import WindlassManifest
public import WindlassPlan
public import WindlassRollout
import WindlassPolicy
import WindlassGit

extension ApplicationPipeline {
    /// The revision store's setting that pins an application after a rollback: the commit its
    /// source was at then. Auto-sync leaves that commit alone; a newer one, or a manual sync,
    /// ends the pin.
    public static let pinnedCommitSetting = Deployer.pinnedCommitSetting

    /// A deployer for this application: syncs under its lease, judged by `policies`.
    func deployer(policies: PolicySet? = nil) throws(PipelineError) -> Deployer {
        let executor = SyncExecutor(
            backend: cluster.backend, driver: cluster.driver, options: SyncOptions(waveTimeout: application.syncOptions.waveTimeout))
        var deployer = Deployer(store: try revisions(), executor: executor, planner: planner, holder: holder, providers: providers)
        deployer.holderIsGone = holderIsGone
        deployer.stopRequested = stopRequested
        deployer.policies = policies
        return deployer
    }

    /// Syncs `rendered`: judged by the policies first (an Enforce failure refuses it before
    /// anything is touched), then applied wave by wave as a new revision, or resumed where a
    /// paused or interrupted sync of the same manifests stopped. `trigger` is recorded with
    /// the revision (`manual`, `auto-sync`, `self-heal`, `retry`).
    ///
    /// Throws ``PipelineError`` for bad manifests or policies or an unreadable cluster, and the
    /// deployer's errors (`PolicyDenied`, `PlanRefused`, `Busy`, `RollbackError`) as they are.
    public func sync(
        _ rendered: Rendered, trigger: String, onPolicyWarnings: ([Diagnostic]) -> Void = { _ in },
        onEvent: @escaping @Sendable (SyncEvent) -> Void = { _ in }
    ) async throws -> Deployer.Outcome {
        let commit = rendered.source.commit?.sha
        do {
            var warnings: [Diagnostic] = []
            let set = try policies(for: rendered.manifests, source: rendered.source, warnings: &warnings)
            // Said before anything else happens, whatever the sync's outcome.
            onPolicyWarnings(warnings)
            let deployer = try deployer(policies: set)
            let live: @Sendable (ManifestSet) async throws -> LiveSnapshot = { [self] manifests in try await snapshot(for: [manifests]) }
            let outcome: Deployer.Outcome
            do {
                // A person's sync runs the hooks even when nothing changes; automatic ones only
                // sync what changed.
                outcome = try await deployer.sync(
                    rendered.manifests, source: rendered.planSource, live: live, trigger: trigger, atomic: application.syncOptions.atomic,
                    hooksWhenInSync: trigger == "manual", onEvent: onEvent)
            } catch let error as Deployer.InvalidManifests {
                // Found while planning (hooks, waves, strategies): as located as a load's errors.
                throw PipelineError.stopping(.manifests, on: error.diagnostics) ?? PipelineError(.manifests, error.description)
            }
            switch outcome {
            case .failed: record(commit, failed: true)
            case .deployed, .inSync: record(commit, failed: false)
            case .paused: break
            }
            return outcome
        } catch let error as PipelineError where error.code == .manifests || error.code == .policies {
            record(commit, failed: true)
            throw error
        } catch let error as Deployer.PolicyDenied {
            record(commit, failed: true)
            throw error
        } catch let error as Deployer.PlanRefused {
            record(commit, failed: true)
            throw error
        }
    }

    /// The revision store's setting that remembers the last commit whose sync failed, was
    /// refused or was invalid: auto-sync leaves it alone (as Argo CD does not retry a failed
    /// revision on its own) until a newer commit or a manual sync. Every sync records it, the
    /// CLI's as the daemon's.
    public static let failedCommitSetting = "failedCommit"

    /// The last commit whose sync failed, was refused or was invalid (nil: the last sync of a
    /// commit succeeded).
    public func failedCommit() -> String? {
        try? revisions().setting(application.name, Self.failedCommitSetting)
    }

    /// Records how the sync of `commit` ended (nothing for a directory source).
    public func record(_ commit: String?, failed: Bool) {
        guard let commit else { return }
        if failed {
            try? revisions().setSetting(application.name, Self.failedCommitSetting, commit)
        } else if failedCommit() != nil {
            try? revisions().setSetting(application.name, Self.failedCommitSetting, nil)
        }
    }

    /// Resolves, renders and syncs `revision` (nil: the application's).
    public func sync(
        _ revision: String? = nil, trigger: String, onPolicyWarnings: ([Diagnostic]) -> Void = { _ in },
        onEvent: @escaping @Sendable (SyncEvent) -> Void = { _ in }
    ) async throws -> Deployer.Outcome {
        try await sync(try await render(revision), trigger: trigger, onPolicyWarnings: onPolicyWarnings, onEvent: onEvent)
    }

    /// Applies revision `number`'s manifests again (default: the deployed revision before the
    /// current one) as a new revision, without canary steps, and pins auto-sync at
    /// `pinnedAt` (the commit the source is at now; nil: any) until a newer commit arrives.
    public func rollback(to number: Int?, pinnedAt commit: String?, onEvent: @escaping @Sendable (SyncEvent) -> Void = { _ in }) async throws -> Revision {
        let live: @Sendable (ManifestSet) async throws -> LiveSnapshot = { [self] manifests in try await snapshot(for: [manifests]) }
        let restored = try await deployer().rollback(to: number, live: live, onEvent: onEvent)
        try? revisions().setSetting(application.name, Self.pinnedCommitSetting, commit ?? "*")
        return restored
    }

    /// The commit auto-sync is pinned at after a rollback (`*`: any), if it is.
    public func pinnedCommit() -> String? {
        try? revisions().setting(application.name, Self.pinnedCommitSetting)
    }

    /// Moves a rollback's pin to `commit`: a newer commit that changes nothing of the
    /// application is not the newer commit the pin waits for.
    public func movePin(to commit: String) {
        try? revisions().setSetting(application.name, Self.pinnedCommitSetting, commit)
    }

    /// Ends a rollback's pin: a manual sync does.
    public func unpin() {
        try? revisions().setSetting(application.name, Self.pinnedCommitSetting, nil)
    }

    // MARK: - Canaries

    /// Records a person's request for the canary of `target` (promote, abort) in the revision
    /// in progress; the sync that runs the canary takes it within a poll, at any step, and the
    /// request ends with that revision. Returns the operation of another live process that holds
    /// the application's lease (it takes the request), or nil when the caller should resume the
    /// sync itself. A retry records nothing: it is a new sync of the same manifests. Throws
    /// ``NoRolloutInProgress`` when no sync of the application is in progress (nothing to ask).
    public func request(_ request: RolloutRequest, for target: ResourceID) throws -> RevisionStore.Operation? {
        let store = try revisions()
        if request != .retry {
            guard let pending = try Self.pending(application.name, in: store) else { throw NoRolloutInProgress(application: application.name, target: target) }
            try store.request(application.name, target: target, request, revision: pending.number)
        }
        guard let operation = try store.operation(application.name), operation.leaseExpires > cluster.driver.now(),
            operation.holder != holder, !holderIsGone(operation.holder)
        else { return nil }
        return operation
    }

    /// The revision of the sync in progress (paused, or running), if any.
    public func pendingRevision() -> Revision? {
        guard let store = try? revisions() else { return nil }
        return try? Self.pending(application.name, in: store)
    }

    /// The revision of `application`'s operation, when it is still pending.
    static func pending(_ application: String, in store: RevisionStore) throws -> Revision? {
        guard let operation = try store.operation(application), let revision = try store.revision(application, operation.revision),
            revision.status == .pending
        else { return nil }
        return revision
    }

    /// Where the canary of `target` is, in the sync in progress (nil: none is).
    public func canary(_ target: ResourceID) -> (operation: RevisionStore.Operation, progress: CanaryProgress)? {
        guard let operation = try? revisions().operation(application.name), let progress = Deployer.canaries(in: operation.state)[target] else {
            return nil
        }
        return (operation, progress)
    }
}

/// A canary request with no sync in progress to take it.
public struct NoRolloutInProgress: Error, Sendable, CustomStringConvertible {
    public var application: String
    public var target: ResourceID

    public var description: String {
        "no rollout of application \"\(application)\" is in progress: nothing takes a request for \(RESTMapping.reference(target))"
    }
}
