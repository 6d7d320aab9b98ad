public import WindlassCluster
public import WindlassManifest
public import WindlassPlan

/// How the executor lets time pass. Against the embedded core, passing time runs its
/// controllers; against a real cluster it only sleeps. Tests drive it with a manual clock.
public struct SyncDriver: Sendable {
    public var now: @Sendable () -> Double
    /// Lets the cluster make progress for up to `seconds` (0: only what is due now).
    public var pass: @Sendable (_ seconds: Double) async throws -> Void
    /// A number that changes whenever the cluster's objects change (a twin's), so that a wait
    /// re-reads health only after something changed; nil where there is no cheap one.
    public var stateVersion: (@Sendable () async -> Int)? = nil
    /// When the cluster next changes by itself (a twin's next timed work; `.infinity` for
    /// never), so that a wait whose last look is still current takes the polls before then at
    /// once; nil where it cannot be known.
    public var nextChange: (@Sendable () async -> Double)? = nil

    public init(now: @escaping @Sendable () -> Double, pass: @escaping @Sendable (_ seconds: Double) async throws -> Void) {
        self.now = now
        self.pass = pass
    }
}

extension SyncDriver {
    /// Real time: waiting sleeps, and every pass runs `reconcile` (the embedded core's
    /// controllers; nothing for a cluster that runs its own).
    public static func realTime(now: @escaping @Sendable () -> Double, reconcile: @escaping @Sendable () async throws -> Void) -> SyncDriver {
        SyncDriver(
            now: now,
            pass: { seconds in
                if seconds > 0 { try await Task.sleep(for: .milliseconds(Int(seconds * 1000))) }
                try await reconcile()
            })
    }
}

public struct SyncOptions: Sendable {
    public var fieldManager: String
    /// How long one wave may take to become healthy.
    public var waveTimeout: Double
    /// How often health is checked while a wave settles.
    public var pollInterval: Double
    /// Attempts of a write that fails for a transient reason.
    public var attempts: Int

    public init(fieldManager: String = "windlass", waveTimeout: Double = 300, pollInterval: Double = 0.25, attempts: Int = 4) {
        self.fieldManager = fieldManager
        self.waveTimeout = waveTimeout
        self.pollInterval = pollInterval
        self.attempts = attempts
    }
}

/// What happened during a sync, as it happens.
public enum SyncEvent: Sendable {
    /// A stage begins; `resources` of it are to be written (unchanged ones are not counted).
    case stageStarted(Plan.Stage, resources: Int)
    case applied(ResourceID, Plan.Action)
    case waiting(Plan.Stage, pending: [(ResourceID, Health)])
    case stageFinished(Plan.Stage)
    case hookFinished(ResourceID, succeeded: Bool, message: String)
    case retrying(ResourceID, attempt: Int, error: String)
    /// A canary moved: a step began or ended, a measurement was taken.
    case canary(CanaryProgress)
}

/// What the executor needs to run canaries: providers for analysis, where a resumed sync's
/// canaries were, where to record their progress, and what people asked of them.
public struct CanaryControl: Sendable {
    public var providers: [String: any MetricProvider]
    public var resume: [ResourceID: CanaryProgress]
    public var checkpoint: @Sendable (CanaryProgress) -> Void
    public var request: @Sendable (ResourceID) -> RolloutRequest?
    /// Whether the process is stopping: a canary then takes no further step (it pauses where it
    /// is, its progress saved, and the next start resumes it).
    public var stopRequested: @Sendable () -> Bool = { false }
    /// A forecast's assumption about every analysis measurement: no provider is asked (nil:
    /// measure for real).
    public var assumedAnalysis: AnalysisMeasurement.Phase? = nil

    public init(
        providers: [String: any MetricProvider] = [:],
        resume: [ResourceID: CanaryProgress] = [:],
        checkpoint: @escaping @Sendable (CanaryProgress) -> Void = { _ in },
        request: @escaping @Sendable (ResourceID) -> RolloutRequest? = { _ in nil }
    ) {
        self.providers = providers
        self.resume = resume
        self.checkpoint = checkpoint
        self.request = request
    }
}

/// The outcome of a sync, resource by resource.
public struct SyncResult: Sendable {
    public enum Outcome: Sendable, Hashable {
        case succeeded
        case failed(String)
        /// A canary waits for a person; the sync resumes where it stopped.
        case paused(String)
    }

    public struct ResourceResult: Sendable, Hashable {
        public var id: ResourceID
        public var action: Plan.Action
        public var hook: Bool
        /// `synced`, `pruned`, `failed`, `hook succeeded`, `hook failed`.
        public var status: String
        public var message: String
    }

    public var outcome: Outcome
    public var resources: [ResourceResult]
    /// Whether a canary was aborted (its gate failed): the sync's revision is then rolled back.
    public var canaryAborted: Bool { resources.contains { $0.status == "aborted" } }
    public var startedAt: Double
    public var finishedAt: Double

    public var succeeded: Bool { outcome == .succeeded }
}

/// Carries out a plan (REFERENCE.md §1): stage by stage, each stage's objects applied with
/// server-side apply and waited on until healthy before the next stage starts; hooks created in
/// their phases and waited on until they finish; pruning after the Sync phase; SyncFail hooks
/// when anything fails.
public struct SyncExecutor: Sendable {
    public var backend: any ClusterBackend
    public var driver: SyncDriver
    public var options: SyncOptions

    public init(backend: any ClusterBackend, driver: SyncDriver, options: SyncOptions = SyncOptions()) {
        self.backend = backend
        self.driver = driver
        self.options = options
    }

    struct Failure: Error {
        var message: String
    }

    struct Paused: Error {
        var message: String
    }

    /// Runs the plan. `resuming`: a sync of the same manifests was interrupted, so objects with
    /// nothing left to apply are still waited on in their stage (they may have been applied just
    /// before the interruption and not yet be healthy).
    /// With `hooksOnly`, only the plan's hooks run (a sync operation with nothing to change runs
    /// its hooks, as Argo CD's does).
    public func run(
        _ plan: Plan, canaries: CanaryControl = CanaryControl(), resuming: Bool = false, hooksOnly: Bool = false,
        onEvent: @Sendable (SyncEvent) -> Void = { _ in }
    ) async -> SyncResult {
        let started = driver.now()
        var results: [SyncResult.ResourceResult] = []
        let hooks = plan.summary.hasChanges
        let work =
            hooksOnly
            ? plan.changes.filter { $0.hook != nil }.map(Self.named)
            : (resuming ? plan.changes.filter { $0.hook == nil || hooks } : plan.effectiveChanges).map(Self.named)
        let stages = Set(work.map(\.stage).filter { $0.phase != .syncFail }).sorted()
        do {
            for stage in stages {
                let changes = work.filter { $0.stage == stage }
                onEvent(.stageStarted(stage, resources: changes.count { $0.action != .noop }))
                var settled: [Plan.Change] = []
                // Plain writes go out together; a hook, a canary, a Namespace or a
                // CustomResourceDefinition waits for what precedes it, and what follows waits for it.
                var batch: [Plan.Change] = []
                for change in changes {
                    if change.action == .noop {
                        settled.append(change)
                        continue
                    }
                    if let strategy = change.canary, change.action == .update {
                        try await write(batch, onEvent: onEvent)
                        settled += batch
                        batch = []
                        try await runCanary(change, strategy: strategy, control: canaries, results: &results, onEvent: onEvent)
                        continue
                    }
                    if change.hook != nil || Self.ordersOthers(change.id) {
                        try await write(batch, onEvent: onEvent)
                        settled += batch
                        batch = []
                        try await execute(change, onEvent: onEvent)
                        onEvent(.applied(change.id, change.action))
                        settled.append(change)
                        continue
                    }
                    batch.append(change)
                }
                try await write(batch, onEvent: onEvent)
                settled += batch
                try await settle(stage, settled, results: &results, onEvent: onEvent)
                onEvent(.stageFinished(stage))
            }
        } catch let paused as Paused {
            return SyncResult(outcome: .paused(paused.message), resources: results, startedAt: started, finishedAt: driver.now())
        } catch where Task.isCancelled {
            // Stopped (the daemon's shutdown): like a pause, the revision stays pending with its
            // canary progress saved, and the next sync of the same manifests resumes it.
            return SyncResult(
                outcome: .paused("interrupted: the sync was stopped; the next sync of these manifests resumes here"), resources: results,
                startedAt: started, finishedAt: driver.now())
        } catch {
            let message = (error as? Failure)?.message ?? "\(error)"
            let failHooks = work.filter { $0.stage.phase == .syncFail }
            for hook in failHooks {
                do {
                    try await execute(hook, onEvent: onEvent)
                    results.append(.init(id: hook.id, action: hook.action, hook: true, status: "hook started", message: "SyncFail hook"))
                } catch {
                    let reason = (error as? Failure)?.message ?? "\(error)"
                    results.append(.init(id: hook.id, action: hook.action, hook: true, status: "hook failed", message: reason))
                }
            }
            return SyncResult(outcome: .failed(message), resources: results, startedAt: started, finishedAt: driver.now())
        }
        return SyncResult(outcome: .succeeded, resources: results, startedAt: started, finishedAt: driver.now())
    }

    /// A hook written with `generateName` and no name gets its name now, as the API server
    /// would make it: a new object on every sync (its tracking id names it too).
    static func named(_ change: Plan.Change) -> Plan.Change {
        guard change.hook != nil, var object = change.object, object[path: ["metadata", "name"]] == nil,
            let prefix = object[path: ["metadata", "generateName"]]?.stringValue
        else { return change }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        let name = prefix + String((0..<5).map { _ in alphabet.randomElement()! })
        object.set(.string(name), at: ["metadata", "name"])
        let trackingPath = ["metadata", "annotations", SyncAnnotations.trackingID]
        if let tracking = object[path: trackingPath]?.stringValue, tracking.hasSuffix("/" + prefix) {
            object.set(.string(String(tracking.dropLast(prefix.count)) + name), at: trackingPath)
        }
        var named = change
        named.object = object
        named.id = ResourceID(group: change.id.group, version: change.id.version, kind: change.id.kind, namespace: change.id.namespace, name: name)
        return named
    }

    /// A canary in place of a plain update: promoted, aborted (the sync fails), or paused (the
    /// sync stops here and resumes later).
    private func runCanary(
        _ change: Plan.Change,
        strategy: CanaryStrategy,
        control: CanaryControl,
        results: inout [SyncResult.ResourceResult],
        onEvent: @Sendable (SyncEvent) -> Void
    ) async throws {
        var runner = CanaryRunner(backend: backend, driver: driver, options: options, providers: control.providers)
        runner.assumedAnalysis = control.assumedAnalysis
        let outcome: CanaryRunner.Outcome
        do {
            outcome = try await runner.run(
                change, strategy: strategy, resume: control.resume[change.id],
                checkpoint: { progress in
                    control.checkpoint(progress)
                    onEvent(.canary(progress))
                },
                request: { control.request(change.id) },
                stopRequested: control.stopRequested)
        } catch {
            throw Failure(message: "canary of \(change.id): \(error)")
        }
        switch outcome {
        case .promoted:
            results.append(.init(id: change.id, action: change.action, hook: false, status: "promoted", message: strategy.summary))
            onEvent(.applied(change.id, change.action))
        case .aborted(let reason):
            results.append(.init(id: change.id, action: change.action, hook: false, status: "aborted", message: reason))
            throw Failure(message: "canary of \(change.id) aborted, stable version restored: \(reason)")
        case .paused(let reason):
            results.append(.init(id: change.id, action: change.action, hook: false, status: "paused", message: reason))
            throw Paused(message: "canary of \(change.id) \(reason)")
        }
    }

    /// Kinds whose objects others need to exist first: what is in a Namespace, the custom
    /// resources of a CustomResourceDefinition.
    static func ordersOthers(_ id: ResourceID) -> Bool {
        (id.kind == "Namespace" && id.group.isEmpty) || (id.kind == "CustomResourceDefinition" && id.group == "apiextensions.k8s.io")
    }

    /// How many writes of one batch are in flight at once: enough to keep a remote API server
    /// busy (each write is a round trip), few enough not to flood it.
    static let concurrentWrites = 32

    /// Writes `changes` at once (at most ``concurrentWrites`` in flight), then reports them in
    /// plan order; the first failure in plan order is the batch's.
    private func write(_ changes: [Plan.Change], onEvent: @Sendable (SyncEvent) -> Void) async throws {
        if changes.count <= 1 {
            for change in changes {
                try await execute(change, onEvent: onEvent)
                onEvent(.applied(change.id, change.action))
            }
            return
        }
        let failures: [Int: any Error] = try await withoutActuallyEscaping(onEvent) { onEvent in
            try await withThrowingTaskGroup(of: TaskAnswer<Int, WriteFailure?>.self) { group in
                var failures: [Int: any Error] = [:]
                var next = 0
                func start() {
                    let index = next
                    let change = changes[index]
                    next += 1
                    group.addTask {
                        do {
                            try await execute(change, onEvent: onEvent)
                            return TaskAnswer(index, nil)
                        } catch {
                            return TaskAnswer(index, WriteFailure(error: error))
                        }
                    }
                }
                while next < min(changes.count, Self.concurrentWrites) { start() }
                while let done = try await group.next() {
                    if let failure = done.answer { failures[done.key] = failure.error }
                    if next < changes.count, failures.isEmpty { start() }
                }
                return failures
            }
        }
        for (index, change) in changes.enumerated() {
            if let failure = failures[index] { throw failure }
            onEvent(.applied(change.id, change.action))
        }
    }

    /// Why one write of a batch failed.
    struct WriteFailure: @unchecked Sendable {
        var error: any Error
    }

    /// One write (or delete), retried with backoff when the cluster is briefly unavailable.
    private func execute(_ change: Plan.Change, onEvent: @Sendable (SyncEvent) -> Void) async throws {
        var attempt = 1
        while true {
            let failure: ClusterError
            do throws(ClusterError) {
                try await write(change)
                return
            } catch {
                failure = error
            }
            guard [.unavailable, .internalError, .expired].contains(failure.code), attempt < options.attempts else {
                throw Failure(message: "\(change.id): \(failure.message)")
            }
            onEvent(.retrying(change.id, attempt: attempt, error: failure.message))
            try await driver.pass(Double(1 << (attempt - 1)))
            attempt += 1
        }
    }

    private func write(_ change: Plan.Change) async throws(ClusterError) {
        let apply = ApplyOptions(fieldManager: options.fieldManager, force: true)
        if let hook = change.hook {
            if hook.deletePolicies.contains(.beforeHookCreation) {
                try await deleteIfPresent(change.id)
            }
            _ = try await backend.apply(try object(of: change), options: apply)
            return
        }
        switch change.action {
        case .create, .update:
            _ = try await backend.apply(try object(of: change), options: apply)
        case .replace:
            try await deleteIfPresent(change.id)
            _ = try await backend.apply(try object(of: change), options: apply)
        case .delete:
            try await deleteIfPresent(change.id)
        case .noop:
            break
        }
    }

    private func object(of change: Plan.Change) throws(ClusterError) -> Value {
        guard let object = change.object else { throw ClusterError(.badRequest, "the plan carries no object to apply") }
        return object
    }

    private func deleteIfPresent(_ id: ResourceID) async throws(ClusterError) {
        do throws(ClusterError) {
            try await backend.delete(id, propagation: .background, dryRun: false)
        } catch {
            if error.code != .notFound { throw error }
        }
    }

    /// The live object, or nil when there is none.
    private func fetch(_ id: ResourceID) async throws(ClusterError) -> Value? {
        do throws(ClusterError) {
            return try await backend.get(id)
        } catch {
            if error.code == .notFound { return nil }
            throw error
        }
    }

    /// Waits until every object the stage wrote is healthy (hooks: finished), failing on the
    /// first Degraded object, a failed hook, or the wave timeout.
    /// The objects of `ids`, read with one list per kind and namespace where many share one
    /// (a remote API server answers each read in a round trip; a wave of a thousand objects
    /// is then a handful of lists, not a thousand GETs). What is not listed is read alone.
    private func prefetch(_ ids: [ResourceID]) async -> [ResourceID: Value?] {
        var groups: [GroupKindNamespace: [ResourceID]] = [:]
        for id in ids { groups[GroupKindNamespace(kind: id.groupKind, namespace: id.namespace), default: []].append(id) }
        var found: [ResourceID: Value?] = [:]
        for (group, members) in groups where members.count >= 8 {
            guard let list = try? await backend.list(group.kind, namespace: group.namespace, options: ListOptions()) else { continue }
            var byName: [String: Value] = [:]
            for object in list.items {
                if let name = object[path: ["metadata", "name"]]?.stringValue { byName[name] = object }
            }
            for id in members { found[id] = .some(byName[id.name]) }
        }
        return found
    }

    struct GroupKindNamespace: Hashable {
        var kind: GroupKind
        var namespace: String?
    }

    private func settle(
        _ stage: Plan.Stage,
        _ changes: [Plan.Change],
        results: inout [SyncResult.ResourceResult],
        onEvent: @Sendable (SyncEvent) -> Void
    ) async throws {
        let deadline = driver.now() + options.waveTimeout
        var pending = changes
        var lastLook: (version: Int, waiting: [(ResourceID, Health)])? = nil
        while true {
            try await driver.pass(0)
            // Nothing changed since the last look (a twin between two pod starts): the same
            // objects wait, for the same reasons; only the deadline moved.
            let version = await driver.stateVersion?()
            if let lastLook, let version, version == lastLook.version {
                if driver.now() >= deadline { throw timedOut(stage, lastLook.waiting) }
                try await driver.pass(await pollsUntilChange(deadline: deadline))
                continue
            }
            var still: [Plan.Change] = []
            var waiting: [(ResourceID, Health)] = []
            let listed = await prefetch(pending.filter { $0.action != .delete }.map(\.id))
            for change in pending {
                if change.action == .delete {
                    results.append(.init(id: change.id, action: .delete, hook: false, status: "pruned", message: change.reason))
                    continue
                }
                let read: Value?
                if let known = listed[change.id] { read = known } else { read = try await fetch(change.id) }
                guard let live = read else {
                    still.append(change)
                    waiting.append((change.id, Health(.missing, "not found")))
                    continue
                }
                let health = HealthAssessor.assess(live) ?? Health(.healthy)
                switch health.status {
                case .healthy, .suspended:
                    if change.hook != nil {
                        results.append(.init(id: change.id, action: change.action, hook: true, status: "hook succeeded", message: health.message))
                        onEvent(.hookFinished(change.id, succeeded: true, message: health.message))
                        if change.hook?.deletePolicies.contains(.hookSucceeded) == true { try await deleteIfPresent(change.id) }
                    } else {
                        results.append(.init(id: change.id, action: change.action, hook: false, status: "synced", message: health.description))
                    }
                case .degraded:
                    if change.hook != nil {
                        results.append(.init(id: change.id, action: change.action, hook: true, status: "hook failed", message: health.message))
                        onEvent(.hookFinished(change.id, succeeded: false, message: health.message))
                        if change.hook?.deletePolicies.contains(.hookFailed) == true { try await deleteIfPresent(change.id) }
                        throw Failure(message: "\(change.stage.phase.rawValue) hook \(change.id) failed: \(health.message)")
                    }
                    results.append(.init(id: change.id, action: change.action, hook: false, status: "failed", message: health.description))
                    throw Failure(message: "\(change.id) is Degraded: \(health.message)")
                case .progressing, .missing, .unknown:
                    still.append(change)
                    waiting.append((change.id, health))
                }
            }
            pending = still
            if pending.isEmpty { return }
            if driver.now() >= deadline { throw timedOut(stage, waiting) }
            onEvent(.waiting(stage, pending: waiting))
            if let version { lastLook = (version, waiting) }
            try await driver.pass(options.pollInterval)
        }
    }

    /// How long to wait before the next look, when the last one is still current: one poll
    /// interval; on a cluster that says when it next changes, every poll before the first one
    /// at or after that time (or the deadline), which would all see the same, in one wait.
    private func pollsUntilChange(deadline: Double) async -> Double {
        guard let nextChange = driver.nextChange else { return options.pollInterval }
        let now = driver.now()
        let until = min(await nextChange(), deadline)
        guard until.isFinite, until > now, options.pollInterval > 0 else { return options.pollInterval }
        return max(1, ((until - now) / options.pollInterval).rounded(.up)) * options.pollInterval
    }

    private func timedOut(_ stage: Plan.Stage, _ waiting: [(ResourceID, Health)]) -> Failure {
        let list = waiting.prefix(3).map { "\($0.0) (\($0.1))" }.joined(separator: ", ")
        return Failure(message: "\(stage) did not become healthy within \(Int(options.waveTimeout)) s: \(list)")
    }
}
