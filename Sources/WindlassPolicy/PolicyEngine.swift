public import WindlassCluster
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
}

/// Judges resources against policies: each rule that matches a resource (and is not excluded)
/// gives pass, fail (Enforce), warn (Audit) or skip (a condition anchor did not hold). Rules
/// about Pods also judge the pod templates of Deployments, StatefulSets, DaemonSets,
/// ReplicaSets, Jobs and CronJobs, as Kyverno's rule generation does.
public enum PolicyEngine {
    public static func evaluate(_ policies: [Policy], exceptions: [PolicyException] = [], on resources: [Resource]) -> [PolicyResult] {
        var results: [PolicyResult] = []
        for resource in resources {
            for policy in policies {
                for rule in policy.rules {
                    guard let subject = subject(of: resource, for: rule) else { continue }
                    if let exception = exceptions.first(where: { $0.covers(policy: policy.name, rule: rule.name, resource: resource) }) {
                        results.append(
                            PolicyResult(
                                policy: policy.name, rule: rule.name, checkID: policy.checkID, resource: resource.id, status: .skip,
                                message: "exception \(exception.name)"))
                        continue
                    }
                    results.append(judge(rule, of: policy, on: resource, subject: subject))
                }
            }
        }
        return results
    }

    /// What the rule looks at: the resource itself, or the pod its template describes.
    static func subject(of resource: Resource, for rule: Policy.Rule) -> Value? {
        if rule.exclude.contains(where: { $0.matches(resource) }) { return nil }
        if rule.match.contains(where: { $0.matches(resource) }) { return resource.object }
        guard rule.match.contains(where: \.includesPods), let template = podTemplate(of: resource) else { return nil }
        var pod: Value = ["apiVersion": "v1", "kind": "Pod", "metadata": template["metadata"] ?? [:], "spec": template["spec"] ?? [:]]
        if let namespace = resource.id.namespace { pod.set(.string(namespace), at: ["metadata", "namespace"]) }
        pod.setDefault(.string(resource.id.name), at: ["metadata", "name"])
        let podResource = Resource(
            id: ResourceID(group: "", version: "v1", kind: "Pod", namespace: resource.id.namespace, name: resource.id.name), object: pod, span: resource.span)
        if rule.exclude.contains(where: { $0.matches(podResource) }) { return nil }
        return rule.match.contains(where: { $0.includesPods && $0.matches(podResource) }) ? pod : nil
    }

    static func podTemplate(of resource: Resource) -> Value? {
        switch (resource.id.group, resource.id.kind) {
        case ("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("apps", "ReplicaSet"), ("batch", "Job"):
            return resource.object[path: ["spec", "template"]]
        case ("batch", "CronJob"):
            return resource.object[path: ["spec", "jobTemplate", "spec", "template"]]
        default:
            return nil
        }
    }

    static func judge(_ rule: Policy.Rule, of policy: Policy, on resource: Resource, subject: Value) -> PolicyResult {
        var result = PolicyResult(
            policy: policy.name, rule: rule.name, checkID: policy.checkID, resource: resource.id, status: .pass, message: "")
        let failed = rule.failureAction == .enforce ? PolicyResult.Status.fail : .warn
        let message = expand(rule.message, subject)
        switch rule.validation {
        case .pattern(let pattern):
            switch Pattern.match(subject, pattern) {
            case .pass: break
            case .skip: result.status = .skip
            case .fail(let path, let reason):
                result.status = failed
                result.message = message + " (\(path) \(reason))"
            }
        case .anyPattern(let patterns):
            let outcomes = patterns.map { Pattern.match(subject, $0) }
            if outcomes.contains(.pass) { break }
            if outcomes.allSatisfy({ $0 == .skip }) {
                result.status = .skip
            } else {
                result.status = failed
                let reasons = outcomes.compactMap { outcome -> String? in
                    if case .fail(let path, let reason) = outcome { return "\(path) \(reason)" }
                    return nil
                }
                result.message = message + " (no pattern matched: " + reasons.joined(separator: "; ") + ")"
            }
        case .deny(let any, let all):
            let denied = (!any.isEmpty && any.contains { $0.holds(for: subject) }) || (!all.isEmpty && all.allSatisfy { $0.holds(for: subject) })
            if denied {
                result.status = failed
                result.message = message
            }
        }
        return result
    }

    /// `{{ request.object.metadata.name }}` and the like, replaced by what the resource holds.
    static func expand(_ message: String, _ object: Value) -> String {
        var out = ""
        var rest = Substring(message)
        while let open = rest.firstRange(of: "{{"), let close = rest[open.upperBound...].firstRange(of: "}}") {
            out += rest[..<open.lowerBound]
            let expression = String(rest[open.lowerBound..<close.upperBound])
            if let path = try? KeyPath(parsing: expression) {
                out += path.values(in: object).compactMap { Pattern.text(of: $0) ?? JSONWriter().write($0) }.joined(separator: ", ")
            } else {
                out += expression
            }
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}
