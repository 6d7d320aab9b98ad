import WindlassCluster
import WindlassManifest

/// One pod per eligible node (matching nodeSelector, tolerated taints), bound to it
/// directly as the DaemonSet controller does; rolling updates replace pods of an older
/// template up to maxUnavailable at a time.
struct DaemonSetController: Controller {
    static let kind = GroupKind(group: "apps", kind: "DaemonSet")
    static let hashLabel = "controller-revision-hash"

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        var changed = false
        let nodes = context.store.list(Scheduler.nodeKind, namespace: nil)
        for set in context.store.list(Self.kind, namespace: nil) {
            if try reconcile(set, nodes: nodes, &context) { changed = true }
        }
        return changed
    }

    private func reconcile(_ set: Value, nodes: [Value], _ context: inout ControllerContext) throws(ClusterError) -> Bool {
        let id = ObjectBuilder.id(set)
        let template = set[path: ["spec", "template"]] ?? [:]
        let hash = DeploymentController.podTemplateHash(template)
        let probe = ObjectBuilder.pod(named: "probe", from: template, owner: set)
        let eligible = nodes.filter { Self.eligible(probe, on: $0) }.compactMap { $0[path: ["metadata", "name"]]?.stringValue }
        let pods = ObjectBuilder.owned(by: set, kind: "Pod", in: context.store).filter { !Kubelet.isTerminal($0) }
        var byNode: [String: Value] = [:]
        var changed = false
        for pod in pods {
            let node = pod[path: ["spec", "nodeName"]]?.stringValue ?? ""
            if !eligible.contains(node) || byNode[node] != nil {
                try context.store.delete(ObjectBuilder.id(pod), propagation: .background)
                changed = true
            } else {
                byNode[node] = pod
            }
        }
        for node in eligible where byNode[node] == nil {
            let created = try ObjectBuilder.createWithGeneratedName("\(id.name)-", in: &context.store, manager: "daemonset-controller", now: context.now) { name in
                var pod = ObjectBuilder.pod(named: name, from: template, owner: set, extraLabels: [Self.hashLabel: hash])
                pod.set(.string(node), at: ["spec", "nodeName"])
                return pod
            }
            _ = try context.store.updateStatus(ObjectBuilder.id(created), status: ["phase": "Pending", "startTime": .string(Timestamp.rfc3339(context.now))], now: context.now)
            context.event(.normal, "SuccessfulCreate", "Created pod: \(created[path: ["metadata", "name"]]?.stringValue ?? "")", id)
            changed = true
        }
        if changed { return true }

        let outdated = byNode.values.filter { $0[path: ["metadata", "labels", Self.hashLabel]]?.stringValue != hash }
        if set[path: ["spec", "updateStrategy", "type"]]?.stringValue != "OnDelete", !outdated.isEmpty {
            let maxUnavailable = (try? RolloutMath.resolve(set[path: ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"]] ?? 1, of: eligible.count, roundUp: false, field: "maxUnavailable")) ?? 1
            let unavailable = byNode.values.filter { !ObjectBuilder.isReady($0) }.count
            let room = max(1, maxUnavailable) - unavailable
            if room > 0 {
                for pod in outdated.sorted(by: { ($0[path: ["spec", "nodeName"]]?.stringValue ?? "") < ($1[path: ["spec", "nodeName"]]?.stringValue ?? "") }).prefix(room) {
                    try context.store.delete(ObjectBuilder.id(pod), propagation: .background)
                }
                return true
            }
        }

        let ready = byNode.values.filter(ObjectBuilder.isReady).count
        let updated = byNode.values.filter { $0[path: ["metadata", "labels", Self.hashLabel]]?.stringValue == hash }.count
        var status: Value = [:]
        status.set(set[path: ["metadata", "generation"]] ?? 1, at: ["observedGeneration"])
        status.set(.int(eligible.count), at: ["desiredNumberScheduled"])
        status.set(.int(byNode.count), at: ["currentNumberScheduled"])
        status.set(.int(ready), at: ["numberReady"])
        status.set(.int(ready), at: ["numberAvailable"])
        status.set(.int(max(0, eligible.count - ready)), at: ["numberUnavailable"])
        status.set(.int(updated), at: ["updatedNumberScheduled"])
        status.set(0, at: ["numberMisscheduled"])
        guard status != set["status"] else { return false }
        _ = try context.store.updateStatus(id, status: status, now: context.now)
        return true
    }

    /// A DaemonSet pod goes on every node its selector and tolerations allow, cordoned or not.
    static func eligible(_ pod: Value, on node: Value) -> Bool {
        let state = Scheduler.NodeState(node: node, name: "", allocatableCPU: Quantity(milli: .max / 4), allocatableMemory: Quantity(milli: .max / 4))
        return Scheduler.reject(pod, on: state, cpu: .zero, memory: .zero, daemon: true) == nil
    }
}
