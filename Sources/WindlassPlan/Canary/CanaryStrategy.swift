public import WindlassCluster
public import WindlassManifest

/// What to do when a measurement returns nothing (REFERENCE.md §5: an explicit choice per metric,
/// the top complaint about canary tools when left implicit).
public enum NoDataPolicy: String, Sendable, Hashable, CaseIterable {
    case fail, inconclusive, pass
}

/// A metric of an analysis: where to measure, how often, and what passes.
public struct Metric: Sendable, Hashable {
    public enum Provider: Sendable, Hashable {
        /// An instant query; the result is the vector's values (or the scalar).
        case prometheus(address: String, query: String)
        /// GET a URL; the result is the number (or boolean, as 1/0) at `jsonPath` in the JSON body.
        case web(url: String, jsonPath: String?)
        /// The canary's pods: the result is [ready fraction, total restarts].
        case health
    }

    public var name: String
    public var provider: Provider
    public var interval: Double
    public var initialDelay: Double
    public var count: Int
    public var successCondition: Expression?
    public var failureCondition: Expression?
    public var failureLimit: Int
    public var inconclusiveLimit: Int
    public var consecutiveErrorLimit: Int
    public var noData: NoDataPolicy
}

/// A `windlass.dev/v1` `AnalysisTemplate`.
public struct AnalysisTemplate: Sendable, Hashable {
    public var id: ResourceID
    /// Declared arguments and their defaults.
    public var arguments: [String: String?]
    public var metrics: [Metric]
}

/// A canary for a Deployment or StatefulSet: a `windlass.dev/v1` `RolloutStrategy`.
public struct CanaryStrategy: Sendable, Hashable {
    public enum Step: Sendable, Hashable {
        /// The canary's share of the replicas, in percent.
        case setWeight(Int)
        /// nil: until promoted.
        case pause(Double?)
        case analysis(templates: [AnalysisTemplate], arguments: [String: String])

        /// `setWeight 20`, `pause 30s`, `pause (until promoted)`, `analysis success-rate`.
        public var summary: String {
            switch self {
            case .setWeight(let weight): return "setWeight \(weight)"
            case .pause(let seconds?): return "pause \(DurationText.format(seconds))"
            case .pause(nil): return "pause (until promoted)"
            case .analysis(let templates, _): return "analysis " + templates.map(\.id.name).joined(separator: "+")
            }
        }

        public var isAnalysis: Bool {
            if case .analysis = self { return true }
            return false
        }
    }

    public var id: ResourceID
    public var target: ResourceID
    public var steps: [Step]

    /// `setWeight 20 → pause 30s → analysis success-rate → setWeight 50 → pause (until promoted)`.
    public var summary: String {
        steps.map(\.summary).joined(separator: " → ")
    }

    /// The canary workload's name.
    public static func canaryName(of target: String) -> String { target + "-canary" }
}

/// Reads and checks the strategies and templates of a set, at plan time.
public enum CanaryStrategies {
    public static let group = "windlass.dev"

    /// Every strategy by its target, and a located error for each mistake (then that strategy is
    /// left out, and the plan, having errors, is not applied).
    public static func read(_ set: ManifestSet) -> (strategies: [ResourceID: CanaryStrategy], diagnostics: [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var templates: [ResourceID: AnalysisTemplate] = [:]
        var reader = Reader(set: set)
        for resource in set.resources where resource.id.group == group && resource.id.kind == "AnalysisTemplate" {
            if let template = reader.template(resource) { templates[resource.id] = template }
        }
        let workloads = Set(set.resources.map(\.id).filter { $0.group == "apps" && ($0.kind == "Deployment" || $0.kind == "StatefulSet") })
        var strategies: [ResourceID: CanaryStrategy] = [:]
        for resource in set.resources where resource.id.group == group && resource.id.kind == "RolloutStrategy" {
            guard let strategy = reader.strategy(resource, templates: templates, workloads: workloads) else { continue }
            if let existing = strategies[strategy.target] {
                reader.problem(resource.span, "\(resource.id): \(strategy.target) already has the strategy \(existing.id.name)")
                continue
            }
            strategies[strategy.target] = strategy
        }
        diagnostics += reader.diagnostics
        diagnostics.sort { ($0.location.path, $0.location.position ?? .unknown) < ($1.location.path, $1.location.position ?? .unknown) }
        return (strategies, diagnostics)
    }

    struct Reader {
        let set: ManifestSet
        var diagnostics: [Diagnostic] = []

        mutating func problem(_ span: SourceSpan, _ message: String) {
            diagnostics.append(Diagnostic(.error, at: set.location(of: span), message))
        }

        mutating func duration(_ value: Value?, field: String, owner: ResourceID, default fallback: Double) -> Double? {
            guard let value, !value.isNull else { return fallback }
            let text = value.stringValue ?? value.scalarText ?? ""
            guard let seconds = DurationText.seconds(text) else {
                problem(value.span, "\(owner): \(field) \"\(text)\" is not a duration (such as 30s, 5m, 1h)")
                return nil
            }
            return seconds
        }

        mutating func count(_ value: Value?, field: String, owner: ResourceID, default fallback: Int, minimum: Int) -> Int? {
            guard let value, !value.isNull else { return fallback }
            guard let number = value.intValue, number >= minimum else {
                problem(value.span, "\(owner): \(field) must be a whole number ≥ \(minimum)")
                return nil
            }
            return number
        }

        mutating func template(_ resource: Resource) -> AnalysisTemplate? {
            let id = resource.id
            let before = diagnostics.count
            var arguments: [String: String?] = [:]
            for argument in resource.object[path: ["spec", "args"]]?.sequenceValue ?? [] {
                guard let name = argument["name"]?.stringValue else {
                    problem(argument.span, "\(id): each of spec.args needs a name")
                    continue
                }
                // Declared without a value too (the strategy's step gives it): not `= nil`, which removes.
                arguments.updateValue(argument["value"].flatMap { $0.stringValue ?? $0.scalarText }, forKey: name)
            }
            guard let metricValues = resource.object[path: ["spec", "metrics"]]?.sequenceValue, !metricValues.isEmpty else {
                problem(resource.span, "\(id): spec.metrics must list at least one metric")
                return nil
            }
            var metrics: [Metric] = []
            let known: Set<String> = [
                "name", "provider", "interval", "initialDelay", "count", "successCondition", "failureCondition", "failureLimit", "inconclusiveLimit",
                "consecutiveErrorLimit", "noData",
            ]
            for value in metricValues {
                guard let mapping = value.mappingValue, let name = value["name"]?.stringValue else {
                    problem(value.span, "\(id): each metric needs a name")
                    continue
                }
                for entry in mapping.entries where !known.contains(entry.key) {
                    problem(entry.keySpan, "\(id): metric \(name): unknown field \"\(entry.key)\"")
                }
                let provider = self.provider(value["provider"], metric: name, owner: id, at: value.span, arguments: Set(arguments.keys))
                let interval = duration(value["interval"], field: "metric \(name): interval", owner: id, default: 10)
                let initialDelay = duration(value["initialDelay"], field: "metric \(name): initialDelay", owner: id, default: 0)
                let count = self.count(value["count"], field: "metric \(name): count", owner: id, default: 1, minimum: 1)
                let failureLimit = self.count(value["failureLimit"], field: "metric \(name): failureLimit", owner: id, default: 0, minimum: 0)
                let inconclusiveLimit = self.count(value["inconclusiveLimit"], field: "metric \(name): inconclusiveLimit", owner: id, default: 0, minimum: 0)
                let errorLimit = self.count(value["consecutiveErrorLimit"], field: "metric \(name): consecutiveErrorLimit", owner: id, default: 4, minimum: 0)
                var noData = NoDataPolicy.inconclusive
                if let text = value["noData"] {
                    if let policy = text.stringValue.flatMap(NoDataPolicy.init(rawValue:)) {
                        noData = policy
                    } else {
                        problem(text.span, "\(id): metric \(name): noData must be fail, inconclusive or pass")
                    }
                }
                let success = condition(value["successCondition"], field: "successCondition", metric: name, owner: id)
                let failure = condition(value["failureCondition"], field: "failureCondition", metric: name, owner: id)
                if value["successCondition"] == nil && value["failureCondition"] == nil {
                    problem(value.span, "\(id): metric \(name) needs a successCondition or a failureCondition")
                }
                guard let provider, let interval, let initialDelay, let count, let failureLimit, let inconclusiveLimit, let errorLimit else { continue }
                metrics.append(
                    Metric(
                        name: name, provider: provider, interval: interval, initialDelay: initialDelay, count: count, successCondition: success,
                        failureCondition: failure, failureLimit: failureLimit, inconclusiveLimit: inconclusiveLimit, consecutiveErrorLimit: errorLimit,
                        noData: noData))
            }
            guard diagnostics.count == before else { return nil }
            return AnalysisTemplate(id: id, arguments: arguments, metrics: metrics)
        }

        mutating func condition(_ value: Value?, field: String, metric: String, owner: ResourceID) -> Expression? {
            guard let value, !value.isNull else { return nil }
            guard let text = value.stringValue else {
                problem(value.span, "\(owner): metric \(metric): \(field) must be a string such as \"result[0] >= 0.99\"")
                return nil
            }
            do {
                return try Expression(parsing: text)
            } catch {
                problem(value.span, "\(owner): metric \(metric): \(field) \"\(text)\": \(error)")
                return nil
            }
        }

        /// Whether `text` is an http(s) URL, or one once `{{args.NAME}}` is replaced (checked again
        /// then); a placeholder naming no declared argument is reported.
        mutating func isURL(_ text: String, field: String, metric: String, owner: ResourceID, arguments: Set<String>, at span: SourceSpan) -> Bool {
            if text.hasPrefix("http://") || text.hasPrefix("https://") { return checkPlaceholders(text, field: field, metric: metric, owner: owner, arguments: arguments, at: span) }
            guard text.hasPrefix("{{") else {
                problem(span, "\(owner): metric \(metric): \(field) must be an http:// or https:// URL")
                return false
            }
            return checkPlaceholders(text, field: field, metric: metric, owner: owner, arguments: arguments, at: span)
        }

        mutating func checkPlaceholders(_ text: String, field: String, metric: String, owner: ResourceID, arguments: Set<String>, at span: SourceSpan) -> Bool {
            var ok = true
            var rest = Substring(text)
            while let open = rest.firstRange(of: "{{") {
                guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                    problem(span, "\(owner): metric \(metric): \(field) has a \"{{\" without \"}}\"")
                    return false
                }
                let inside = String(rest[open.upperBound..<close.lowerBound]).trimmingWhitespace()
                if inside.hasPrefix("args."), arguments.contains(String(inside.dropFirst(5))) {
                    // A declared argument.
                } else if inside.hasPrefix("args.") {
                    problem(span, "\(owner): metric \(metric): \(field) uses {{\(inside)}}, but spec.args declares no \(inside.dropFirst(5))")
                    ok = false
                } else {
                    problem(span, "\(owner): metric \(metric): \(field): {{\(inside)}} is not {{args.NAME}}")
                    ok = false
                }
                rest = rest[close.upperBound...]
            }
            return ok
        }

        mutating func provider(_ value: Value?, metric: String, owner: ResourceID, at span: SourceSpan, arguments: Set<String>) -> Metric.Provider? {
            guard let mapping = value?.mappingValue, mapping.count == 1, let entry = mapping.entries.first else {
                problem(value?.span ?? span, "\(owner): metric \(metric): provider must name exactly one of prometheus, web or health")
                return nil
            }
            switch entry.key {
            case "prometheus":
                guard let address = entry.value["address"]?.stringValue else {
                    problem(entry.value.span, "\(owner): metric \(metric): provider.prometheus.address must be an http:// or https:// URL")
                    return nil
                }
                guard isURL(address, field: "provider.prometheus.address", metric: metric, owner: owner, arguments: arguments, at: entry.value["address"]?.span ?? entry.value.span) else {
                    return nil
                }
                guard let query = entry.value["query"]?.stringValue, !query.trimmingWhitespace().isEmpty else {
                    problem(entry.value.span, "\(owner): metric \(metric): provider.prometheus.query is missing")
                    return nil
                }
                return .prometheus(address: address, query: query)
            case "web":
                guard let url = entry.value["url"]?.stringValue else {
                    problem(entry.value.span, "\(owner): metric \(metric): provider.web.url must be an http:// or https:// URL")
                    return nil
                }
                guard isURL(url, field: "provider.web.url", metric: metric, owner: owner, arguments: arguments, at: entry.value["url"]?.span ?? entry.value.span) else {
                    return nil
                }
                return .web(url: url, jsonPath: entry.value["jsonPath"]?.stringValue)
            case "health":
                return .health
            default:
                problem(entry.keySpan, "\(owner): metric \(metric): unknown provider \"\(entry.key)\" (expected prometheus, web or health)")
                return nil
            }
        }

        mutating func strategy(_ resource: Resource, templates: [ResourceID: AnalysisTemplate], workloads: Set<ResourceID>) -> CanaryStrategy? {
            let id = resource.id
            let before = diagnostics.count
            let spec = resource.object["spec"]
            guard let targetRef = spec?["targetRef"], let kind = targetRef["kind"]?.stringValue, let name = targetRef["name"]?.stringValue else {
                problem(spec?.span ?? resource.span, "\(id): spec.targetRef needs a kind and a name")
                return nil
            }
            guard kind == "Deployment" || kind == "StatefulSet" else {
                problem(targetRef.span, "\(id): spec.targetRef.kind must be Deployment or StatefulSet, not \(kind)")
                return nil
            }
            let target = ResourceID(group: "apps", version: "v1", kind: kind, namespace: id.namespace, name: name)
            if !workloads.contains(target) {
                problem(targetRef.span, "\(id): the target \(target) is not in the manifests")
            }
            var steps: [CanaryStrategy.Step] = []
            for step in spec?[path: ["canary", "steps"]]?.sequenceValue ?? [] {
                guard let mapping = step.mappingValue, mapping.count == 1, let entry = mapping.entries.first else {
                    problem(step.span, "\(id): each step must be one of setWeight, pause or analysis")
                    continue
                }
                switch entry.key {
                case "setWeight":
                    guard let weight = entry.value.intValue, (0...100).contains(weight) else {
                        problem(entry.value.span, "\(id): setWeight must be a whole number from 0 to 100")
                        continue
                    }
                    steps.append(.setWeight(weight))
                case "pause":
                    if let duration = entry.value["duration"] {
                        guard let seconds = self.duration(duration, field: "pause.duration", owner: id, default: 0) else { continue }
                        steps.append(.pause(seconds))
                    } else {
                        steps.append(.pause(nil))
                    }
                case "analysis":
                    var used: [AnalysisTemplate] = []
                    for reference in entry.value["templates"]?.sequenceValue ?? [] {
                        guard let templateName = reference["templateName"]?.stringValue else {
                            problem(reference.span, "\(id): each analysis template needs a templateName")
                            continue
                        }
                        let templateID = ResourceID(group: CanaryStrategies.group, version: "v1", kind: "AnalysisTemplate", namespace: id.namespace, name: templateName)
                        guard let template = templates[templateID] else {
                            problem(reference.span, "\(id): the analysis template \(templateName) is not in the manifests (or has errors)")
                            continue
                        }
                        used.append(template)
                    }
                    if used.isEmpty && entry.value["templates"]?.sequenceValue?.isEmpty ?? true {
                        problem(entry.value.span, "\(id): analysis needs templates")
                    }
                    var arguments: [String: String] = [:]
                    for argument in entry.value["args"]?.sequenceValue ?? [] {
                        if let name = argument["name"]?.stringValue, let value = argument["value"].flatMap({ $0.stringValue ?? $0.scalarText }) {
                            arguments[name] = value
                        }
                    }
                    for template in used {
                        for (name, fallback) in template.arguments where fallback == nil && arguments[name] == nil && !Self.builtIn.contains(name) {
                            problem(entry.value.span, "\(id): analysis \(template.id.name) needs the argument \(name)")
                        }
                    }
                    steps.append(.analysis(templates: used, arguments: arguments))
                default:
                    problem(entry.keySpan, "\(id): unknown step \"\(entry.key)\" (expected setWeight, pause or analysis)")
                }
            }
            guard diagnostics.count == before else { return nil }
            return CanaryStrategy(id: id, target: target, steps: steps)
        }

        /// Arguments every analysis gets: the workload, its canary and its namespace.
        static let builtIn: Set<String> = ["workload", "canary", "namespace"]
    }
}
