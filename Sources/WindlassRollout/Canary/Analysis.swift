public import WindlassCluster
public import WindlassManifest
public import WindlassPlan

/// Takes one measurement of a metric.
public protocol MetricProvider: Sendable {
    /// The measured values; empty when the query matched nothing. Throws when the provider
    /// cannot answer (unreachable, an error status, a body it cannot read).
    func measure(_ metric: Metric, arguments: [String: String]) async throws -> [Double]
}

/// The error of a provider, in one line that names the address (credentials redacted).
public struct ProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `{{args.name}}` replaced by the arguments' values.
public func expandArguments(_ text: String, _ arguments: [String: String]) -> String {
    var out = text
    for (name, value) in arguments {
        out = out.replacing("{{args.\(name)}}", with: value)
        out = out.replacing("{{ args.\(name) }}", with: value)
    }
    return out
}

/// How an analysis ended.
public enum AnalysisOutcome: Sendable, Hashable {
    case successful
    case failed(String)
    case inconclusive(String)
}

/// Runs the metrics of an analysis step (REFERENCE.md §5, Argo Rollouts' rules): each metric
/// after its initial delay, every interval, `count` times; a failure beyond `failureLimit`, or
/// more consecutive errors than `consecutiveErrorLimit`, fails the analysis; more inconclusive
/// results than `inconclusiveLimit` make it inconclusive. Measurements go into `progress` as
/// they are taken, so a resumed analysis continues where it was.
public struct AnalysisRunner: Sendable {
    var providers: [String: any MetricProvider]
    var driver: SyncDriver
    var pollInterval: Double
    /// Set for a forecast: every measurement is taken to have this phase, and no provider is
    /// asked (the timing of the analysis is what is simulated, not its metrics).
    var assumed: AnalysisMeasurement.Phase?

    public init(providers: [String: any MetricProvider], driver: SyncDriver, pollInterval: Double = 0.25, assumed: AnalysisMeasurement.Phase? = nil) {
        self.providers = providers
        self.driver = driver
        self.pollInterval = pollInterval
        self.assumed = assumed
    }

    /// Runs an analysis from its start (outside a canary: for tests and for `windlass rollout`).
    public func run(_ metrics: [Metric], arguments: [String: String] = [:]) async throws -> AnalysisOutcome {
        var progress = CanaryProgress(target: ResourceID(group: "", version: "v1", kind: "Analysis", namespace: "-", name: "-"), stepCount: 1, now: driver.now())
        return try await run(metrics, arguments: arguments, progress: &progress, checkpoint: { _ in }, interrupted: { nil as Interruption? })
    }

    struct Counter {
        var taken = 0
        var failures = 0
        var inconclusive = 0
        var consecutiveErrors = 0
        /// The last error's message: a failed analysis says what the provider answered.
        var lastError: String?
        var next: Double
    }

    /// Classifies one measurement.
    static func classify(_ metric: Metric, values: [Double]) -> (AnalysisMeasurement.Phase, String) {
        if values.isEmpty {
            switch metric.noData {
            case .fail: return (.failed, "no data (noData: fail)")
            case .pass: return (.successful, "no data (noData: pass)")
            case .inconclusive: return (.inconclusive, "no data (noData: inconclusive)")
            }
        }
        do {
            if let failure = metric.failureCondition, try failure.holds(for: values) {
                return (.failed, "\(failure) holds")
            }
            if let success = metric.successCondition {
                if try success.holds(for: values) { return (.successful, "\(success) holds") }
                return metric.failureCondition == nil ? (.failed, "\(success) does not hold") : (.inconclusive, "neither condition holds")
            }
            return (.successful, "\(metric.failureCondition.map(\.source) ?? "") does not hold")
        } catch {
            return (.error, error.description)
        }
    }

    func run(
        _ metrics: [Metric],
        arguments: [String: String],
        progress: inout CanaryProgress,
        checkpoint: (CanaryProgress) -> Void,
        interrupted: () async throws -> Interruption?
    ) async throws -> AnalysisOutcome {
        var counters: [String: Counter] = [:]
        for metric in metrics {
            var counter = Counter(next: progress.stepStartedAt + metric.initialDelay)
            // Measurements already taken (a resumed sync) count as if just taken.
            for measurement in progress.measurements where measurement.metric == metric.name {
                Self.count(measurement, into: &counter)
                counter.next = measurement.at + metric.interval
            }
            counters[metric.name] = counter
        }
        while true {
            if let verdict = verdict(metrics, counters) { return verdict }
            switch try await interrupted() {
            case .request(.abort)?: return .failed("aborted by request")
            case .request(.promote)?, .request(.promoteFull)?: return .successful
            case .failing(let reason)?: return .failed(reason)
            case .request(.retry)?, nil: break
            }
            let now = driver.now()
            var due = false
            for metric in metrics where counters[metric.name]!.taken < metric.count && counters[metric.name]!.next <= now {
                due = true
                let measurement = try await measure(metric, arguments: arguments)
                Self.count(measurement, into: &counters[metric.name]!)
                counters[metric.name]!.next = measurement.at + metric.interval
                progress.measurements.append(measurement)
                checkpoint(progress)
                if let verdict = verdict(metrics, counters) { return verdict }
            }
            if !due {
                let wait = metrics.compactMap { counters[$0.name]!.taken < $0.count ? counters[$0.name]!.next - now : nil }.min() ?? pollInterval
                try await driver.pass(min(max(wait, 0.01), pollInterval))
            }
        }
    }

    /// One measurement of `metric`, now: the provider's answer classified, its error, or the
    /// forecast's assumption.
    private func measure(_ metric: Metric, arguments: [String: String]) async throws -> AnalysisMeasurement {
        if let assumed {
            return AnalysisMeasurement(metric: metric.name, at: driver.now(), phase: assumed, values: [], message: "assumed \(assumed.rawValue.lowercased()) (forecast)")
        }
        do {
            guard let provider = providers[Self.providerName(metric.provider)] else { throw ProviderError("no provider for \(Self.providerName(metric.provider))") }
            let values = try await provider.measure(metric, arguments: arguments)
            let (phase, message) = Self.classify(metric, values: values)
            return AnalysisMeasurement(metric: metric.name, at: driver.now(), phase: phase, values: values, message: message)
        } catch {
            // A stopped sync is not a failed measurement: nothing is recorded.
            if Task.isCancelled { throw CancellationError() }
            return AnalysisMeasurement(metric: metric.name, at: driver.now(), phase: .error, values: [], message: "\(error)")
        }
    }

    private static func count(_ measurement: AnalysisMeasurement, into counter: inout Counter) {
        counter.taken += 1
        switch measurement.phase {
        case .successful: counter.consecutiveErrors = 0
        case .failed:
            counter.failures += 1
            counter.consecutiveErrors = 0
        case .inconclusive:
            counter.inconclusive += 1
            counter.consecutiveErrors = 0
        case .error:
            counter.consecutiveErrors += 1
            counter.lastError = measurement.message
            counter.taken -= 1  // An error is not a measurement: it is retried at the next interval.
        }
    }

    /// Failed as soon as any metric fails; otherwise, once every metric has all its
    /// measurements, inconclusive or successful.
    private func verdict(_ metrics: [Metric], _ counters: [String: Counter]) -> AnalysisOutcome? {
        for metric in metrics {
            let counter = counters[metric.name]!
            if counter.failures > metric.failureLimit {
                return .failed("metric \(metric.name) failed \(counter.failures) time\(counter.failures == 1 ? "" : "s") (failureLimit \(metric.failureLimit))")
            }
            if counter.consecutiveErrors > metric.consecutiveErrorLimit {
                let times = counter.consecutiveErrors == 1 ? "once" : "\(counter.consecutiveErrors) times in a row"
                let last = counter.lastError.map { "; last: \($0)" } ?? ""
                return .failed("metric \(metric.name) errored \(times) (consecutiveErrorLimit \(metric.consecutiveErrorLimit))\(last)")
            }
        }
        guard metrics.allSatisfy({ counters[$0.name]!.taken >= $0.count }) else { return nil }
        for metric in metrics where counters[metric.name]!.inconclusive > metric.inconclusiveLimit {
            return .inconclusive("metric \(metric.name) was inconclusive \(counters[metric.name]!.inconclusive) time\(counters[metric.name]!.inconclusive == 1 ? "" : "s") (inconclusiveLimit \(metric.inconclusiveLimit))")
        }
        return .successful
    }

    static func providerName(_ provider: Metric.Provider) -> String {
        switch provider {
        case .prometheus: return "prometheus"
        case .web: return "web"
        case .health: return "health"
        }
    }
}

/// Windlass's own provider: the canary's pods, as [ready fraction, restarts].
public struct HealthProvider: MetricProvider {
    public var backend: any ClusterBackend

    public init(backend: any ClusterBackend) {
        self.backend = backend
    }

    public func measure(_ metric: Metric, arguments: [String: String]) async throws -> [Double] {
        guard let namespace = arguments["namespace"], let canary = arguments["canary"] else { throw ProviderError("health: no canary to look at") }
        let selector = LabelSelector(matchLabels: [CanaryRunner.canaryLabel: canary])
        let pods = try await backend.list(GroupKind(group: "", kind: "Pod"), namespace: namespace, selector: selector).items
        guard !pods.isEmpty else { return [] }
        var ready = 0
        var restarts = 0
        for pod in pods {
            let conditions = pod[path: ["status", "conditions"]]?.sequenceValue ?? []
            if conditions.contains(where: { $0["type"] == "Ready" && $0["status"] == "True" }) { ready += 1 }
            for status in pod[path: ["status", "containerStatuses"]]?.sequenceValue ?? [] {
                restarts += status["restartCount"]?.intValue ?? 0
            }
        }
        return [Double(ready) / Double(pods.count), Double(restarts)]
    }
}
