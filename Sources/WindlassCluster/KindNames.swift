public import WindlassManifest

/// The names kubectl users type for kinds: plurals, singulars and short names.
public enum KindNames {
    static let table: [(GroupVersionKind, [String])] = [
        (GroupVersionKind(group: "", version: "v1", kind: "Pod"), ["pods", "pod", "po"]),
        (GroupVersionKind(group: "", version: "v1", kind: "Service"), ["services", "service", "svc"]),
        (GroupVersionKind(group: "", version: "v1", kind: "Namespace"), ["namespaces", "namespace", "ns"]),
        (GroupVersionKind(group: "", version: "v1", kind: "Node"), ["nodes", "node", "no"]),
        (GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"), ["configmaps", "configmap", "cm"]),
        (GroupVersionKind(group: "", version: "v1", kind: "Secret"), ["secrets", "secret"]),
        (GroupVersionKind(group: "", version: "v1", kind: "PersistentVolumeClaim"), ["persistentvolumeclaims", "persistentvolumeclaim", "pvc"]),
        (GroupVersionKind(group: "", version: "v1", kind: "Endpoints"), ["endpoints", "ep"]),
        (GroupVersionKind(group: "", version: "v1", kind: "ServiceAccount"), ["serviceaccounts", "serviceaccount", "sa"]),
        (GroupVersionKind(group: "apps", version: "v1", kind: "Deployment"), ["deployments", "deployment", "deploy"]),
        (GroupVersionKind(group: "apps", version: "v1", kind: "ReplicaSet"), ["replicasets", "replicaset", "rs"]),
        (GroupVersionKind(group: "apps", version: "v1", kind: "StatefulSet"), ["statefulsets", "statefulset", "sts"]),
        (GroupVersionKind(group: "apps", version: "v1", kind: "DaemonSet"), ["daemonsets", "daemonset", "ds"]),
        (GroupVersionKind(group: "batch", version: "v1", kind: "Job"), ["jobs", "job"]),
        (GroupVersionKind(group: "batch", version: "v1", kind: "CronJob"), ["cronjobs", "cronjob", "cj"]),
        (GroupVersionKind(group: "policy", version: "v1", kind: "PodDisruptionBudget"), ["poddisruptionbudgets", "poddisruptionbudget", "pdb"]),
        (GroupVersionKind(group: "kubevirt.io", version: "v1", kind: "VirtualMachine"), ["virtualmachines", "virtualmachine", "vm", "vms"]),
        (GroupVersionKind(group: "kubevirt.io", version: "v1", kind: "VirtualMachineInstance"), ["virtualmachineinstances", "virtualmachineinstance", "vmi", "vmis"]),
    ]

    /// The kind a name stands for (`deploy`, `deployments.apps`, `Deployment`), or nil.
    public static func resolve(_ name: String) -> GroupVersionKind? {
        let lower = name.lowercased()
        let (bare, group) = lower.split(separator: ".", maxSplits: 1).count == 2
            ? (String(lower.split(separator: ".", maxSplits: 1)[0]), String(lower.split(separator: ".", maxSplits: 1)[1]))
            : (lower, nil as String?)
        for (gvk, names) in table where names.contains(bare) || gvk.kind.lowercased() == bare {
            if let group, group != gvk.group { continue }
            return gvk
        }
        return nil
    }

    /// `deployment.apps/web`, `service/web`: how kubectl names an object in its output.
    public static func reference(_ id: ResourceID) -> String {
        let kind = id.kind.lowercased()
        return (id.group.isEmpty ? kind : "\(kind).\(id.group)") + "/" + id.name
    }
}
