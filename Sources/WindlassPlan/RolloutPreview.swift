import WindlassCluster
public import WindlassManifest

/// The rollout a changed workload would go through.
public struct RolloutPreview: Sendable, Hashable {
    public struct ImageChange: Sendable, Hashable {
        public var container: String
        public var from: String?
        public var to: String?
    }

    public var id: ResourceID
    /// `RollingUpdate`, `Recreate`, `OnDelete`.
    public var strategy: String
    public var replicas: Int?
    /// Pods (or nodes, for a DaemonSet) above the desired count during the rollout.
    public var maxSurge: Int?
    /// Pods (or nodes) that may be unavailable during the rollout.
    public var maxUnavailable: Int?
    /// One sentence: `rolling update of 10 pods, up to 3 extra and 2 unavailable at a time`.
    public var summary: String
    public var images: [ImageChange]

    /// The preview for a workload whose pod template changes; nil for other changes.
    static func make(id: ResourceID, before: Value, after: Value, fields: [FieldChange]) -> RolloutPreview? {
        guard fields.contains(where: { $0.path.hasPrefix("spec.template") }) else { return nil }
        let images = imageChanges(before: before, after: after)
        let replicas = after[path: ["spec", "replicas"]]?.intValue
        switch (id.group, id.kind) {
        case ("apps", "Deployment"):
            let type = after[path: ["spec", "strategy", "type"]]?.stringValue ?? "RollingUpdate"
            let count = replicas ?? 1
            if type == "Recreate" {
                return RolloutPreview(
                    id: id, strategy: type, replicas: count, summary: "recreate: all \(pods(count)) stopped, then \(count) new started",
                    images: images)
            }
            let rolling = after[path: ["spec", "strategy", "rollingUpdate"]]
            do {
                let budget = try RolloutMath.budget(maxSurge: rolling?["maxSurge"], maxUnavailable: rolling?["maxUnavailable"], replicas: count)
                return RolloutPreview(
                    id: id, strategy: type, replicas: count, maxSurge: budget.maxSurge, maxUnavailable: budget.maxUnavailable,
                    summary: "rolling update of \(pods(count)), up to \(budget.maxSurge) extra and \(budget.maxUnavailable) unavailable at a time",
                    images: images)
            } catch {
                return RolloutPreview(id: id, strategy: type, replicas: count, summary: "rolling update refused: \(error.message)", images: images)
            }
        case ("apps", "StatefulSet"):
            let type = after[path: ["spec", "updateStrategy", "type"]]?.stringValue ?? "RollingUpdate"
            let count = replicas ?? 1
            if type == "OnDelete" {
                return RolloutPreview(id: id, strategy: type, replicas: count, summary: "on delete: pods change only when deleted", images: images)
            }
            let partition = after[path: ["spec", "updateStrategy", "rollingUpdate", "partition"]]?.intValue ?? 0
            let last = count - 1
            let range = partition >= last ? "pod \(last)" : "pods \(last) down to \(max(partition, 0))"
            return RolloutPreview(
                id: id, strategy: type, replicas: count, maxSurge: 0, maxUnavailable: 1,
                summary: "rolling update of \(range), one at a time, each Ready before the next", images: images)
        case ("apps", "DaemonSet"):
            let type = after[path: ["spec", "updateStrategy", "type"]]?.stringValue ?? "RollingUpdate"
            if type == "OnDelete" {
                return RolloutPreview(id: id, strategy: type, summary: "on delete: pods change only when deleted", images: images)
            }
            let rolling = after[path: ["spec", "updateStrategy", "rollingUpdate"]]
            let unavailable = rolling?["maxUnavailable"].map(FieldDiff.scalarText) ?? "1"
            let surge = rolling?["maxSurge"].map(FieldDiff.scalarText) ?? "0"
            return RolloutPreview(
                id: id, strategy: type, summary: "rolling update node by node, \(unavailable) unavailable and \(surge) extra at a time", images: images)
        default:
            return nil
        }
    }

    /// The canary a strategy runs: each step, with the canary and stable pods at each weight.
    static func canary(id: ResourceID, strategy: CanaryStrategy, before: Value, after: Value) -> RolloutPreview {
        let replicas = after[path: ["spec", "replicas"]]?.intValue ?? 1
        let steps = strategy.steps.map { step -> String in
            switch step {
            case .setWeight(let weight):
                let canary = RolloutMath.canaryReplicas(replicas: replicas, weight: weight)
                return "setWeight \(weight) (\(canary) canary, \(replicas - canary) stable)"
            case .pause(let seconds?): return "pause \(DurationText.format(seconds))"
            case .pause(nil): return "pause until promoted"
            case .analysis(let templates, _): return "analysis " + templates.map(\.id.name).joined(separator: "+")
            }
        }
        return RolloutPreview(
            id: id, strategy: "Canary", replicas: replicas,
            summary: "canary of \(pods(replicas)) (\(strategy.id.name)): " + (steps + ["promote"]).joined(separator: " → "),
            images: imageChanges(before: before, after: after))
    }

    private static func pods(_ n: Int) -> String { n == 1 ? "1 pod" : "\(n) pods" }

    private static func imageChanges(before: Value, after: Value) -> [ImageChange] {
        func images(_ object: Value) -> [(String, String)] {
            (object[path: ["spec", "template", "spec", "containers"]]?.sequenceValue ?? []).compactMap { container in
                guard let name = container["name"]?.stringValue else { return nil }
                return (name, container["image"]?.stringValue ?? "")
            }
        }
        let old = Dictionary(images(before), uniquingKeysWith: { a, _ in a })
        let new = images(after)
        var out: [ImageChange] = []
        for (name, image) in new where old[name] != image {
            out.append(ImageChange(container: name, from: old[name], to: image))
        }
        let newNames = Set(new.map(\.0))
        for (name, image) in images(before) where !newNames.contains(name) {
            out.append(ImageChange(container: name, from: image, to: nil))
        }
        return out
    }
}
