import WindlassCluster
import WindlassManifest
import WindlassPlan
import WindlassRollout

extension API {
    /// A sync as it runs (or as the last one ended), stage by stage: what the UI's progress
    /// shows, in `operation` of `GET /api/v1/applications/{name}`.
    public struct OperationView: Codable, Sendable, Hashable {
        public struct Stage: Codable, Sendable, Hashable {
            /// `Sync wave 1`, `PreSync wave 0`, `Prune wave 0`, `Prune last`.
            public var name: String
            public var phase: String
            public var wave: Int
            /// `apply`, `prune` or `pruneLast`.
            public var kind: String
            public var resources: Int
            /// How many of them were written (created, updated or deleted) so far.
            public var applied: Int
            /// `Running` (writing), `Waiting` (for health), `Healthy` (done).
            public var state: String
            /// What the stage waits for: `kind/namespace/name: Progressing`.
            public var pending: [String]
        }

        /// The commit synced (null for a directory source).
        public var revision: String?
        /// `manual`, `auto`, `self-heal`, `heal`, `resume`, `rollback`.
        public var trigger: String
        /// `Running`, then `Succeeded`, `Failed`, `Paused` or `Error`.
        public var phase: String
        public var message: String
        public var startedAt: String
        public var finishedAt: String?
        public var stages: [Stage]
    }

    /// A canary: its strategy's steps, where it is, and every measurement taken.
    public struct RolloutView: Codable, Sendable, Hashable {
        public struct Target: Codable, Sendable, Hashable {
            public var group: String
            public var version: String
            public var kind: String
            public var namespace: String
            public var name: String
            /// `deployment.apps/web` in namespace `shop`, as `POST /api/v1/rollouts/{namespace}/{name}/…` names it.
            public var address: String
        }

        public struct Metric: Codable, Sendable, Hashable {
            public var template: String
            public var name: String
            /// `prometheus`, `web` or `health`.
            public var provider: String
            public var interval: Double
            public var count: Int
            public var successCondition: String?
            public var failureCondition: String?
            public var failureLimit: Int
        }

        public struct Step: Codable, Sendable, Hashable {
            /// `setWeight`, `pause` or `analysis`.
            public var type: String
            public var weight: Int?
            /// A pause's seconds; null for a pause until promoted.
            public var duration: Double?
            public var metrics: [Metric]?
        }

        public struct Measurement: Codable, Sendable, Hashable {
            public var metric: String
            public var at: String
            public var phase: String
            /// The values the provider gave (null for one that was not a number).
            public var values: [Double?]
            public var message: String
        }

        public var target: Target
        /// The RolloutStrategy's name.
        public var strategy: String
        /// The commit the canary rolls out.
        public var revision: String?
        /// `Progressing`, `Paused`, `Promoted` or `Aborted`.
        public var phase: String
        /// The current step, from 0 (equal to `stepCount` once every step is done).
        public var step: Int
        public var stepCount: Int
        public var weight: Int
        public var stepStartedAt: String
        public var message: String
        public var steps: [Step]
        public var measurements: [Measurement]
    }

    /// `GET /api/v1/applications/{name}/rollouts`: the canaries of the sync in progress, or of
    /// the last one that ran any.
    public struct RolloutList: Codable, Sendable {
        public var application: String
        public var items: [RolloutView]
    }

    /// When drift is looked for, and what the last look found, in `drift` of
    /// `GET /api/v1/applications/{name}` (the report itself: `…/drift`).
    public struct DriftStatus: Codable, Sendable, Hashable {
        /// `0 * * * *` (cron) or `every 10m`; null when drift is looked for only on cluster changes
        /// and self-heal rounds.
        public var schedule: String?
        public var selfHeal: Bool
        public var lastCheck: String?
        public var nextCheck: String?
        /// How many resources drifted at the last check.
        public var resources: Int?
        /// Whether a self-heal sync followed the last check.
        public var healed: Bool
    }
}

extension API.RolloutView {
    init(progress: CanaryProgress, strategy: CanaryStrategy?, revision: String?) {
        let id = progress.target
        target = Target(
            group: id.group, version: id.version, kind: id.kind, namespace: id.namespace ?? "", name: id.name,
            address: RESTMapping.reference(id))
        self.strategy = strategy?.id.name ?? ""
        self.revision = revision
        phase = progress.phase.rawValue
        step = progress.step
        stepCount = progress.stepCount
        weight = progress.weight
        stepStartedAt = Timestamp.rfc3339(progress.stepStartedAt)
        message = progress.message
        steps = (strategy?.steps ?? []).map(Step.init)
        measurements = progress.measurements.map {
            Measurement(metric: $0.metric, at: Timestamp.rfc3339($0.at), phase: $0.phase.rawValue, values: $0.values.map { $0.isFinite ? $0 : nil }, message: $0.message)
        }
    }
}

extension API.RolloutView.Step {
    init(_ step: CanaryStrategy.Step) {
        switch step {
        case .setWeight(let weight):
            self.init(type: "setWeight", weight: weight)
        case .pause(let seconds):
            self.init(type: "pause", duration: seconds)
        case .analysis(let templates, _):
            let metrics = templates.flatMap { template in
                template.metrics.map { metric in
                    API.RolloutView.Metric(
                        template: template.id.name, name: metric.name, provider: metric.provider.name, interval: metric.interval, count: metric.count,
                        successCondition: metric.successCondition?.description, failureCondition: metric.failureCondition?.description,
                        failureLimit: metric.failureLimit)
                }
            }
            self.init(type: "analysis", metrics: metrics)
        }
    }
}

extension Metric.Provider {
    /// The provider's name as templates spell it.
    var name: String {
        switch self {
        case .prometheus: "prometheus"
        case .web: "web"
        case .health: "health"
        }
    }
}

// The API's JSON names every field, an absent value as null (synthesized encoding would leave
// the key out).
extension API.OperationView {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(revision, forKey: .revision)
        try c.encode(trigger, forKey: .trigger)
        try c.encode(phase, forKey: .phase)
        try c.encode(message, forKey: .message)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(stages, forKey: .stages)
    }
}

extension API.RolloutView {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(target, forKey: .target)
        try c.encode(strategy, forKey: .strategy)
        try c.encode(revision, forKey: .revision)
        try c.encode(phase, forKey: .phase)
        try c.encode(step, forKey: .step)
        try c.encode(stepCount, forKey: .stepCount)
        try c.encode(weight, forKey: .weight)
        try c.encode(stepStartedAt, forKey: .stepStartedAt)
        try c.encode(message, forKey: .message)
        try c.encode(steps, forKey: .steps)
        try c.encode(measurements, forKey: .measurements)
    }
}

extension API.RolloutView.Metric {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(template, forKey: .template)
        try c.encode(name, forKey: .name)
        try c.encode(provider, forKey: .provider)
        try c.encode(interval, forKey: .interval)
        try c.encode(count, forKey: .count)
        try c.encode(successCondition, forKey: .successCondition)
        try c.encode(failureCondition, forKey: .failureCondition)
        try c.encode(failureLimit, forKey: .failureLimit)
    }
}

extension API.RolloutView.Step {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(weight, forKey: .weight)
        try c.encode(duration, forKey: .duration)
        try c.encode(metrics, forKey: .metrics)
    }
}

extension API.DriftStatus {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(selfHeal, forKey: .selfHeal)
        try c.encode(lastCheck, forKey: .lastCheck)
        try c.encode(nextCheck, forKey: .nextCheck)
        try c.encode(resources, forKey: .resources)
        try c.encode(healed, forKey: .healed)
    }
}
