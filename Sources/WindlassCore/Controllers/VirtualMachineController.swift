import WindlassCluster
import WindlassManifest

/// KubeVirt-style virtual machines beside the containers: a `kubevirt.io/v1` VirtualMachine keeps
/// a VirtualMachineInstance as its runStrategy says (Always, RerunOnFailure, Halted, Manual),
/// and each instance runs in a `virt-launcher` pod that the scheduler places and the kubelet
/// starts, so VMs take node resources and heal like pods.
struct VirtualMachineController: Controller {
    static let vmKind = GroupKind(group: "kubevirt.io", kind: "VirtualMachine")
    static let vmiKind = GroupKind(group: "kubevirt.io", kind: "VirtualMachineInstance")
    /// Set on an instance by `drain` when its VM asks for live migration: the node to leave.
    static let migrateFrom = "windlass.dev/migrate-from"
    static let migrationTarget = "windlass.dev/migration-target"

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        var changed = false
        for vm in context.store.list(Self.vmKind, namespace: nil) {
            if try reconcileVM(vm, &context) { changed = true }
        }
        for vmi in context.store.list(Self.vmiKind, namespace: nil) {
            if try reconcileInstance(vmi, &context) { changed = true }
        }
        return changed
    }

    static func runStrategy(_ vm: Value) -> String {
        if let strategy = vm[path: ["spec", "runStrategy"]]?.stringValue { return strategy }
        return vm[path: ["spec", "running"]]?.boolValue == true ? "Always" : "Halted"
    }

    /// The pod a VM instance runs in: its CPU and memory as requests, its node selector.
    static func launcherTemplate(_ vmi: Value) -> Value {
        let name = vmi[path: ["metadata", "name"]]?.stringValue ?? ""
        let memory = vmi[path: ["spec", "domain", "resources", "requests", "memory"]] ?? "1Gi"
        let cores = vmi[path: ["spec", "domain", "cpu", "cores"]]?.intValue ?? 1
        return [
            "metadata": [
                "labels": ["kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": .string(name)],
                "annotations": vmi[path: ["metadata", "annotations"]] ?? [:],
            ],
            "spec": [
                "restartPolicy": "Never",
                "nodeSelector": vmi[path: ["spec", "nodeSelector"]] ?? [:],
                "containers": [["name": "compute", "image": "quay.io/kubevirt/virt-launcher:v1.2.0",
                                "resources": ["requests": ["cpu": .string(String(cores)), "memory": memory]]]],
            ],
        ]
    }

    /// Live migration: a target launcher pod is started (the scheduler keeps it off the drained
    /// node); once it is ready the source pod goes and the instance runs on the target node,
    /// Ready throughout. Returns nil when there is nothing to migrate.
    private func migrate(_ vmi: Value, from source: String, pods: [Value], _ context: inout ControllerContext) throws(ClusterError) -> Bool? {
        let id = ObjectBuilder.id(vmi)
        let sourcePod = pods.first { $0[path: ["spec", "nodeName"]]?.stringValue == source && $0[path: ["metadata", "labels", Self.migrationTarget]] == nil }
        let target = pods.first { $0[path: ["metadata", "labels", Self.migrationTarget]] != nil }
        guard let sourcePod else {
            // Nothing left on the source node: the migration is over (or the pod went another way).
            var done = vmi
            done.remove(at: ["metadata", "annotations", Self.migrateFrom])
            _ = try context.store.update(done, manager: "virt-controller", now: context.now)
            return true
        }
        guard let target else {
            _ = try ObjectBuilder.createWithGeneratedName("virt-launcher-\(id.name)-", in: &context.store, manager: "virt-controller", now: context.now) { name in
                var pod = ObjectBuilder.pod(named: name, from: Self.launcherTemplate(vmi), owner: vmi)
                pod.set("true", at: ["metadata", "labels", Self.migrationTarget])
                return pod
            }
            var status = vmi["status"] ?? [:]
            status.set(["sourceNode": .string(source), "completed": false, "startTimestamp": .string(Timestamp.rfc3339(context.now))], at: ["migrationState"])
            _ = try context.store.updateStatus(id, status: status, now: context.now)
            return true
        }
        guard ObjectBuilder.isReady(target), let targetNode = target[path: ["spec", "nodeName"]]?.stringValue else { return nil }
        try context.store.delete(ObjectBuilder.id(sourcePod), propagation: .background)
        var done = vmi
        done.remove(at: ["metadata", "annotations", Self.migrateFrom])
        _ = try context.store.update(done, manager: "virt-controller", now: context.now)
        var status = (try? context.store.get(id))?["status"] ?? [:]
        status.set(.string(targetNode), at: ["nodeName"])
        status.set(["sourceNode": .string(source), "targetNode": .string(targetNode), "completed": true,
                    "startTimestamp": status[path: ["migrationState", "startTimestamp"]] ?? .string(Timestamp.rfc3339(context.now)),
                    "endTimestamp": .string(Timestamp.rfc3339(context.now))], at: ["migrationState"])
        _ = try context.store.updateStatus(id, status: status, now: context.now)
        context.event(.normal, "Migrated", "The virtual machine moved from node \(source) to node \(targetNode)", id)
        return true
    }

    private func reconcileVM(_ vm: Value, _ context: inout ControllerContext) throws(ClusterError) -> Bool {
        let id = ObjectBuilder.id(vm)
        let strategy = Self.runStrategy(vm)
        let vmiID = ResourceID(group: "kubevirt.io", version: "v1", kind: "VirtualMachineInstance", namespace: id.namespace, name: id.name)
        let instance = context.store.stored(vmiID)?.object
        let phase = instance?[path: ["status", "phase"]]?.stringValue
        switch (strategy, instance) {
        case ("Always", nil), ("RerunOnFailure", nil):
            let template = vm[path: ["spec", "template"]] ?? [:]
            var metadata: Value = ["name": .string(id.name), "namespace": .string(id.namespace ?? "default"), "ownerReferences": [ObjectBuilder.ownerReference(to: vm)]]
            if let labels = template[path: ["metadata", "labels"]] { metadata.set(labels, at: ["labels"]) }
            if let annotations = template[path: ["metadata", "annotations"]] { metadata.set(annotations, at: ["annotations"]) }
            _ = try context.store.create(["apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": metadata, "spec": template["spec"] ?? [:]], manager: "virt-controller", now: context.now)
            context.event(.normal, "SuccessfulCreate", "Started the virtual machine by creating the new virtual machine instance \(id.name)", id)
            return true
        case ("Halted", .some):
            try context.store.delete(vmiID, propagation: .foreground)
            context.event(.normal, "SuccessfulDelete", "Stopped the virtual machine by deleting the virtual machine instance \(id.name)", id)
            return true
        case ("Always", .some), ("RerunOnFailure", .some):
            if phase == "Failed" || (strategy == "Always" && phase == "Succeeded") {
                try context.store.delete(vmiID, propagation: .foreground)
                return true
            }
        default:
            break
        }
        let ready = instance?[path: ["status", "conditions"]]?.sequenceValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } ?? false
        let printable: String
        switch (instance != nil, phase) {
        case (false, _): printable = "Stopped"
        case (true, "Running"): printable = ready ? "Running" : "Starting"
        case (true, "Unschedulable"): printable = "ErrorUnschedulable"
        case (true, "Failed"): printable = "CrashLoopBackOff"
        default: printable = "Starting"
        }
        var status: Value = ["printableStatus": .string(printable), "ready": .bool(ready), "created": .bool(instance != nil)]
        status.set(.sequence([ObjectBuilder.condition("Ready", ready, reason: ready ? "" : "NotReady", now: context.now, previous: vm[path: ["status", "conditions"]])]), at: ["conditions"])
        guard status != vm["status"] else { return false }
        _ = try context.store.updateStatus(id, status: status, now: context.now)
        return true
    }

    private func reconcileInstance(_ vmi: Value, _ context: inout ControllerContext) throws(ClusterError) -> Bool {
        let id = ObjectBuilder.id(vmi)
        let pods = ObjectBuilder.owned(by: vmi, kind: "Pod", in: context.store).filter { !Kubelet.isTerminal($0) }
        if let source = vmi[path: ["metadata", "annotations", Self.migrateFrom]]?.stringValue,
            let migrated = try migrate(vmi, from: source, pods: pods, &context)
        {
            return migrated
        }
        // The running instance is its launcher pod; during a migration, the source one.
        guard let pod = pods.first(where: { $0[path: ["metadata", "labels", Self.migrationTarget]] == nil }) ?? pods.first else {
            _ = try ObjectBuilder.createWithGeneratedName("virt-launcher-\(id.name)-", in: &context.store, manager: "virt-controller", now: context.now) { name in
                ObjectBuilder.pod(named: name, from: Self.launcherTemplate(vmi), owner: vmi)
            }
            return true
        }
        let scheduled = pod[path: ["status", "conditions"]]?.sequenceValue?.first { $0["type"] == "PodScheduled" }
        let podPhase = pod[path: ["status", "phase"]]?.stringValue
        let ready = ObjectBuilder.isReady(pod)
        let phase: String
        if pod[path: ["spec", "nodeName"]] == nil {
            phase = scheduled?["reason"]?.stringValue == "Unschedulable" ? "Unschedulable" : "Scheduling"
        } else if podPhase == "Running" {
            phase = "Running"
        } else if podPhase == "Failed" {
            phase = "Failed"
        } else {
            phase = "Scheduled"
        }
        var status: Value = ["phase": .string(phase)]
        if let node = pod[path: ["spec", "nodeName"]] { status.set(node, at: ["nodeName"]) }
        if let migration = vmi[path: ["status", "migrationState"]] { status.set(migration, at: ["migrationState"]) }
        if let ip = pod[path: ["status", "podIP"]] { status.set([["name": "default", "ipAddress": ip]], at: ["interfaces"]) }
        status.set(.sequence([ObjectBuilder.condition("Ready", ready, reason: ready ? "" : "PodNotReady", now: context.now, previous: vmi[path: ["status", "conditions"]])]), at: ["conditions"])
        guard status != vmi["status"] else { return false }
        _ = try context.store.updateStatus(id, status: status, now: context.now)
        return true
    }
}
