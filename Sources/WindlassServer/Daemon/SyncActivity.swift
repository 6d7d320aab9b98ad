import Foundation
import Synchronization
import WindlassCluster
import WindlassManifest
import WindlassPipeline
import WindlassPlan
import WindlassRollout

/// What an application's syncs are doing as they do it: the sync in progress (or the last one)
/// stage by stage, and each canary's steps and measurements. The executor's events arrive in
/// order on the sync's task; they are recorded here under a lock as they come (a hop onto the
/// reconciler's actor per event could reorder them), and each change is told to `changed` (the
/// event stream). The last sync and its canaries are kept in `<state>/activity/<app>.json`, so a
/// restarted daemon still shows how a canary ended.
final class SyncActivity: Sendable {
    private struct State: Codable {
        var operation: API.OperationView?
        /// By target address.
        var rollouts: [String: API.RolloutView] = [:]
    }

    private struct Running {
        var strategies: [ResourceID: CanaryStrategy] = [:]
        var revision: String?
    }

    private let state: Mutex<State>
    private let running = Mutex(Running())
    private let file: String
    private let changed: @Sendable () -> Void

    init(stateDirectory: String, application: String, changed: @escaping @Sendable () -> Void) {
        file = stateDirectory + "/activity/" + application + ".json"
        self.changed = changed
        let restored = FileManager.default.contents(atPath: file).flatMap { try? JSONDecoder().decode(State.self, from: $0) } ?? State()
        state = Mutex(restored)
    }

    /// The sync in progress, or the last one.
    var operation: API.OperationView? { state.withLock(\.operation) }

    /// The canaries of the sync in progress, or the last ones that ran, by target.
    var rollouts: [API.RolloutView] {
        state.withLock { $0.rollouts.values.sorted { ($0.target.namespace, $0.target.address) < ($1.target.namespace, $1.target.address) } }
    }

    /// A sync begins: its stages start empty; `strategies` name the canaries it may run.
    func begin(revision: String?, trigger: String, at time: Double, strategies: [ResourceID: CanaryStrategy]) {
        running.withLock { $0 = Running(strategies: strategies, revision: revision) }
        state.withLock { state in
            state.operation = API.OperationView(
                revision: revision, trigger: trigger, phase: "Running", message: "", startedAt: Timestamp.rfc3339(time), finishedAt: nil, stages: [])
        }
        changed()
    }

    /// One of the executor's events.
    func record(_ event: SyncEvent) {
        if case .canary(let progress) = event {
            let (strategy, revision) = running.withLock { ($0.strategies[progress.target], $0.revision) }
            let view = API.RolloutView(progress: progress, strategy: strategy, revision: revision)
            state.withLock { $0.rollouts[view.target.address + "@" + view.target.namespace] = view }
            changed()
            return
        }
        state.withLock { state in
            guard var operation = state.operation else { return }
            switch event {
            case .stageStarted(let stage, let count):
                operation.stages.append(
                    .init(
                        name: stage.description, phase: stage.phase.rawValue, wave: stage.wave, kind: Self.kind(stage.kind), resources: count, applied: 0,
                        state: "Running", pending: []))
            case .applied:
                if !operation.stages.isEmpty { operation.stages[operation.stages.count - 1].applied += 1 }
            case .waiting(let stage, let pending):
                if let index = operation.stages.lastIndex(where: { $0.name == stage.description }) {
                    operation.stages[index].state = "Waiting"
                    operation.stages[index].pending = pending.prefix(20).map { "\(RESTMapping.reference($0.0)): \($0.1)" }
                }
            case .stageFinished(let stage):
                if let index = operation.stages.lastIndex(where: { $0.name == stage.description }) {
                    operation.stages[index].state = "Healthy"
                    operation.stages[index].pending = []
                }
            case .retrying(let id, let attempt, let error):
                operation.message = "retrying \(RESTMapping.reference(id)) (attempt \(attempt)): \(error)"
            case .hookFinished, .canary:
                break
            }
            state.operation = operation
        }
        changed()
    }

    /// The sync ended (a sync that never began, a revision that did not render, leaves the
    /// last operation as it was).
    func finish(outcome: SyncOutcome, revision: String?, message: String, at time: Double) {
        let snapshot = state.withLock { state -> State? in
            guard var operation = state.operation, operation.finishedAt == nil else { return nil }
            switch outcome {
            case .synced, .rolledBack: operation.phase = "Succeeded"
            case .paused: operation.phase = "Paused"
            case .failed: operation.phase = "Failed"
            case .refused, .invalid, .error: operation.phase = "Error"
            }
            // A stage that had not finished stopped where the sync did.
            if operation.phase != "Succeeded" {
                for index in operation.stages.indices where operation.stages[index].state != "Healthy" {
                    operation.stages[index].state = operation.phase == "Paused" ? "Paused" : "Failed"
                }
            }
            operation.revision = operation.revision ?? revision
            operation.message = message
            operation.finishedAt = Timestamp.rfc3339(time)
            state.operation = operation
            return state
        }
        guard let snapshot else { return }
        if let data = try? JSONEncoder().encode(snapshot) {
            SmallFile.write(String(decoding: data, as: UTF8.self), to: file)
        }
        changed()
    }

    private static func kind(_ kind: Plan.Stage.Kind) -> String {
        switch kind {
        case .apply: "apply"
        case .prune: "prune"
        case .pruneLast: "pruneLast"
        }
    }
}
