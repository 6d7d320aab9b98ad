public import WindlassManifest
public import WindlassPlan

/// One measurement of a metric, kept with the canary's progress.
public struct AnalysisMeasurement: Sendable, Hashable {
    public enum Phase: String, Sendable, Hashable {
        case successful = "Successful"
        case failed = "Failed"
        case inconclusive = "Inconclusive"
        case error = "Error"
    }

    public var metric: String
    public var at: Double
    public var phase: Phase
    public var values: [Double]
    public var message: String

    var value: Value {
        [
            "metric": .string(metric), "at": .double(at), "phase": .string(phase.rawValue),
            "values": .sequence(values.map { $0.isNaN ? .string("NaN") : .double($0) }), "message": .string(message),
        ]
    }

    public init(metric: String, at: Double, phase: Phase, values: [Double], message: String) {
        self.metric = metric
        self.at = at
        self.phase = phase
        self.values = values
        self.message = message
    }

    init?(_ value: Value) {
        guard let metric = value["metric"]?.stringValue, let at = value["at"]?.doubleValue,
            let phase = value["phase"]?.stringValue.flatMap(Phase.init(rawValue:))
        else { return nil }
        self.init(
            metric: metric, at: at, phase: phase,
            values: value["values"]?.sequenceValue?.map { $0.stringValue == "NaN" ? .nan : ($0.doubleValue ?? .nan) } ?? [],
            message: value["message"]?.stringValue ?? "")
    }
}

/// Where a canary is: durable, so that a restarted sync resumes at the same step, with the same
/// step start time and the measurements taken so far (Argo Rollouts resumes exactly; Flagger
/// restarts its timer, which users notice).
public struct CanaryProgress: Sendable, Hashable {
    public enum Phase: String, Sendable, Hashable {
        case progressing = "Progressing"
        case paused = "Paused"
        case promoted = "Promoted"
        case aborted = "Aborted"
    }

    public var target: ResourceID
    public var step: Int
    public var stepCount: Int
    public var stepStartedAt: Double
    public var phase: Phase
    public var message: String
    public var weight: Int
    public var measurements: [AnalysisMeasurement]

    public init(target: ResourceID, stepCount: Int, now: Double) {
        self.target = target
        step = 0
        self.stepCount = stepCount
        stepStartedAt = now
        phase = .progressing
        message = ""
        weight = 0
        measurements = []
    }

    public var value: Value {
        [
            "target": .string(target.description), "apiVersion": .string(target.apiVersion), "step": .int(step), "stepCount": .int(stepCount),
            "stepStartedAt": .double(stepStartedAt), "phase": .string(phase.rawValue), "message": .string(message), "weight": .int(weight),
            "measurements": .sequence(measurements.map(\.value)),
        ]
    }

    public init?(_ value: Value) {
        guard let address = value["target"]?.stringValue, let step = value["step"]?.intValue, let started = value["stepStartedAt"]?.doubleValue,
            let phase = value["phase"]?.stringValue.flatMap(Phase.init(rawValue:)), let target = ResourceID(address: address, apiVersion: value["apiVersion"]?.stringValue)
        else { return nil }
        self.target = target
        self.step = step
        stepCount = value["stepCount"]?.intValue ?? 0
        stepStartedAt = started
        self.phase = phase
        message = value["message"]?.stringValue ?? ""
        weight = value["weight"]?.intValue ?? 0
        measurements = value["measurements"]?.sequenceValue?.compactMap(AnalysisMeasurement.init) ?? []
    }
}

extension ResourceID {
    /// Parses `[group/]Kind/[namespace/]name` for the namespaced workloads canaries target.
    init?(address: String, apiVersion: String?) {
        let parts = address.split(separator: "/").map(String.init)
        guard parts.count == 4 || parts.count == 3 else { return nil }
        let gvk = GroupVersionKind(apiVersion: apiVersion ?? "apps/v1", kind: parts.count == 4 ? parts[1] : parts[0])
        self.init(gvk, namespace: parts[parts.count - 2], name: parts[parts.count - 1])
    }
}

/// What a person asked of a canary with `windlass rollout promote|abort|retry`.
public enum RolloutRequest: String, Sendable, Hashable {
    /// Skip the current pause (or an inconclusive analysis).
    case promote
    /// Skip every remaining step.
    case promoteFull = "promote-full"
    case abort
    /// Start the steps again after an abort.
    case retry
}
