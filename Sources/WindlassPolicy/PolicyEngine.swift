public import WindlassManifest

/// One rule's verdict on one resource.
public struct PolicyResult: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case pass, fail, warn, skip
    }

    public var policy: String
    public var rule: String
    public var checkID: String?
    public var resource: ResourceID
    public var status: Status
    public var message: String
    /// The PolicyException that turned this result into a skip.
    public var exception: String? = nil
    /// Where the resource was written, when it came from a manifest set.
    public var location: SourceLocation? = nil

    /// `file:line:col` or the resource's address when it has no file.
    public var place: String { location?.description ?? resource.description }
}

/// Judges resources against policies: each rule that matches a resource (and is not excluded)
/// gives pass, fail (Enforce), warn (Audit) or skip (a condition anchor did not hold). Rules
/// about Pods also judge the pod templates of Deployments, StatefulSets, DaemonSets,
/// ReplicaSets, Jobs and CronJobs, as Kyverno's rule generation does.
public enum PolicyEngine {
    /// Every rule of every policy on every resource it matches, in resource order. Namespace
    /// selectors see the labels of the Namespaces among `resources`, over `namespaceLabels`
    /// (those of the live cluster, say).
    public static func evaluate(
        _ policies: [Policy], exceptions: [PolicyException] = [], on resources: [Resource],
        namespaceLabels: [String: [String: String]] = [:]
    ) -> [PolicyResult] {
        evaluate(policies, exceptions: exceptions, on: resources, in: nil, namespaceLabels: namespaceLabels)
    }

    /// The same over a manifest set, each result located in its file.
    public static func evaluate(
        _ policies: [Policy], exceptions: [PolicyException] = [], on set: ManifestSet, namespaceLabels: [String: [String: String]] = [:]
    ) -> [PolicyResult] {
        evaluate(policies, exceptions: exceptions, on: set.resources, in: set, namespaceLabels: namespaceLabels)
    }

    /// A set's policies and exceptions over a manifest set.
    public static func evaluate(_ policies: PolicySet, on set: ManifestSet, namespaceLabels: [String: [String: String]] = [:]) -> [PolicyResult] {
        evaluate(policies.policies, exceptions: policies.exceptions, on: set.resources, in: set, namespaceLabels: namespaceLabels)
    }

    /// The report of a set's policies on a desired set, as plan and sync show it; namespace
    /// selectors also see the labels of `liveNamespaces` (the cluster's Namespace objects).
    public static func judge(_ desired: ManifestSet, by policies: PolicySet, liveNamespaces: [Value] = []) -> PolicyReport {
        var labels: [String: [String: String]] = [:]
        for object in liveNamespaces {
            guard let name = object[path: ["metadata", "name"]]?.stringValue else { continue }
            var map: [String: String] = [:]
            for entry in object[path: ["metadata", "labels"]]?.mappingValue?.entries ?? [] {
                if let value = entry.value.stringValue { map[entry.key] = value }
            }
            labels[name] = map
        }
        return PolicyReport(results: evaluate(policies, on: desired, namespaceLabels: labels), resources: desired.resources.count)
    }

    static func evaluate(
        _ policies: [Policy], exceptions: [PolicyException], on resources: [Resource], in set: ManifestSet?,
        namespaceLabels: [String: [String: String]]
    ) -> [PolicyResult] {
        let scope = Scope(resources: resources, namespaceLabels: namespaceLabels)
        let chunk = 256
        let chunks = (resources.count + chunk - 1) / chunk
        return parallelMap(count: chunks, concurrency: ManifestLoader.processorCount) { index in
            var results: [PolicyResult] = []
            for resource in resources[index * chunk..<min(index * chunk + chunk, resources.count)] {
                let first = results.count
                evaluate(policies, exceptions: exceptions, on: resource, scope: scope, into: &results)
                if let set, results.count > first {
                    let location = set.location(of: resource)
                    for i in first..<results.count { results[i].location = location }
                }
            }
            return results
        }.flatMap { $0 }
    }

    /// What rules can see beyond the resource itself.
    struct Scope: Sendable {
        var namespaceLabels: [String: [String: String]]
        /// RolloutStrategies by the workload they target: `namespace/Kind/name`.
        var strategies: [String: Value] = [:]

        init(resources: [Resource], namespaceLabels: [String: [String: String]]) {
            self.namespaceLabels = namespaceLabels
            for resource in resources {
                switch (resource.id.group, resource.id.kind) {
                case ("", "Namespace"):
                    self.namespaceLabels[resource.id.name] = resource.labels
                case ("windlass.dev", "RolloutStrategy"):
                    guard let kind = resource.object[path: ["spec", "targetRef", "kind"]]?.stringValue,
                        let name = resource.object[path: ["spec", "targetRef", "name"]]?.stringValue
                    else { continue }
                    strategies["\(resource.id.namespace ?? "")/\(kind)/\(name)"] = resource.object
                default:
                    continue
                }
            }
        }

        func strategy(for id: ResourceID) -> Value? { strategies["\(id.namespace ?? "")/\(id.kind)/\(id.name)"] }
    }

    static func evaluate(_ policies: [Policy], exceptions: [PolicyException], on resource: Resource, scope: Scope, into results: inout [PolicyResult]) {
        var pod = PodView(resource: resource)
        for policy in policies {
            for rule in policy.rules {
                guard let subject = subject(of: resource, for: rule, namespaceLabels: scope.namespaceLabels, pod: &pod) else { continue }
                if let exception = exceptions.first(where: { $0.covers(policy: policy.name, rule: rule.name, resource: resource, namespaceLabels: scope.namespaceLabels) }) {
                    results.append(
                        PolicyResult(
                            policy: policy.name, rule: rule.name, checkID: policy.checkID, resource: resource.id, status: .skip,
                            message: "exception \(exception.name)", exception: exception.name))
                    continue
                }
                results.append(judge(rule, of: policy, on: resource, subject: subject, scope: scope))
            }
        }
    }

    /// The pod a workload's template describes, built once per resource when a Pod rule first
    /// asks for it.
    struct PodView {
        let resource: Resource
        private var built: (pod: Value, resource: Resource)??

        init(resource: Resource) { self.resource = resource }

        mutating func get() -> (pod: Value, resource: Resource)? {
            if let built { return built }
            var made: (Value, Resource)?
            if let template = PolicyEngine.podTemplate(of: resource) {
                var pod: Value = ["apiVersion": "v1", "kind": "Pod", "metadata": template["metadata"] ?? [:], "spec": template["spec"] ?? [:]]
                if let namespace = resource.id.namespace { pod.set(.string(namespace), at: ["metadata", "namespace"]) }
                pod.setDefault(.string(resource.id.name), at: ["metadata", "name"])
                let id = ResourceID(group: "", version: "v1", kind: "Pod", namespace: resource.id.namespace, name: resource.id.name)
                made = (pod, Resource(id: id, object: pod, span: resource.span))
            }
            built = .some(made)
            return made
        }
    }

    /// What the rule looks at: the resource itself, or the pod its template describes.
    static func subject(of resource: Resource, for rule: Policy.Rule, namespaceLabels: [String: [String: String]], pod: inout PodView) -> Value? {
        if rule.exclude.contains(where: { $0.matches(resource, namespaceLabels: namespaceLabels) }) { return nil }
        if rule.match.contains(where: { $0.matches(resource, namespaceLabels: namespaceLabels) }) { return resource.object }
        guard rule.matchesPods, let (object, podResource) = pod.get() else { return nil }
        if rule.exclude.contains(where: { $0.matches(podResource, namespaceLabels: namespaceLabels) }) { return nil }
        // Not `? object : nil`: Value is nil-literal expressible, and that nil would be a null pod.
        guard rule.match.contains(where: { $0.includesPods && $0.matches(podResource, namespaceLabels: namespaceLabels) }) else { return nil }
        return object
    }

    static func podTemplate(of resource: Resource) -> Value? {
        switch (resource.id.group, resource.id.kind) {
        case ("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("apps", "ReplicaSet"), ("batch", "Job"),
            ("", "ReplicationController"):
            return resource.object[path: ["spec", "template"]]
        case ("batch", "CronJob"):
            return resource.object[path: ["spec", "jobTemplate", "spec", "template"]]
        default:
            return nil
        }
    }

    static func judge(_ rule: Policy.Rule, of policy: Policy, on resource: Resource, subject: Value, scope: Scope) -> PolicyResult {
        var result = PolicyResult(
            policy: policy.name, rule: rule.name, checkID: policy.checkID, resource: resource.id, status: .pass, message: "")
        let failed = rule.failureAction == .enforce ? PolicyResult.Status.fail : .warn
        // The context and the message are made only when needed: most results pass.
        func context() -> Value { PolicyContext.make(subject: subject, rolloutStrategy: scope.strategy(for: resource.id)) }
        switch rule.validation {
        case .pattern(let pattern):
            switch Pattern.match(subject, pattern) {
            case .pass: break
            case .skip: result.status = .skip
            case .fail(let path, let reason):
                result.status = failed
                result.message = expand(rule.message, context()) + " (\(path) \(reason))"
            }
        case .anyPattern(let patterns):
            let outcomes = patterns.map { Pattern.match(subject, $0) }
            if outcomes.contains(.pass) { break }
            if outcomes.allSatisfy({ $0 == .skip }) {
                result.status = .skip
            } else {
                result.status = failed
                // Each reason once: patterns often fail on the same missing path.
                var reasons: [String] = []
                for case .fail(let path, let reason) in outcomes where !reasons.contains("\(path) \(reason)") {
                    reasons.append("\(path) \(reason)")
                }
                result.message = expand(rule.message, context()) + " (no pattern matched: " + reasons.joined(separator: "; ") + ")"
            }
        case .deny(let any, let all):
            let context = context()
            let denied = (!any.isEmpty && any.contains { $0.holds(in: context) }) || (!all.isEmpty && all.allSatisfy { $0.holds(in: context) })
            if denied {
                result.status = failed
                result.message = expand(rule.message, context)
            }
        }
        return result
    }

    /// `{{ request.object.metadata.name }}` and the like, replaced by what the context holds.
    static func expand(_ message: String, _ context: Value) -> String {
        var out = ""
        var rest = Substring(message)
        while let open = rest.firstRange(of: "{{"), let close = rest[open.upperBound...].firstRange(of: "}}") {
            out += rest[..<open.lowerBound]
            let expression = String(rest[open.lowerBound..<close.upperBound])
            if let path = try? ConditionKey(parsing: expression) {
                out += path.values(in: context).compactMap { Pattern.text(of: $0) ?? JSONWriter().write($0) }.joined(separator: ", ")
            } else {
                out += expression
            }
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}
