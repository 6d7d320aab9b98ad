public import WindlassManifest

/// Fields the API server refuses to change once an object exists: changing one in git means the
/// object has to be replaced (deleted and created again).
public enum ImmutableFields {
    /// The immutable paths of a kind.
    public static func paths(for kind: GroupKind) -> [[String]] {
        switch (kind.group, kind.kind) {
        case ("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "DaemonSet"):
            return [["spec", "selector"]]
        case ("apps", "StatefulSet"):
            return [["spec", "selector"], ["spec", "serviceName"], ["spec", "volumeClaimTemplates"], ["spec", "podManagementPolicy"]]
        case ("batch", "Job"):
            return [["spec", "selector"], ["spec", "template"], ["spec", "completionMode"]]
        case ("", "Service"):
            return [["spec", "clusterIP"]]
        case ("", "PersistentVolumeClaim"):
            return [["spec", "accessModes"], ["spec", "storageClassName"], ["spec", "volumeName"], ["spec", "selector"]]
        default:
            return []
        }
    }
}
