import WindlassCluster
import WindlassManifest

/// PodDisruptionBudgets: how many of the pods a budget selects are healthy, how many must stay
/// (`minAvailable`, or all but `maxUnavailable`), and so how many may be evicted now.
struct DisruptionController: Controller {
    static let kind = GroupKind(group: "policy", kind: "PodDisruptionBudget")

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        var changed = false
        for budget in context.store.list(Self.kind, namespace: nil) {
            let status = Self.status(of: budget, in: context.store)
            guard status != budget["status"] else { continue }
            _ = try context.store.updateStatus(ObjectBuilder.id(budget), status: status, now: context.now)
            changed = true
        }
        return changed
    }

    static func status(of budget: Value, in store: ObjectStore) -> Value {
        let pods = selected(by: budget, in: store)
        let expected = pods.count
        let healthy = pods.filter(ObjectBuilder.isReady).count
        var desired = expected
        if let minAvailable = budget[path: ["spec", "minAvailable"]] {
            desired = (try? RolloutMath.resolve(minAvailable, of: expected, roundUp: true, field: "minAvailable")) ?? expected
        } else if let maxUnavailable = budget[path: ["spec", "maxUnavailable"]] {
            desired = expected - ((try? RolloutMath.resolve(maxUnavailable, of: expected, roundUp: true, field: "maxUnavailable")) ?? 0)
        }
        return [
            "observedGeneration": budget[path: ["metadata", "generation"]] ?? 1,
            "expectedPods": .int(expected), "currentHealthy": .int(healthy), "desiredHealthy": .int(desired),
            "disruptionsAllowed": .int(max(0, healthy - desired)),
        ]
    }

    static func selected(by budget: Value, in store: ObjectStore) -> [Value] {
        guard let selectorValue = budget[path: ["spec", "selector"]], let selector = try? LabelSelector(selectorValue), !selector.isEmpty else {
            return []
        }
        return store.list(Scheduler.podKind, namespace: budget[path: ["metadata", "namespace"]]?.stringValue, selector: selector)
            .filter { !Kubelet.isTerminal($0) }
    }
}
