import WindlassCluster
import WindlassManifest

/// Binds every pending PersistentVolumeClaim at once, as a dynamic provisioner would.
struct PersistentVolumeClaimBinder: Controller {
    static let kind = GroupKind(group: "", kind: "PersistentVolumeClaim")

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        var changed = false
        for claim in context.store.list(Self.kind, namespace: nil) where claim[path: ["status", "phase"]]?.stringValue != "Bound" {
            var status: Value = ["phase": "Bound"]
            if let modes = claim[path: ["spec", "accessModes"]] { status.set(modes, at: ["accessModes"]) }
            if let size = claim[path: ["spec", "resources", "requests", "storage"]] { status.set(size, at: ["capacity", "storage"]) }
            _ = try context.store.updateStatus(ObjectBuilder.id(claim), status: status, now: context.now)
            changed = true
        }
        return changed
    }
}

/// Keeps an Endpoints object per Service with a selector: the ready pods' addresses, and the
/// others as not ready.
struct EndpointsController: Controller {
    static let serviceKind = GroupKind(group: "", kind: "Service")

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        var changed = false
        for service in context.store.list(Self.serviceKind, namespace: nil) {
            guard let selectorLabels = service[path: ["spec", "selector"]]?.mappingValue, !selectorLabels.isEmpty,
                let namespace = service[path: ["metadata", "namespace"]]?.stringValue,
                let name = service[path: ["metadata", "name"]]?.stringValue
            else { continue }
            var labels: [String: String] = [:]
            for entry in selectorLabels.entries { labels[entry.key] = entry.value.stringValue }
            let pods = context.store.list(Scheduler.podKind, namespace: namespace, selector: LabelSelector(matchLabels: labels))
                .filter { $0[path: ["status", "podIP"]] != nil && !Kubelet.isTerminal($0) }
            func address(_ pod: Value) -> Value {
                [
                    "ip": pod[path: ["status", "podIP"]] ?? "", "nodeName": pod[path: ["spec", "nodeName"]] ?? "",
                    "targetRef": ["kind": "Pod", "namespace": .string(namespace), "name": pod[path: ["metadata", "name"]] ?? ""],
                ]
            }
            let ready = pods.filter(ObjectBuilder.isReady).map(address)
            let notReady = pods.filter { !ObjectBuilder.isReady($0) }.map(address)
            let ports: [Value] = (service[path: ["spec", "ports"]]?.sequenceValue ?? []).map { port in
                var number = port["port"] ?? 0
                if let target = port["targetPort"]?.intValue { number = .int(target) }
                var out: Value = ["port": number, "protocol": port["protocol"] ?? "TCP"]
                if let portName = port["name"] { out.set(portName, at: ["name"]) }
                return out
            }
            var subset: Value = ["ports": .sequence(ports)]
            if !ready.isEmpty { subset.set(.sequence(ready), at: ["addresses"]) }
            if !notReady.isEmpty { subset.set(.sequence(notReady), at: ["notReadyAddresses"]) }
            let subsets: Value = ready.isEmpty && notReady.isEmpty ? [] : [subset]
            let id = ResourceID(group: "", version: "v1", kind: "Endpoints", namespace: namespace, name: name)
            if let existing = context.store.stored(id)?.object {
                guard existing["subsets"] != subsets else { continue }
                var updated = existing
                updated.set(subsets, at: ["subsets"])
                updated.remove(at: ["metadata", "resourceVersion"])
                _ = try context.store.update(updated, manager: "endpoint-controller", now: context.now)
            } else {
                let endpoints: Value = [
                    "apiVersion": "v1", "kind": "Endpoints",
                    "metadata": ["name": .string(name), "namespace": .string(namespace), "ownerReferences": [ObjectBuilder.ownerReference(to: service)]],
                    "subsets": subsets,
                ]
                _ = try context.store.create(endpoints, manager: "endpoint-controller", now: context.now)
            }
            changed = true
        }
        return changed
    }
}
