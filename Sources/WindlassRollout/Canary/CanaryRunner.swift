public import WindlassCluster
public import WindlassManifest
public import WindlassPlan

/// Runs one canary (REFERENCE.md §5) without a service mesh: a `<name>-canary` workload with the
/// new pod template beside the stable one, scaled to each step's weight while the stable one is
/// scaled down to keep the total; analysis gates between steps; promotion updates the stable
/// workload and removes the canary; abort restores the stable workload and removes the canary.
public struct CanaryRunner: Sendable {
    /// The label that marks a canary's objects and its pods.
    public static let canaryLabel = "windlass.dev/canary"
    /// The field manager that scales the stable workload during a canary.
    public static let scaler = "windlass-canary"

    public enum Outcome: Sendable, Hashable {
        case promoted
        /// Stopped, stable restored; the reason.
        case aborted(String)
        /// Waiting for a person (a pause without duration, an inconclusive analysis).
        case paused(String)
    }

    var backend: any ClusterBackend
    var driver: SyncDriver
    var options: SyncOptions
    var providers: [String: any MetricProvider]
    /// A forecast's assumption about every analysis measurement (nil: measure).
    var assumedAnalysis: AnalysisMeasurement.Phase? = nil

    /// Runs (or resumes) the canary of `change`. `checkpoint` is called with every change of
    /// progress; `request` returns what a person asked since (promote, abort), once.
    func run(
        _ change: Plan.Change,
        strategy: CanaryStrategy,
        resume: CanaryProgress?,
        checkpoint: (CanaryProgress) -> Void,
        request: () -> RolloutRequest?,
        stopRequested: () -> Bool = { false }
    ) async throws -> Outcome {
        guard let desired = change.object else { throw ProviderError("\(change.id): the plan carries no object") }
        let id = change.id
        let total = desired[path: ["spec", "replicas"]]?.intValue ?? 1
        let canaryID = Self.canaryID(of: id)
        let canaryName = canaryID.name
        var progress = resume ?? CanaryProgress(target: id, stepCount: strategy.steps.count, now: driver.now())
        progress.stepCount = strategy.steps.count
        progress.phase = .progressing
        checkpoint(progress)
        var arguments = ["workload": id.name, "canary": canaryName, "namespace": id.namespace ?? ""]
        let analysis = AnalysisRunner(providers: providers, driver: driver, pollInterval: options.pollInterval, assumed: assumedAnalysis)

        var promoteOnce = false
        steps: while progress.step < strategy.steps.count {
            if stopRequested() {
                progress.phase = .paused
                progress.message = "stopped before step \(progress.step + 1) of \(strategy.steps.count): the process is stopping; the next start resumes it"
                checkpoint(progress)
                return .paused(progress.message)
            }
            switch request() {
            case .abort?: return try await abort(id, canaryID, total: total, progress: &progress, reason: "aborted by request", checkpoint: checkpoint)
            case .promoteFull?: break steps
            case .promote?: promoteOnce = true
            case .retry?, nil: break
            }
            switch strategy.steps[progress.step] {
            case .setWeight(let weight):
                let canaryReplicas = RolloutMath.canaryReplicas(replicas: total, weight: weight)
                let canary = Self.canary(of: desired, name: canaryName, replicas: canaryReplicas)
                _ = try await backend.apply(canary, options: ApplyOptions(fieldManager: options.fieldManager, force: true))
                try await scale(id, to: total - canaryReplicas)
                progress.weight = weight
                checkpoint(progress)
                switch try await waitHealthy([canaryID, id], canary: canaryID, request: request) {
                case .healthy, .interrupted(.request(.promote)):
                    // Promote ends the wait: the step is done.
                    break
                case .interrupted(.request(.promoteFull)):
                    break steps
                case .interrupted(.request(.abort)):
                    return try await abort(id, canaryID, total: total, progress: &progress, reason: "aborted by request", checkpoint: checkpoint)
                case .interrupted(.failing(let reason)), .failed(let reason):
                    return try await abort(id, canaryID, total: total, progress: &progress, reason: reason, checkpoint: checkpoint)
                case .interrupted(.request(.retry)):
                    break
                }
            case .pause(let seconds?):
                while driver.now() < progress.stepStartedAt + seconds && !promoteOnce {
                    if stopRequested() {
                        // The pause keeps its start: the next start waits out only what is left.
                        progress.message = "stopped in the pause of step \(progress.step + 1) of \(strategy.steps.count): the process is stopping; the next start resumes it"
                        checkpoint(progress)
                        return .paused(progress.message)
                    }
                    switch try await interruption(canaryID, request: request) {
                    case .request(.abort)?: return try await abort(id, canaryID, total: total, progress: &progress, reason: "aborted by request", checkpoint: checkpoint)
                    case .failing(let reason)?: return try await abort(id, canaryID, total: total, progress: &progress, reason: reason, checkpoint: checkpoint)
                    case .request(.promoteFull)?: break steps
                    case .request(.promote)?: promoteOnce = true
                    case .request(.retry)?, nil: try await driver.pass(min(options.pollInterval, max(0, progress.stepStartedAt + seconds - driver.now())))
                    }
                }
                promoteOnce = false
            case .pause(nil):
                if promoteOnce {
                    promoteOnce = false
                } else {
                    progress.phase = .paused
                    progress.message = "paused at step \(progress.step + 1) of \(strategy.steps.count) until promoted"
                    checkpoint(progress)
                    return .paused(progress.message)
                }
            case .analysis(let templates, let given):
                for template in templates {
                    for (name, fallback) in template.arguments where arguments[name] == nil {
                        if let fallback { arguments[name] = fallback }
                    }
                }
                arguments.merge(given) { _, new in new }
                let metrics = templates.flatMap(\.metrics).map { Self.expanded($0, arguments) }
                var skipRest = false
                let outcome: AnalysisOutcome
                if promoteOnce {
                    promoteOnce = false
                    outcome = .successful
                } else {
                    outcome = try await analysis.run(metrics, arguments: arguments, progress: &progress, checkpoint: checkpoint) {
                        let found = try await interruption(canaryID, request: request)
                        if found == .request(.promoteFull) { skipRest = true }
                        return found
                    }
                }
                switch outcome {
                case .successful:
                    if skipRest { break steps }
                case .failed(let reason):
                    return try await abort(id, canaryID, total: total, progress: &progress, reason: "analysis failed: \(reason)", checkpoint: checkpoint)
                case .inconclusive(let reason):
                    progress.phase = .paused
                    progress.message = "analysis inconclusive at step \(progress.step + 1): \(reason); promote or abort"
                    checkpoint(progress)
                    return .paused(progress.message)
                }
            }
            progress.step += 1
            progress.stepStartedAt = driver.now()
            progress.measurements = []
            progress.phase = .progressing
            checkpoint(progress)
        }

        // Promote: the stable workload takes the new template at full size; the canary goes.
        _ = try await backend.apply(desired, options: ApplyOptions(fieldManager: options.fieldManager, force: true))
        if case .failed(let failure) = try await waitHealthy([id], canary: nil, request: { nil }) {
            return try await abort(id, canaryID, total: total, progress: &progress, reason: "promotion failed: \(failure)", checkpoint: checkpoint)
        }
        try await deleteIfPresent(canaryID)
        progress.phase = .promoted
        progress.weight = 100
        progress.message = "promoted"
        checkpoint(progress)
        return .promoted
    }

    /// The canary workload: the new template under another name, with the canary label on the
    /// object, its selector and its pods (so the stable workload's ReplicaSets never own them).
    static func canary(of desired: Value, name: String, replicas: Int) -> Value {
        var canary = desired
        canary.set(.string(name), at: ["metadata", "name"])
        canary.remove(at: ["metadata", "annotations", SyncAnnotations.trackingID])
        canary.remove(at: ["metadata", "labels", SyncAnnotations.applicationLabel])
        canary.set(.string(name), at: ["metadata", "labels", canaryLabel])
        canary.set(.string(name), at: ["spec", "selector", "matchLabels", canaryLabel])
        canary.set(.string(name), at: ["spec", "template", "metadata", "labels", canaryLabel])
        canary.set("canary", at: ["spec", "template", "metadata", "labels", "windlass.dev/track"])
        canary.set(.int(replicas), at: ["spec", "replicas"])
        if desired["kind"]?.stringValue == "StatefulSet" {
            canary.set(.string(name), at: ["spec", "serviceName"])
        }
        return canary
    }

    static func expanded(_ metric: Metric, _ arguments: [String: String]) -> Metric {
        var out = metric
        switch metric.provider {
        case .prometheus(let address, let query):
            out.provider = .prometheus(address: expandArguments(address, arguments), query: expandArguments(query, arguments))
        case .web(let url, let path):
            out.provider = .web(url: expandArguments(url, arguments), jsonPath: path)
        case .health:
            break
        }
        return out
    }

    /// Scales the stable workload as its own field manager, leaving Windlass's other fields alone.
    private func scale(_ id: ResourceID, to replicas: Int) async throws {
        let patch: Value = [
            "apiVersion": .string(id.apiVersion), "kind": .string(id.kind),
            "metadata": ["name": .string(id.name), "namespace": .string(id.namespace ?? "")], "spec": ["replicas": .int(replicas)],
        ]
        _ = try await backend.apply(patch, options: ApplyOptions(fieldManager: Self.scaler, force: true))
    }

    private func abort(
        _ id: ResourceID,
        _ canaryID: ResourceID,
        total: Int,
        progress: inout CanaryProgress,
        reason: String,
        checkpoint: (CanaryProgress) -> Void
    ) async throws -> Outcome {
        try await scale(id, to: total)
        try await deleteIfPresent(canaryID)
        progress.phase = .aborted
        progress.weight = 0
        progress.message = reason
        checkpoint(progress)
        _ = try await waitHealthy([id], canary: nil, request: { nil })
        return .aborted(reason)
    }

    private func deleteIfPresent(_ id: ResourceID) async throws {
        do throws(ClusterError) {
            try await backend.delete(id, propagation: .background, dryRun: false)
        } catch {
            if error.code != .notFound { throw error }
        }
    }

    /// How a wait for health ended.
    enum Wait: Equatable {
        case healthy
        /// One is Degraded, or the wave timeout passed.
        case failed(String)
        case interrupted(Interruption)
    }

    /// Waits until the objects are healthy, looking at each poll for a person's request and
    /// for `canary`'s pods that will not start (so neither waits for the wave timeout).
    private func waitHealthy(_ ids: [ResourceID], canary: ResourceID?, request: () -> RolloutRequest?) async throws -> Wait {
        let deadline = driver.now() + options.waveTimeout
        while true {
            try await driver.pass(0)
            if let canary, let found = try await interruption(canary, request: request) { return .interrupted(found) }
            var pending: [String] = []
            for id in ids {
                let object: Value
                do throws(ClusterError) {
                    object = try await backend.get(id)
                } catch {
                    if error.code == .notFound { pending.append("\(id) not found"); continue }
                    throw error
                }
                let health = HealthAssessor.assess(object) ?? Health(.healthy)
                switch health.status {
                case .healthy, .suspended: continue
                case .degraded: return .failed("\(id) is Degraded: \(health.message)")
                default: pending.append("\(id) (\(health))")
                }
            }
            if pending.isEmpty { return .healthy }
            if driver.now() >= deadline { return .failed("not healthy within \(Int(options.waveTimeout)) s: " + pending.joined(separator: ", ")) }
            try await driver.pass(options.pollInterval)
        }
    }

    /// A person's request (taken), or else the first of the canary's pods that will not start
    /// on its own: a container waiting in CrashLoopBackOff, ImagePullBackOff and the like (as
    /// Argo CD's pod health has it, Degraded at once), or restarted ``restartLimit`` times.
    func interruption(_ canary: ResourceID, request: () -> RolloutRequest?) async throws -> Interruption? {
        if let asked = request() { return .request(asked) }
        let pods = try await backend.list(
            GroupKind(group: "", kind: "Pod"), namespace: canary.namespace, selector: LabelSelector(matchLabels: [Self.canaryLabel: canary.name]))
        func name(_ pod: Value) -> String { pod[path: ["metadata", "name"]]?.stringValue ?? "?" }
        for pod in pods.items.sorted(by: { name($0) < name($1) }) {
            let name = name(pod)
            let health: Health = HealthAssessor.pod(pod)
            if health.status == HealthStatus.degraded { return .failing("canary pod \(name) will not start: \(health.message)") }
            let statuses = pod[path: ["status", "containerStatuses"]]?.sequenceValue ?? []
            let restarts = statuses.reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) }
            if restarts >= Self.restartLimit { return .failing("canary pod \(name) restarted \(restarts) times") }
        }
        return nil
    }

    /// The canary workload of `target`: `<name>-canary` beside it.
    static func canaryID(of target: ResourceID) -> ResourceID {
        ResourceID(
            group: target.group, version: target.version, kind: target.kind, namespace: target.namespace, name: CanaryStrategy.canaryName(of: target.name))
    }

    /// Restarts of a canary pod that fail the canary.
    static let restartLimit = 3
}

/// What cuts a canary's step short: a person's request, or canary pods that will not start.
public enum Interruption: Sendable, Hashable {
    case request(RolloutRequest)
    case failing(String)
}
