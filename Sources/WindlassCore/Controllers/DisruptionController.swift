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
        let expected = expectedCount(of: pods, in: store)
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

    /// How many pods are expected, as Kubernetes counts them: the scale of each controller that
    /// owns a selected pod (so a pod just evicted, not yet replaced, still counts), plus the
    /// selected pods no controller owns.
    static func expectedCount(of pods: [Value], in store: ObjectStore) -> Int {
        var expected = 0
        var owners: Set<ResourceID> = []
        for pod in pods {
            let namespace = pod[path: ["metadata", "namespace"]]?.stringValue
            let owner = (pod[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? []).first { $0["controller"]?.boolValue == true }
            guard let owner, let kind = owner["kind"]?.stringValue, let name = owner["name"]?.stringValue,
                let group = owner["apiVersion"]?.stringValue.map({ $0.contains("/") ? String($0.split(separator: "/")[0]) : "" })
            else {
                expected += 1
                continue
            }
            let id = ResourceID(group: group, version: "", kind: kind, namespace: namespace, name: name)
            guard !owners.contains(id) else { continue }
            owners.insert(id)
            expected += (try? store.get(id))?[path: ["spec", "replicas"]]?.intValue ?? 1
        }
        return expected
    }

    static func selected(by budget: Value, in store: ObjectStore) -> [Value] {
        guard let selectorValue = budget[path: ["spec", "selector"]], let selector = try? LabelSelector(selectorValue), !selector.isEmpty else {
            return []
        }
        return store.list(Scheduler.podKind, namespace: budget[path: ["metadata", "namespace"]]?.stringValue, selector: selector)
            .filter { !Kubelet.isTerminal($0) }
    }
}
