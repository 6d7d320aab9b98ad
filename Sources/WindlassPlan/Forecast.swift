public import WindlassCluster
public import WindlassManifest

/// How a plan's sync would go, found by running it on a twin of the live cluster (an
/// in-memory copy of its nodes, workloads, pods and budgets on a virtual clock): how long each
/// wave and canary step takes, the extra capacity the surge needs, the pods that would not be
/// scheduled, what would block a drain, and the health every changed workload ends in.
///
/// Times are seconds from the start of the sync.
public struct Forecast: Sendable, Hashable {
    /// One stage of the sync (a wave of a phase, a prune).
    public struct Wave: Sendable, Hashable {
        public var stage: Plan.Stage
        /// Resources written in it (unchanged ones are not counted).
        public var resources: Int
        public var start: Double
        public var end: Double
        public var duration: Double { end - start }

        public init(stage: Plan.Stage, resources: Int, start: Double, end: Double) {
            self.stage = stage
            self.resources = resources
            self.start = start
            self.end = end
        }
    }

    /// One step of a canary.
    public struct CanaryStep: Sendable, Hashable {
        public var target: ResourceID
        /// 1-based, as `windlass rollout status` counts.
        public var number: Int
        /// `setWeight 20`, `pause 30s`, `analysis success-rate`, `promote`.
        public var summary: String
        public var start: Double
        public var end: Double
        /// What the forecast assumed for it (`assumed promoted at once`, `analysis assumed to pass`).
        public var assumption: String?

        public init(target: ResourceID, number: Int, summary: String, start: Double, end: Double, assumption: String? = nil) {
            self.target = target
            self.number = number
            self.summary = summary
            self.start = start
            self.end = end
            self.assumption = assumption
        }
    }

    /// A pod the scheduler could place nowhere, as the twin left it at the end.
    public struct UnschedulablePod: Sendable, Hashable {
        public var pod: ResourceID
        /// The workload whose controller made it (a Deployment, StatefulSet, DaemonSet, Job or VM).
        public var workload: ResourceID?
        /// The scheduler's words: `0/3 nodes are available: 3 Insufficient cpu.`
        public var reason: String

        public init(pod: ResourceID, workload: ResourceID?, reason: String) {
            self.pod = pod
            self.workload = workload
            self.reason = reason
        }
    }

    /// Something that stalls the rollout, or a drain during or after it.
    public struct Blocker: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable {
            /// A PodDisruptionBudget that allows no disruption: a drain of its pods' nodes stalls.
            case disruptionBudget = "DisruptionBudget"
            /// A required pod anti-affinity that leaves pods unscheduled.
            case antiAffinity = "AntiAffinity"
            /// Pods that fit on no node for want of CPU or memory.
            case capacity = "Capacity"
        }

        public var kind: Kind
        public var object: ResourceID
        public var message: String
        /// When it holds, relative to the sync's start (nil: it still holds at the end).
        public var from: Double?
        public var until: Double?

        public init(kind: Kind, object: ResourceID, message: String, from: Double? = nil, until: Double? = nil) {
            self.kind = kind
            self.object = object
            self.message = message
            self.from = from
            self.until = until
        }
    }

    /// Requests, in milli-units (CPU: millicores; memory: thousandths of a byte, as `Quantity`).
    public struct Capacity: Sendable, Hashable {
        /// The most the running pods asked for above what they asked for before the sync.
        public var peakExtraCPU: Quantity
        public var peakExtraMemory: Quantity
        /// When that peak was reached.
        public var peakAt: Double
        /// What the schedulable nodes had unrequested before the sync.
        public var freeCPU: Quantity
        public var freeMemory: Quantity

        public init(peakExtraCPU: Quantity, peakExtraMemory: Quantity, peakAt: Double, freeCPU: Quantity, freeMemory: Quantity) {
            self.peakExtraCPU = peakExtraCPU
            self.peakExtraMemory = peakExtraMemory
            self.peakAt = peakAt
            self.freeCPU = freeCPU
            self.freeMemory = freeMemory
        }

        /// Whether the cluster has room for the surge (in total; one pod may still fit on no
        /// single node, which the unschedulable pods say).
        public var fits: Bool { peakExtraCPU <= freeCPU && peakExtraMemory <= freeMemory }
    }

    /// The health a changed workload ends in.
    public struct FinalHealth: Sendable, Hashable {
        public var id: ResourceID
        public var health: Health

        public init(id: ResourceID, health: Health) {
            self.id = id
            self.health = health
        }
    }

    /// What happens when the first analysis gate fails.
    public struct AbortPath: Sendable, Hashable {
        public var target: ResourceID
        /// The step whose analysis fails (1-based).
        public var step: Int
        /// When the canary is aborted, from the sync's start.
        public var abortedAt: Double
        /// When the stable version runs alone again.
        public var restoredAt: Double
        /// The reason the runner gave.
        public var message: String

        public init(target: ResourceID, step: Int, abortedAt: Double, restoredAt: Double, message: String) {
            self.target = target
            self.step = step
            self.abortedAt = abortedAt
            self.restoredAt = restoredAt
            self.message = message
        }
    }

    public enum Outcome: Sendable, Hashable {
        case succeeded
        case failed(String)
        /// The virtual time limit was reached before the sync ended.
        case didNotConverge(String)
    }

    public var outcome: Outcome
    /// Total predicted duration of the sync.
    public var duration: Double
    public var waves: [Wave]
    public var canarySteps: [CanaryStep]
    public var capacity: Capacity
    public var unschedulable: [UnschedulablePod]
    public var blockers: [Blocker]
    public var finalHealth: [FinalHealth]
    public var abortPath: AbortPath?
    /// Objects the twin does not model (their kind is stored, nothing acts on it): listed,
    /// never guessed about.
    public var notSimulated: [ResourceID]
    /// What the forecast assumed (start times, gates, pauses).
    public var assumptions: [String]
    /// Wall time the forecast took, and the virtual time it covered.
    public var wallSeconds: Double
    public var virtualSeconds: Double

    public init(
        outcome: Outcome, duration: Double, waves: [Wave], canarySteps: [CanaryStep], capacity: Capacity, unschedulable: [UnschedulablePod],
        blockers: [Blocker], finalHealth: [FinalHealth], abortPath: AbortPath?, notSimulated: [ResourceID], assumptions: [String],
        wallSeconds: Double, virtualSeconds: Double
    ) {
        self.outcome = outcome
        self.duration = duration
        self.waves = waves
        self.canarySteps = canarySteps
        self.capacity = capacity
        self.unschedulable = unschedulable
        self.blockers = blockers
        self.finalHealth = finalHealth
        self.abortPath = abortPath
        self.notSimulated = notSimulated
        self.assumptions = assumptions
        self.wallSeconds = wallSeconds
        self.virtualSeconds = virtualSeconds
    }

    /// Whether the change fits: the sync ends, every pod is scheduled and every changed
    /// workload ends Healthy.
    public var fits: Bool {
        outcome == .succeeded && unschedulable.isEmpty && capacity.fits && finalHealth.allSatisfy { $0.health.status == .healthy }
    }

    /// The one line a reviewer reads first: `Fits: about 2m 30s, 3 waves, peak +1.5 CPU / +3Gi.`
    public var verdict: String {
        var line = fits ? "Fits" : "Does not fit"
        switch outcome {
        case .succeeded: line += ": about \(Self.format(duration))"
        case .failed(let message): line += ": the sync would fail after about \(Self.format(duration)) (\(message))"
        case .didNotConverge(let message): line += ": \(message)"
        }
        let applied = waves.filter { $0.resources > 0 }.count
        line += ", \(applied) wave\(applied == 1 ? "" : "s")"
        if !unschedulable.isEmpty { line += ", \(unschedulable.count) pod\(unschedulable.count == 1 ? "" : "s") unschedulable" }
        if capacity.peakExtraCPU.milli > 0 || capacity.peakExtraMemory.milli > 0 {
            line += ", peak +\(Self.cpu(capacity.peakExtraCPU)) CPU / +\(Self.memory(capacity.peakExtraMemory)) memory"
        }
        return line + "."
    }

    /// `45s`, `2m 30s`, `1h 5m`.
    public static func format(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return seconds < 10 && seconds != seconds.rounded() ? "\(Double(Int(seconds * 10)) / 10)s" : "\(total)s" }
        let hours = total / 3600, minutes = (total % 3600) / 60, rest = total % 60
        if hours > 0 { return minutes == 0 ? "\(hours)h" : "\(hours)h \(minutes)m" }
        return rest == 0 ? "\(minutes)m" : "\(minutes)m \(rest)s"
    }

    /// CPU as kubectl shows it: `250m`, `1.5`.
    public static func cpu(_ quantity: Quantity) -> String {
        if quantity.milli % 1000 != 0 && quantity.milli < 10_000 { return "\(quantity.milli)m" }
        let cores = Double(quantity.milli) / 1000
        return cores == cores.rounded() ? "\(Int(cores))" : String(Double(Int(cores * 10)) / 10)
    }

    /// Memory in binary units: `512Mi`, `3Gi`, `1.5Gi`.
    public static func memory(_ quantity: Quantity) -> String {
        let bytes = Double(quantity.milli) / 1000
        let units: [(String, Double)] = [("Ti", 1_099_511_627_776), ("Gi", 1_073_741_824), ("Mi", 1_048_576), ("Ki", 1024)]
        for (suffix, size) in units where bytes >= size {
            let value = bytes / size
            return value == value.rounded() ? "\(Int(value))\(suffix)" : "\(Double(Int(value * 10)) / 10)\(suffix)"
        }
        return "\(Int(bytes))"
    }
}

/// A plan's forecast, or why there is none (the plan still prints).
public enum ForecastSection: Sendable, Hashable {
    case forecast(Forecast)
    case missing(String)
}
