import WindlassCluster
import WindlassManifest

/// Keeps `spec.replicas` pods of each ReplicaSet: creates the missing from the template,
/// deletes the surplus (unscheduled first, then not ready, then the newest), and reports
/// replicas, ready and available counts.
struct ReplicaSetController: Controller {
    static let kind = GroupKind(group: "apps", kind: "ReplicaSet")

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        var changed = false
        // ReplicaSets that changed, or whose pods came, went, or changed in what it counts.
        let replicaSets = context.objects(of: Self.kind, for: "replicaset") { change in
            switch change.object["kind"]?.stringValue {
            case "ReplicaSet": return [NamespacedName(change.object)]
            case "Pod":
                let owner = NamespacedName.owner(of: change.object, kind: "ReplicaSet")
                guard let previous = change.previous else { return owner.map { [$0] } ?? [] }
                let previousOwner = NamespacedName.owner(of: previous, kind: "ReplicaSet")
                if owner == previousOwner, Self.counted(previous) == Self.counted(change.object) { return [] }
                return [owner, previousOwner].compactMap { $0 }
            default: return []
            }
        }
        for replicaSet in replicaSets {
            let id = ObjectBuilder.id(replicaSet)
            let desired = ObjectBuilder.int(replicaSet, "spec", "replicas")
            var pods = ObjectBuilder.owned(by: replicaSet, kind: "Pod", in: context.store).filter { !Kubelet.isTerminal($0) }
            // The pods it creates or deletes are counted in the status it writes in the same
            // pass; their changes do not bring it back.
            if pods.count < desired {
                let prefix = (replicaSet[path: ["metadata", "name"]]?.stringValue ?? "pod") + "-"
                let template = replicaSet[path: ["spec", "template"]] ?? [:]
                let now = context.now
                for _ in pods.count..<desired {
                    let created = try context.recordingOwnWrites(for: "replicaset") { (store: inout ObjectStore) throws(ClusterError) -> Value in
                        try ObjectBuilder.createWithGeneratedName(prefix, in: &store, manager: "replicaset-controller", now: now) { name in
                            ObjectBuilder.pod(named: name, from: template, owner: replicaSet)
                        }
                    }
                    pods.append(created)
                    context.event(.normal, "SuccessfulCreate", "Created pod: \(created[path: ["metadata", "name"]]?.stringValue ?? "")", id)
                }
                changed = true
            } else if pods.count > desired {
                let ordered = Self.inDeletionOrder(pods)
                for pod in ordered.prefix(pods.count - desired) {
                    try context.recordingOwnWrites(for: "replicaset") { (store: inout ObjectStore) throws(ClusterError) in
                        _ = try store.delete(ObjectBuilder.id(pod), propagation: .background)
                    }
                    context.event(.normal, "SuccessfulDelete", "Deleted pod: \(pod[path: ["metadata", "name"]]?.stringValue ?? "")", id)
                    context.event(.normal, "Killing", "Stopping container \(Kubelet.firstContainer(pod))", ObjectBuilder.id(pod))
                }
                pods = Array(ordered.dropFirst(pods.count - desired))
                changed = true
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

    /// What the controller counts of a pod: whether it is active, and ready. A binding or a
    /// status that leaves these as they were changes nothing here (the order of a scale-down
    /// is read afresh when one happens).
    static func counted(_ pod: Value) -> (active: Bool, ready: Bool) {
        (!Kubelet.isTerminal(pod), isReady(pod))
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
