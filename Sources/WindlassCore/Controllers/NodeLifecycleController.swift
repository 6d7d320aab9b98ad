import WindlassCluster
import WindlassManifest

/// What the node lifecycle controller does when a node stops reporting: its pods are marked not
/// ready at once (so Services stop sending them traffic), and after the grace period
/// (`windlass.dev/eviction-grace-seconds` on the node, default 40) they are deleted, so their
/// controllers recreate them on healthy nodes and VMs restart elsewhere.
struct NodeLifecycleController: Controller {
    static let defaultGraceSeconds = 40.0
    static let graceAnnotation = "windlass.dev/eviction-grace-seconds"

    static func readyCondition(_ node: Value) -> Value? {
        node[path: ["status", "conditions"]]?.sequenceValue?.first { $0["type"] == "Ready" }
    }

    static func isReady(_ node: Value) -> Bool {
        readyCondition(node)?["status"]?.stringValue == "True"
    }

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        var changed = false
        let failed = context.store.list(Scheduler.nodeKind, namespace: nil).filter { !Self.isReady($0) }
        guard !failed.isEmpty else { return false }
        let names = Set(failed.compactMap { $0[path: ["metadata", "name"]]?.stringValue })
        var evictAfter: [String: Double] = [:]
        for node in failed {
            let since = Self.readyCondition(node)?["lastTransitionTime"]?.stringValue.flatMap(Timestamp.parse) ?? context.now
            let grace = node[path: ["metadata", "annotations", Self.graceAnnotation]]?.stringValue.flatMap(Double.init) ?? Self.defaultGraceSeconds
            evictAfter[node[path: ["metadata", "name"]]?.stringValue ?? ""] = since + grace
        }
        for pod in context.store.list(Scheduler.podKind, namespace: nil) {
            guard let node = pod[path: ["spec", "nodeName"]]?.stringValue, names.contains(node), !Kubelet.isTerminal(pod) else { continue }
            // DaemonSet pods tolerate a not-ready node and stay for when it comes back.
            if pod[path: ["metadata", "ownerReferences"]]?.sequenceValue?.contains(where: { $0["kind"] == "DaemonSet" }) == true { continue }
            let id = ObjectBuilder.id(pod)
            let deadline = evictAfter[node] ?? context.now
            if context.now >= deadline {
                try context.store.delete(id, propagation: .background)
                context.event(.warning, "NodeNotReady", "Deleted pod \(id.name) from node \(node), NotReady for longer than its grace period", id)
                changed = true
                continue
            }
            context.wake(at: deadline)
            if ObjectBuilder.isReady(pod) {
                var status = pod["status"] ?? [:]
                var conditions = status["conditions"]?.sequenceValue ?? []
                for index in conditions.indices where conditions[index]["type"] == "Ready" || conditions[index]["type"] == "ContainersReady" {
                    conditions[index].set("False", at: ["status"])
                    conditions[index].set("NodeNotReady", at: ["reason"])
                    conditions[index].set(.string(Timestamp.rfc3339(context.now)), at: ["lastTransitionTime"])
                }
                status.set(.sequence(conditions), at: ["conditions"])
                _ = try context.store.updateStatus(id, status: status, now: context.now)
                changed = true
            }
        }
        return changed
    }
}
