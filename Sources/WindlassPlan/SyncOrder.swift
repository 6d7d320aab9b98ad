import WindlassManifest

/// The order a sync applies kinds in (REFERENCE.md §1: Argo CD's order, Windlass's own kinds
/// before the workloads they govern, VirtualMachine after StatefulSet, unknown kinds last).
public enum SyncOrder {
    public static let kinds: [String] = [
        "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
        "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
        "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role",
        "RoleList", "RoleBinding", "RoleBindingList", "Service", "AnalysisTemplate", "RolloutStrategy", "DaemonSet", "Pod",
        "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "VirtualMachine", "Job",
        "CronJob", "IngressClass", "Ingress", "APIService",
    ]

    private static let ranks = Dictionary(uniqueKeysWithValues: kinds.enumerated().map { ($1, $0) })

    /// The kind's place in the order; unknown kinds after every known one.
    public static func rank(of kind: String) -> Int {
        ranks[kind] ?? kinds.count
    }

    /// Sorts changes within a stage: kind order, then namespace, then name.
    static func precedes(_ a: ResourceID, _ b: ResourceID) -> Bool {
        let ra = rank(of: a.kind)
        let rb = rank(of: b.kind)
        if ra != rb { return ra < rb }
        return (a.kind, a.group, a.namespace ?? "", a.name) < (b.kind, b.group, b.namespace ?? "", b.name)
    }
}
