import WindlassCluster
import WindlassManifest

/// Keeps `spec.replicas` pods of each ReplicaSet: creates the missing from the template,
/// deletes the surplus (unscheduled first, then not ready, then the newest), and reports
/// replicas, ready and available counts.
struct ReplicaSetController: Controller {
    static let kind = GroupKind(group: "apps", kind: "ReplicaSet")

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        var changed = false
        // ReplicaSets that changed, or whose pods did.
        let replicaSets = context.objects(of: Self.kind, for: "replicaset") { change in
            switch change.object["kind"]?.stringValue {
            case "ReplicaSet": return [NamespacedName(change.object)]
            case "Pod": return NamespacedName.owner(of: change.object, kind: "ReplicaSet").map { [$0] } ?? []
            default: return []
            }
        }
        for replicaSet in replicaSets {
            let id = ObjectBuilder.id(replicaSet)
            let desired = ObjectBuilder.int(replicaSet, "spec", "replicas")
            let pods = ObjectBuilder.owned(by: replicaSet, kind: "Pod", in: context.store).filter { !Kubelet.isTerminal($0) }
            if pods.count < desired {
                for _ in pods.count..<desired {
                    let prefix = (replicaSet[path: ["metadata", "name"]]?.stringValue ?? "pod") + "-"
                    let created = try ObjectBuilder.createWithGeneratedName(prefix, in: &context.store, manager: "replicaset-controller", now: context.now) { name in
                        ObjectBuilder.pod(named: name, from: replicaSet[path: ["spec", "template"]] ?? [:], owner: replicaSet)
                    }
                    context.event(.normal, "SuccessfulCreate", "Created pod: \(created[path: ["metadata", "name"]]?.stringValue ?? "")", id)
                }
                changed = true
                continue
            }
            if pods.count > desired {
                let victims = Self.inDeletionOrder(pods).prefix(pods.count - desired)
                for pod in victims {
                    try context.store.delete(ObjectBuilder.id(pod), propagation: .background)
                    context.event(.normal, "SuccessfulDelete", "Deleted pod: \(pod[path: ["metadata", "name"]]?.stringValue ?? "")", id)
                    context.event(.normal, "Killing", "Stopping container \(Kubelet.firstContainer(pod))", ObjectBuilder.id(pod))
                }
                changed = true
                continue
            }
            let ready = pods.filter(Self.isReady).count
            var status = replicaSet["status"] ?? [:]
            status.set(.int(pods.count), at: ["replicas"])
            status.set(.int(pods.count), at: ["fullyLabeledReplicas"])
            status.set(.int(ready), at: ["readyReplicas"])
            status.set(.int(ready), at: ["availableReplicas"])
            status.set(replicaSet[path: ["metadata", "generation"]] ?? 1, at: ["observedGeneration"])
            if status != replicaSet["status"] {
                try context.updateOwnStatus(id, status: status, for: "replicaset")
                changed = true
            }
        }
        return changed
    }

    static func isReady(_ pod: Value) -> Bool {
        pod[path: ["status", "conditions"]]?.sequenceValue?.contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        } ?? false
    }

    /// `pods` in the order a scale-down deletes them: unscheduled before scheduled, not ready
    /// before ready, newer before older (each pod's keys read once).
    static func inDeletionOrder(_ pods: [Value]) -> [Value] {
        struct Keys {
            var scheduled: Bool
            var ready: Bool
            var created: String
            var name: String
            var index: Int
        }
        let keys = pods.indices.map { index in
            let pod = pods[index]
            return Keys(
                scheduled: pod[path: ["spec", "nodeName"]] != nil, ready: isReady(pod),
                created: pod[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "", name: pod[path: ["metadata", "name"]]?.stringValue ?? "", index: index)
        }
        return keys.sorted { a, b in
            if a.scheduled != b.scheduled { return !a.scheduled }
            if a.ready != b.ready { return !a.ready }
            if a.created != b.created { return a.created > b.created }
            return a.name > b.name
        }.map { pods[$0.index] }
    }

}
