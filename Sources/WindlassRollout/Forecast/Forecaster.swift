public import WindlassCluster
public import WindlassManifest
public import WindlassPlan
import Synchronization

/// Forecasts a plan's sync: copies what matters of the live cluster into a twin (an in-memory
/// cluster on a virtual clock, made by ``makeTwin``), runs the sync there with the executor
/// that runs real syncs, waves, hooks and canary steps included, and reports how it went.
/// Analysis gates are assumed to pass; the first gate's abort path is run on a second twin.
/// Pauses that wait for a person are assumed promoted at once. The live cluster is only read.
public struct Forecaster: Sendable {
    public var makeTwin: TwinFactory
    public var options: SyncOptions
    /// The most virtual time one run may cover: a twin that has not finished by then is
    /// reported as not converging.
    public var virtualLimit: Double

    public init(makeTwin: @escaping TwinFactory, options: SyncOptions = SyncOptions(), virtualLimit: Double = 24 * 3600) {
        self.makeTwin = makeTwin
        self.options = options
        self.virtualLimit = virtualLimit
    }

    /// The kinds a twin copies besides the plan's own: what decides where pods go and how a
    /// rollout proceeds.
    public static let twinKinds: [GroupKind] = [
        GroupKind(group: "", kind: "Namespace"), GroupKind(group: "", kind: "Node"), GroupKind(group: "", kind: "Pod"),
        GroupKind(group: "apps", kind: "ReplicaSet"), GroupKind(group: "apps", kind: "Deployment"), GroupKind(group: "apps", kind: "StatefulSet"),
        GroupKind(group: "apps", kind: "DaemonSet"), GroupKind(group: "batch", kind: "Job"), GroupKind(group: "policy", kind: "PodDisruptionBudget"),
        GroupKind(group: "", kind: "PersistentVolumeClaim"), GroupKind(group: "", kind: "ResourceQuota"),
        GroupKind(group: "kubevirt.io", kind: "VirtualMachine"), GroupKind(group: "kubevirt.io", kind: "VirtualMachineInstance"),
        GroupKind(group: "apiextensions.k8s.io", kind: "CustomResourceDefinition"),
    ]

    /// Reads what a twin of `backend` needs for `plan`: the ``twinKinds`` and the kinds the
    /// plan writes, and how long each workload's pods took from creation to readiness.
    public static func capture(from backend: any ClusterBackend, for plan: Plan, now: Double) async throws(ClusterError) -> TwinState {
        let served = Set(try await backend.kinds())
        var kinds = twinKinds.filter(served.contains)
        for kind in Set(plan.changes.map(\.id.groupKind)).sorted(by: { $0.description < $1.description }) where served.contains(kind) && !kinds.contains(kind) {
            kinds.append(kind)
        }
        var objects: [Value] = []
        var observed: [String: [Double]] = [:]
        for kind in kinds {
            let items = try await backend.list(kind, namespace: nil, selector: .everything).items
            objects.append(contentsOf: items)
            guard kind == GroupKind(group: "", kind: "Pod") else { continue }
            for pod in items {
                guard let key = TwinState.workloadKey(ofPod: pod), let delay = Self.observedStartDelay(pod) else { continue }
                observed[key, default: []].append(delay)
            }
        }
        var delays: [String: Double] = [:]
        for (key, values) in observed { delays[key] = values.sorted()[values.count / 2] }
        // Workloads with no live pod to learn from: their probes say when they can be ready.
        for change in plan.changes {
            guard let object = change.object, let template = object[path: ["spec", "template"]] else { continue }
            let key = TwinState.workloadKey(namespace: change.id.namespace ?? "", name: change.id.name)
            if delays[key] == nil, let delay = probeStartDelay(template) { delays[key] = delay }
        }
        return TwinState(objects: objects, startDelays: delays, observed: Set(observed.keys), start: now)
    }

    /// How long a running, ready pod that never restarted took from creation to readiness.
    static func observedStartDelay(_ pod: Value) -> Double? {
        guard pod[path: ["status", "phase"]]?.stringValue == "Running",
            let created = pod[path: ["metadata", "creationTimestamp"]]?.stringValue.flatMap(Timestamp.parse),
            let ready = (pod[path: ["status", "conditions"]]?.sequenceValue ?? []).first(where: { $0["type"] == "Ready" && $0["status"] == "True" }),
            let readyAt = ready["lastTransitionTime"]?.stringValue.flatMap(Timestamp.parse)
        else { return nil }
        let restarts = (pod[path: ["status", "containerStatuses"]]?.sequenceValue ?? []).reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) }
        guard restarts == 0, readyAt >= created else { return nil }
        return readyAt - created
    }

    /// What a pod template's probes imply: ready once the first readiness (or startup) probe
    /// can succeed, at its `initialDelaySeconds` (at least the core's 1 s start); nil with no
    /// probe.
    static func probeStartDelay(_ template: Value) -> Double? {
        var delay: Double? = nil
        for container in template[path: ["spec", "containers"]]?.sequenceValue ?? [] {
            let startup = container[path: ["startupProbe", "initialDelaySeconds"]]?.doubleValue ?? 0
            guard container["readinessProbe"] != nil || container["startupProbe"] != nil else { continue }
            let readiness = container[path: ["readinessProbe", "initialDelaySeconds"]]?.doubleValue ?? 0
            delay = max(delay ?? 1, startup + readiness, 1)
        }
        return delay
    }

    /// The forecast of `plan` from `state`.
    public func forecast(_ plan: Plan, from state: TwinState) async throws(ClusterError) -> Forecast {
        let wall = ContinuousClock.now
        let run = try await simulate(plan, from: state, assumed: .successful)
        var abortPath: Forecast.AbortPath? = nil
        var virtualSeconds = run.end - state.start
        if let gate = Self.firstGate(in: plan) {
            let failing = try await simulate(plan, from: state, assumed: .failed)
            virtualSeconds += failing.end - state.start
            if let aborted = failing.recorder.abortedAt(gate.target) {
                abortPath = Forecast.AbortPath(
                    target: gate.target, step: gate.step, abortedAt: aborted.at - state.start, restoredAt: failing.end - state.start, message: aborted.message)
            }
        }
        var assumptions = Self.startAssumptions(plan, state)
        assumptions += run.recorder.assumptions
        let elapsed = ContinuousClock.now - wall
        return Forecast(
            outcome: run.outcome, duration: run.end - state.start, waves: run.recorder.waves(until: run.end, origin: state.start),
            canarySteps: run.recorder.canarySteps(plan, origin: state.start), capacity: run.capacity, unschedulable: run.unschedulable,
            blockers: run.blockers, finalHealth: run.finalHealth, abortPath: abortPath, notSimulated: Self.notSimulated(plan),
            assumptions: assumptions,
            wallSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, virtualSeconds: virtualSeconds)
    }

    /// The first canary step that is an analysis, and its canary.
    static func firstGate(in plan: Plan) -> (target: ResourceID, step: Int)? {
        for change in plan.effectiveChanges.sorted(by: { $0.stage < $1.stage }) where change.action == .update {
            guard let strategy = change.canary else { continue }
            if let index = strategy.steps.firstIndex(where: \.isAnalysis) {
                return (change.id, index + 1)
            }
        }
        return nil
    }

    /// Kinds whose behaviour in a real cluster comes from a controller the twin does not run:
    /// their objects are created in the twin, but nothing acts on them.
    static func notSimulated(_ plan: Plan) -> [ResourceID] {
        let unmodelled: Set<GroupKind> = [
            GroupKind(group: "batch", kind: "CronJob"), GroupKind(group: "autoscaling", kind: "HorizontalPodAutoscaler"),
            GroupKind(group: "autoscaling.k8s.io", kind: "VerticalPodAutoscaler"),
        ]
        let modelledGroups: Set<String> = ["windlass.dev", "kubevirt.io"]
        return plan.effectiveChanges.filter { change in
            guard change.action != .delete else { return false }
            let kind = change.id.groupKind
            if unmodelled.contains(kind) { return true }
            return RESTMapping.builtIn.resource(for: kind) == nil && !modelledGroups.contains(kind.group)
        }.map(\.id).sorted { $0.description < $1.description }
    }

    /// Where each changed workload's start-to-ready time came from.
    static func startAssumptions(_ plan: Plan, _ state: TwinState) -> [String] {
        var observed: [String] = []
        var probed: [String] = []
        var defaulted: [String] = []
        for change in plan.effectiveChanges where change.action == .create || change.action == .update {
            guard let template = change.object?[path: ["spec", "template"]] else { continue }
            let name = "\(change.id.kind.lowercased())/\(change.id.name)"
            if template[path: ["metadata", "annotations", "sim.windlass.dev/start-seconds"]] != nil { continue }
            let key = TwinState.workloadKey(namespace: change.id.namespace ?? "", name: change.id.name)
            if let delay = state.startDelays[key] {
                if state.observed.contains(key) { observed.append("\(name) \(Forecast.format(delay))") } else { probed.append("\(name) \(Forecast.format(delay))") }
            } else {
                defaulted.append(name)
            }
        }
        var lines: [String] = []
        if !observed.isEmpty {
            lines.append("Pods become ready as long after creation as the live cluster's did (median, creation to Ready): " + Self.shortList(observed) + ".")
        }
        if !probed.isEmpty {
            lines.append("Pods become ready when their first readiness probe can pass (initialDelaySeconds, at least 1s): " + Self.shortList(probed) + ".")
        }
        if !defaulted.isEmpty {
            lines.append("No live pods or probes to learn from; pods ready 1s after they start: " + Self.shortList(defaulted) + ".")
        }
        return lines
    }

    static func shortList(_ items: [String], limit: Int = 6) -> String {
        items.count <= limit ? items.joined(separator: ", ") : items.prefix(limit).joined(separator: ", ") + " and \(items.count - limit) more"
    }

    // MARK: - One run

    struct Run {
        var outcome: Forecast.Outcome
        var end: Double
        var recorder: Recorder
        var capacity: Forecast.Capacity
        var unschedulable: [Forecast.UnschedulablePod]
        var blockers: [Forecast.Blocker]
        var finalHealth: [Forecast.FinalHealth]
    }

    /// Past the virtual time limit.
    struct DidNotConverge: Error, CustomStringConvertible {
        var limit: Double
        var description: String { "the twin did not finish within \(Forecast.format(limit)) of virtual time" }
    }

    private func simulate(_ plan: Plan, from state: TwinState, assumed: AnalysisMeasurement.Phase) async throws(ClusterError) -> Run {
        let twin = try makeTwin(state)
        let recorder = Recorder(now: { twin.virtualNow() }, plan: plan)
        let workloads = Self.changedWorkloads(plan)
        let sampler = Sampler(twin: twin, watched: workloads)
        try await sampler.sample()
        let baseline = await sampler.baseline()
        let limit = virtualLimit
        let start = state.start
        var driver = SyncDriver(
            now: { twin.virtualNow() },
            pass: { seconds in
                if twin.virtualNow() - start >= limit {
                    recorder.reachedLimit()
                    throw DidNotConverge(limit: limit)
                }
                try await twin.advance(by: min(seconds, max(0, start + limit - twin.virtualNow())))
                try await sampler.sample()
            })
        driver.stateVersion = { await twin.stateVersion() }
        driver.nextChange = { await twin.nextChange() }
        var control = CanaryControl(
            checkpoint: { recorder.record($0) },
            request: { recorder.promotionFor($0) })
        control.assumedAnalysis = assumed
        let executor = SyncExecutor(backend: twin, driver: driver, options: options)
        let result = await executor.run(plan, canaries: control) { recorder.record($0) }
        try await sampler.sample()
        let outcome: Forecast.Outcome
        switch result.outcome {
        case .succeeded: outcome = .succeeded
        case .failed(let message) where recorder.limitReached: outcome = .didNotConverge(message)
        case .failed(let message): outcome = .failed(message)
        case .paused(let message): outcome = .failed("paused: \(message)")
        }
        let unschedulable = try await Self.unschedulablePods(on: twin)
        var finalHealth: [Forecast.FinalHealth] = []
        for id in workloads {
            do throws(ClusterError) {
                let object = try await twin.get(id)
                if let health = HealthAssessor.assess(object) { finalHealth.append(Forecast.FinalHealth(id: id, health: health)) }
            } catch {
                if error.code != .notFound { throw error }
                finalHealth.append(Forecast.FinalHealth(id: id, health: Health(.missing, "not created")))
            }
        }
        let end = twin.virtualNow()
        return Run(
            outcome: outcome, end: end, recorder: recorder, capacity: await sampler.capacity(baseline: baseline, origin: start),
            unschedulable: unschedulable, blockers: await sampler.blockers(unschedulable: unschedulable, origin: start, end: end), finalHealth: finalHealth)
    }

    /// The workloads the plan creates or updates, whose health and budgets the forecast reports.
    static func changedWorkloads(_ plan: Plan) -> [ResourceID] {
        let kinds = Set(ClusterWait.workloadKinds)
        return plan.effectiveChanges.filter { ($0.action == .create || $0.action == .update) && $0.hook == nil && kinds.contains($0.id.groupKind) }
            .map(\.id).sorted { $0.description < $1.description }
    }

    /// Pods left Pending because no node takes them, with the workload that made them.
    static func unschedulablePods(on twin: any SimulatedCluster) async throws(ClusterError) -> [Forecast.UnschedulablePod] {
        let pods = try await twin.list(GroupKind(group: "", kind: "Pod"), namespace: nil, selector: .everything).items
        let replicaSets = try await twin.list(GroupKind(group: "apps", kind: "ReplicaSet"), namespace: nil, selector: .everything).items
        var ownerOfReplicaSet: [String: Value] = [:]
        for replicaSet in replicaSets {
            guard let uid = replicaSet[path: ["metadata", "uid"]]?.stringValue,
                let owner = (replicaSet[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? []).first(where: { $0["controller"]?.boolValue == true })
            else { continue }
            ownerOfReplicaSet[uid] = owner
        }
        var found: [Forecast.UnschedulablePod] = []
        for pod in pods where pod[path: ["spec", "nodeName"]] == nil {
            guard let condition = (pod[path: ["status", "conditions"]]?.sequenceValue ?? []).first(where: { $0["type"] == "PodScheduled" }),
                condition["status"] == "False", condition["reason"] == "Unschedulable", let id = ResourceID(object: pod)
            else { continue }
            var owner = (pod[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? []).first { $0["controller"]?.boolValue == true }
            if owner?["kind"] == "ReplicaSet", let uid = owner?["uid"]?.stringValue, let deployment = ownerOfReplicaSet[uid] { owner = deployment }
            let workload = owner.flatMap { reference -> ResourceID? in
                guard let kind = reference["kind"]?.stringValue, let name = reference["name"]?.stringValue else { return nil }
                return ResourceID(GroupVersionKind(apiVersion: reference["apiVersion"]?.stringValue ?? "v1", kind: kind), namespace: id.namespace, name: name)
            }
            found.append(Forecast.UnschedulablePod(pod: id, workload: workload, reason: condition["message"]?.stringValue ?? "Unschedulable"))
        }
        return found.sorted { ($0.workload?.description ?? "", $0.pod.name) < ($1.workload?.description ?? "", $1.pod.name) }
    }
}

// MARK: - What a run records

/// The sync's events with their virtual times, and the canaries' steps.
final class Recorder: Sendable {
    private struct State {
        var stages: [(stage: Plan.Stage, resources: Int, start: Double, end: Double?)] = []
        /// Per canary: when each step began, and how it ended.
        var steps: [ResourceID: [Int: Double]] = [:]
        var ended: [ResourceID: (phase: CanaryProgress.Phase, at: Double, message: String)] = [:]
        var current: [ResourceID: Int] = [:]
        var promoted: Set<String> = []
        var assumptions: [String] = []
        /// The run stopped at the virtual time limit.
        var limitReached = false
    }

    private let state = Mutex(State())
    private let now: @Sendable () -> Double
    private let strategies: [ResourceID: CanaryStrategy]

    init(now: @escaping @Sendable () -> Double, plan: Plan) {
        self.now = now
        var strategies: [ResourceID: CanaryStrategy] = [:]
        for change in plan.changes { if let strategy = change.canary { strategies[change.id] = strategy } }
        self.strategies = strategies
    }

    func record(_ event: SyncEvent) {
        let time = now()
        state.withLock { state in
            switch event {
            case .stageStarted(let stage, let resources): state.stages.append((stage, resources, time, nil))
            case .stageFinished(let stage):
                if let index = state.stages.lastIndex(where: { $0.stage == stage }) { state.stages[index].end = time }
            case .applied, .waiting, .hookFinished, .retrying, .canary: break
            }
        }
    }

    func record(_ progress: CanaryProgress) {
        let time = now()
        state.withLock { state in
            let target = progress.target
            state.current[target] = progress.step
            if state.steps[target]?[progress.step] == nil, progress.phase == .progressing || progress.phase == .paused {
                state.steps[target, default: [:]][progress.step] = progress.stepStartedAt
            }
            if progress.phase == .promoted || progress.phase == .aborted, state.ended[target] == nil {
                state.ended[target] = (progress.phase, time, progress.message)
            }
        }
    }

    func reachedLimit() { state.withLock { $0.limitReached = true } }

    var limitReached: Bool { state.withLock { $0.limitReached } }

    /// Promotes a pause that waits for a person, once, as the forecast assumes one would.
    func promotionFor(_ target: ResourceID) -> RolloutRequest? {
        guard let strategy = strategies[target] else { return nil }
        return state.withLock { state -> RolloutRequest? in
            guard let step = state.current[target], step < strategy.steps.count, case .pause(nil) = strategy.steps[step] else { return nil }
            let key = "\(target)#\(step)"
            guard !state.promoted.contains(key) else { return nil }
            state.promoted.insert(key)
            state.assumptions.append("Step \(step + 1) of \(target.kind.lowercased())/\(target.name) waits for a person (pause until promoted): assumed promoted at once.")
            return .promote
        }
    }

    var assumptions: [String] {
        var lines = state.withLock { $0.assumptions }
        let analysed = strategies.filter { $0.value.steps.contains(where: \.isAnalysis) }
        if !analysed.isEmpty {
            lines.append("Analysis gates are assumed to pass, each taking its metrics' count × interval; the first gate's abort path is run apart.")
        }
        return lines
    }

    func abortedAt(_ target: ResourceID) -> (at: Double, message: String)? {
        state.withLock { state in
            guard let ended = state.ended[target], ended.phase == .aborted else { return nil }
            return (ended.at, ended.message)
        }
    }

    func waves(until end: Double, origin: Double) -> [Forecast.Wave] {
        state.withLock { state in
            state.stages.map { Forecast.Wave(stage: $0.stage, resources: $0.resources, start: $0.start - origin, end: ($0.end ?? end) - origin) }
        }
    }

    func canarySteps(_ plan: Plan, origin: Double) -> [Forecast.CanaryStep] {
        state.withLock { state in
            var out: [Forecast.CanaryStep] = []
            for (target, started) in state.steps.sorted(by: { $0.key.description < $1.key.description }) {
                guard let strategy = strategies[target] else { continue }
                let ended = state.ended[target]
                let indices = started.keys.sorted()
                for (position, index) in indices.enumerated() where index < strategy.steps.count {
                    let start = started[index]!
                    let next = position + 1 < indices.count ? started[indices[position + 1]] : nil
                    guard let end = next ?? ended?.at else { continue }
                    var assumption: String? = nil
                    switch strategy.steps[index] {
                    case .pause(nil): assumption = "assumed promoted at once"
                    case .analysis: assumption = "assumed to pass"
                    default: break
                    }
                    out.append(Forecast.CanaryStep(
                        target: target, number: index + 1, summary: strategy.steps[index].summary, start: start - origin, end: end - origin,
                        assumption: assumption))
                }
                if let ended, ended.phase == .promoted, let last = indices.last.flatMap({ started[$0] }) {
                    let lastEnd = out.last(where: { $0.target == target })?.end ?? (last - origin)
                    out.append(Forecast.CanaryStep(target: target, number: strategy.steps.count + 1, summary: "promote", start: lastEnd, end: ended.at - origin))
                }
            }
            return out
        }
    }

}

/// Reads the twin after each pass: requests of running pods, budgets that allow no disruption.
actor Sampler {
    let twin: any SimulatedCluster
    /// The changed workloads, whose budgets are watched.
    let watched: [ResourceID]
    private var version = -1
    private var firstCPU = Quantity.zero
    private var firstMemory = Quantity.zero
    private var peakCPU = Quantity.zero
    private var peakMemory = Quantity.zero
    private var peakAt: Double = 0
    private var free: (cpu: Quantity, memory: Quantity)? = nil
    private var sampled = false
    /// Budgets with no disruption allowed: since when, and the last message.
    private var blocked: [ResourceID: (from: Double, until: Double?, message: String)] = [:]
    private var watchedLabels: [(namespace: String, labels: [String: String])]? = nil

    init(twin: any SimulatedCluster, watched: [ResourceID]) {
        self.twin = twin
        self.watched = watched
    }

    func baseline() -> (cpu: Quantity, memory: Quantity) { (firstCPU, firstMemory) }

    func sample() async throws(ClusterError) {
        let current = await twin.stateVersion()
        guard current != version || !sampled else { return }
        version = current
        let now = twin.virtualNow()
        let (cpu, memory) = try await twin.requested()
        if !sampled {
            sampled = true
            firstCPU = cpu
            firstMemory = memory
            free = try await freeCapacity(requested: (cpu, memory))
        }
        if cpu > peakCPU || memory > peakMemory {
            if cpu > peakCPU { peakCPU = cpu }
            if memory > peakMemory { peakMemory = memory }
            peakAt = now
        }
        try await sampleBudgets(at: now)
    }

    private func freeCapacity(requested: (Quantity, Quantity)) async throws(ClusterError) -> (cpu: Quantity, memory: Quantity) {
        var cpu = Quantity.zero
        var memory = Quantity.zero
        for node in try await twin.list(GroupKind(group: "", kind: "Node"), namespace: nil, selector: .everything).items {
            let ready = (node[path: ["status", "conditions"]]?.sequenceValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
            guard ready, node[path: ["spec", "unschedulable"]]?.boolValue != true else { continue }
            cpu = cpu + (node[path: ["status", "allocatable", "cpu"]].flatMap(Quantity.init) ?? .zero)
            memory = memory + (node[path: ["status", "allocatable", "memory"]].flatMap(Quantity.init) ?? .zero)
        }
        return (Quantity(milli: max(0, cpu.milli - requested.0.milli)), Quantity(milli: max(0, memory.milli - requested.1.milli)))
    }

    private func sampleBudgets(at now: Double) async throws(ClusterError) {
        guard !watched.isEmpty else { return }
        let budgets = try await twin.list(GroupKind(group: "policy", kind: "PodDisruptionBudget"), namespace: nil, selector: .everything).items
        guard !budgets.isEmpty else { return }
        if watchedLabels == nil {
            var labels: [(String, [String: String])] = []
            for id in watched {
                guard let object = try? await twin.get(id) else { continue }
                var map: [String: String] = [:]
                for entry in object[path: ["spec", "template", "metadata", "labels"]]?.mappingValue?.entries ?? [] {
                    if let text = entry.value.stringValue { map[entry.key] = text }
                }
                labels.append((id.namespace ?? "", map))
            }
            watchedLabels = labels
        }
        for budget in budgets {
            guard let id = ResourceID(object: budget), let selectorValue = budget[path: ["spec", "selector"]],
                let selector = try? LabelSelector(selectorValue), !selector.isEmpty,
                watchedLabels?.contains(where: { $0.namespace == (id.namespace ?? "") && selector.matches($0.labels) }) == true
            else { continue }
            let allowed = budget[path: ["status", "disruptionsAllowed"]]?.intValue ?? 1
            let expected = budget[path: ["status", "expectedPods"]]?.intValue ?? 0
            if allowed == 0 && expected > 0 {
                let healthy = budget[path: ["status", "currentHealthy"]]?.intValue ?? 0
                let desired = budget[path: ["status", "desiredHealthy"]]?.intValue ?? 0
                let message = "allows no disruption (\(healthy) healthy, \(desired) must stay of \(expected) expected): a drain of a node running its pods would stall"
                if var current = blocked[id], current.until == nil {
                    current.message = message
                    blocked[id] = current
                } else {
                    blocked[id] = (now, nil, message)
                }
            } else if var current = blocked[id], current.until == nil {
                current.until = now
                blocked[id] = current
            }
        }
    }

    func capacity(baseline: (cpu: Quantity, memory: Quantity), origin: Double) -> Forecast.Capacity {
        Forecast.Capacity(
            peakExtraCPU: Quantity(milli: max(0, peakCPU.milli - baseline.cpu.milli)),
            peakExtraMemory: Quantity(milli: max(0, peakMemory.milli - baseline.memory.milli)),
            peakAt: max(0, peakAt - origin), freeCPU: free?.cpu ?? .zero, freeMemory: free?.memory ?? .zero)
    }

    func blockers(unschedulable: [Forecast.UnschedulablePod], origin: Double, end: Double) -> [Forecast.Blocker] {
        var out: [Forecast.Blocker] = []
        for (id, window) in blocked.sorted(by: { $0.key.description < $1.key.description }) {
            out.append(Forecast.Blocker(kind: .disruptionBudget, object: id, message: window.message, from: window.from - origin, until: window.until.map { $0 - origin }))
        }
        var seen: Set<String> = []
        for pod in unschedulable {
            let kind: Forecast.Blocker.Kind = pod.reason.contains("anti-affinity") ? .antiAffinity : .capacity
            let object = pod.workload ?? pod.pod
            guard seen.insert("\(kind.rawValue) \(object)").inserted else { continue }
            let count = unschedulable.filter { ($0.workload ?? $0.pod) == object }.count
            out.append(Forecast.Blocker(
                kind: kind, object: object, message: "\(count) pod\(count == 1 ? "" : "s") cannot be scheduled: \(pod.reason)"))
        }
        return out
    }

}

