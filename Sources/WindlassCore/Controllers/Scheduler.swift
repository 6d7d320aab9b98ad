import WindlassCluster
import WindlassManifest

/// Binds pending pods to nodes: resource requests against allocatable, nodeSelector, taints and
/// tolerations, Ready and schedulable nodes; spreads by the least requested CPU. A pod that
/// fits nowhere stays Pending with an Unschedulable condition and a FailedScheduling event.
struct Scheduler: Controller {
    static let podKind = GroupKind(group: "", kind: "Pod")
    static let nodeKind = GroupKind(group: "", kind: "Node")

    struct NodeState: Sendable {
        var node: Value
        var name: String
        var allocatableCPU: Quantity
        var allocatableMemory: Quantity
        /// What a pod is checked against, read from the node once per sync.
        let ready: Bool
        let unschedulable: Bool
        let labels: [String: String]
        /// NoSchedule and NoExecute taints.
        let taints: [Value]
        var requestedCPU = Quantity.zero
        var requestedMemory = Quantity.zero
        var pods = 0
        /// The labels and namespaces of the pods on the node, for anti-affinity.
        /// The pods on the node when the pass began (shared with the placement, never copied)…
        var residents: [NamespacedName: [String: String]] = [:]
        /// … and those this pass placed there.
        var placed: [(namespace: String, labels: [String: String])] = []

        /// Least requested first; pods without requests count as Kubernetes' scoring counts
        /// them (100m CPU), so they spread too.
        var load: Double {
            Double(requestedCPU.milli + Int64(pods) * 100) / Double(max(1, allocatableCPU.milli))
        }

        init(node: Value, name: String, allocatableCPU: Quantity, allocatableMemory: Quantity) {
            self.node = node
            self.name = name
            self.allocatableCPU = allocatableCPU
            self.allocatableMemory = allocatableMemory
            let readiness = node[path: ["status", "conditions"]]?.sequenceValue?.first { $0["type"]?.stringValue == "Ready" }
            ready = readiness?["status"]?.stringValue == "True"
            unschedulable = node[path: ["spec", "unschedulable"]]?.boolValue == true
            labels = ObjectStore.labels(of: node)
            taints = (node[path: ["spec", "taints"]]?.sequenceValue ?? []).filter {
                let effect = $0["effect"]?.stringValue ?? ""
                return effect == "NoSchedule" || effect == "NoExecute"
            }
        }
    }

    /// What the scheduler checks of a pod, read once.
    struct PodNeeds {
        let nodeSelector: [(key: String, value: String?)]
        let tolerations: [Value]
        let hasAntiAffinity: Bool

        init(_ pod: Value) {
            nodeSelector = (pod[path: ["spec", "nodeSelector"]]?.mappingValue?.entries ?? []).map { ($0.key, $0.value.stringValue) }
            tolerations = pod[path: ["spec", "tolerations"]]?.sequenceValue ?? []
            hasAntiAffinity = pod[path: ["spec", "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]] != nil
        }
    }

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        // Pods that changed since the last run (every pod when a node did), and, once anything
        // changed (a pod gone frees room), the pods that fitted nowhere then.
        var changes = false
        // Moved out, not copied: it is changed in place.
        var placement = Placement()
        swap(&placement, &context.marks.placement)
        let (touched, all) = context.changedObjects(of: Self.podKind, for: "scheduler") { change in
            changes = true
            switch change.object["kind"]?.stringValue {
            case "Pod":
                placement.update(change.object, deleted: change.kind == .deleted)
                return change.kind == .deleted ? [] : [NamespacedName(change.object)]
            case "Node": return nil
            default: return []
            }
        }
        // A pass over every pod: the placement is counted again only if someone waits to be placed.
        if all {
            placement.stale = true
            // What the nodes offer changes only with a Node's change, which makes the pass a full one.
            context.marks.nodes = nil
        }
        var candidates: [NamespacedName: Value] = [:]
        for pod in touched { candidates[NamespacedName(pod)] = pod }
        if changes {
            for name in context.marks.unscheduled where candidates[name] == nil {
                if let pod = context.store.object(Self.podKind, namespace: name.namespace, name: name.name) { candidates[name] = pod }
            }
        }
        let pending = candidates.sorted { $0.key < $1.key }.map(\.value).filter { $0[path: ["spec", "nodeName"]] == nil && !Kubelet.isTerminal($0) }
        // Nothing changed: the pods that fitted nowhere still do not, and stay on the list.
        if changes || !touched.isEmpty { context.marks.unscheduled = Set(pending.map(NamespacedName.init)) }
        guard !pending.isEmpty else {
            context.marks.placement = placement
            return false
        }
        if placement.stale { placement.rebuild(from: all ? touched : context.store.list(Self.podKind, namespace: nil)) }
        context.marks.placement = placement
        if context.marks.nodes == nil { context.marks.nodes = Self.nodeStates(context.store) }
        var nodes = Self.nodeStates(context.marks.nodes ?? [], placement: placement)
        var changed = false
        for pod in pending {
            let (cpu, memory) = Self.requests(of: pod)
            let needs = PodNeeds(pod)
            var reasons: [String: Int] = [:]
            var best: Int? = nil
            for (index, node) in nodes.enumerated() {
                if let reason = Self.reject(pod, needs, on: node, cpu: cpu, memory: memory) {
                    reasons[reason, default: 0] += 1
                    continue
                }
                if let current = best {
                    if (node.load, node.name) < (nodes[current].load, nodes[current].name) { best = index }
                } else {
                    best = index
                }
            }
            let id = ObjectBuilder.id(pod)
            if let best {
                var status = pod["status"] ?? [:]
                status.set("Pending", at: ["phase"])
                status.set(.string(Timestamp.rfc3339(context.now)), at: ["startTime"])
                status.set(.sequence([ObjectBuilder.condition("PodScheduled", true, reason: "", now: context.now, previous: pod[path: ["status", "conditions"]])]), at: ["conditions"])
                _ = try context.store.bind(id, node: nodes[best].name, status: status, now: context.now)
                nodes[best].requestedCPU = nodes[best].requestedCPU + cpu
                nodes[best].requestedMemory = nodes[best].requestedMemory + memory
                nodes[best].pods += 1
                nodes[best].placed.append((id.namespace ?? "", ObjectStore.labels(of: pod)))
                context.event(.normal, "Scheduled", "Successfully assigned \(id.namespace ?? "")/\(id.name) to \(nodes[best].name)", id)
                context.marks.unscheduled.remove(NamespacedName(pod))
                changed = true
            } else {
                let detail = reasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                let message = "0/\(nodes.count) nodes are available" + (detail.isEmpty ? "." : ": \(detail).")
                let previous = pod[path: ["status", "conditions"]]?.sequenceValue?.first { $0["type"]?.stringValue == "PodScheduled" }
                if previous?["message"]?.stringValue != message {
                    var status = pod["status"] ?? [:]
                    status.set("Pending", at: ["phase"])
                    status.set(.sequence([ObjectBuilder.condition("PodScheduled", false, reason: "Unschedulable", message: message, now: context.now, previous: pod[path: ["status", "conditions"]])]), at: ["conditions"])
                    _ = try context.store.updateStatus(id, status: status, now: context.now)
                    context.event(.warning, "FailedScheduling", message, id)
                    changed = true
                }
            }
        }
        return changed
    }

    /// What each node offers, with nothing placed on it.
    static func nodeStates(_ store: ObjectStore) -> [NodeState] {
        store.list(nodeKind, namespace: nil).compactMap { node in
            guard let name = node[path: ["metadata", "name"]]?.stringValue else { return nil }
            return NodeState(
                node: node,
                name: name,
                allocatableCPU: node[path: ["status", "allocatable", "cpu"]].flatMap(Quantity.init) ?? .zero,
                allocatableMemory: node[path: ["status", "allocatable", "memory"]].flatMap(Quantity.init) ?? .zero
            )
        }
    }

    /// `nodes` with the bound pods of `placement` on them.
    static func nodeStates(_ nodes: [NodeState], placement: Placement) -> [NodeState] {
        var states: [NodeState] = []
        states.reserveCapacity(nodes.count)
        for var state in nodes {
            if let usage = placement.nodes[state.name] {
                state.requestedCPU = usage.cpu
                state.requestedMemory = usage.memory
                state.pods = usage.residents.count
                state.residents = usage.residents
            }
            states.append(state)
        }
        return states
    }

    static func requests(of pod: Value) -> (Quantity, Quantity) {
        var cpu = Quantity.zero
        var memory = Quantity.zero
        for container in pod[path: ["spec", "containers"]]?.sequenceValue ?? [] {
            cpu = cpu + (container[path: ["resources", "requests", "cpu"]].flatMap(Quantity.init) ?? .zero)
            memory = memory + (container[path: ["resources", "requests", "memory"]].flatMap(Quantity.init) ?? .zero)
        }
        return (cpu, memory)
    }

    /// Why the pod cannot go on the node, in the scheduler's words, or nil when it can.
    /// DaemonSet pods tolerate unschedulable and not-ready nodes, as Kubernetes adds those
    /// tolerations to them.
    static func reject(_ pod: Value, _ needs: PodNeeds? = nil, on state: NodeState, cpu: Quantity, memory: Quantity, daemon: Bool = false) -> String? {
        let needs = needs ?? PodNeeds(pod)
        if !daemon {
            if !state.ready { return "node(s) were not ready" }
            if state.unschedulable { return "node(s) were unschedulable" }
        }
        for (key, value) in needs.nodeSelector where state.labels[key] != value {
            return "node(s) didn't match Pod's node affinity/selector"
        }
        for taint in state.taints where !needs.tolerations.contains(where: { tolerates($0, taint) }) {
            return "node(s) had untolerated taint {\(taint["key"]?.stringValue ?? ""): \(taint["value"]?.stringValue ?? "")}"
        }
        if !daemon, needs.hasAntiAffinity, violatesAntiAffinity(pod, on: state) { return "node(s) didn't match pod anti-affinity rules" }
        if state.requestedCPU + cpu > state.allocatableCPU { return "Insufficient cpu" }
        if state.requestedMemory + memory > state.allocatableMemory { return "Insufficient memory" }
        return nil
    }

    /// Required pod anti-affinity on `kubernetes.io/hostname`: no pod the term selects (in the
    /// pod's namespace, or the term's namespaces) may already be on the node. Other topology
    /// keys are not modelled: every node is its own zone here.
    static func violatesAntiAffinity(_ pod: Value, on state: NodeState) -> Bool {
        let terms = pod[path: ["spec", "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]]?.sequenceValue ?? []
        guard !terms.isEmpty else { return false }
        let namespace = pod[path: ["metadata", "namespace"]]?.stringValue ?? ""
        for term in terms {
            guard let selectorValue = term["labelSelector"], let selector = try? LabelSelector(selectorValue) else { continue }
            let namespaces = (term["namespaces"]?.sequenceValue ?? []).compactMap(\.stringValue)
            let scope = namespaces.isEmpty ? [namespace] : namespaces
            if state.residents.contains(where: { scope.contains($0.key.namespace) && selector.matches($0.value) }) { return true }
            if state.placed.contains(where: { scope.contains($0.namespace) && selector.matches($0.labels) }) { return true }
        }
        return false
    }

    static func tolerates(_ toleration: Value, _ taint: Value) -> Bool {
        if let effect = toleration["effect"]?.stringValue, !effect.isEmpty, effect != taint["effect"]?.stringValue { return false }
        let key = toleration["key"]?.stringValue ?? ""
        if toleration["operator"]?.stringValue == "Exists" {
            return key.isEmpty || key == taint["key"]?.stringValue
        }
        return key == taint["key"]?.stringValue && (toleration["value"]?.stringValue ?? "") == (taint["value"]?.stringValue ?? "")
    }
}
