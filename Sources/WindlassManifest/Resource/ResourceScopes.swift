/// Which kinds are cluster-scoped: the built-in ones Kubernetes serves, plus those declared by
/// CustomResourceDefinitions (`spec.scope: Cluster`). Everything else is namespaced, as an
/// unknown custom resource most likely is.
public struct ResourceScopes: Sendable {
    /// The cluster-scoped kinds of Kubernetes' built-in API groups.
    public static let builtInClusterScoped: Set<GroupKind> = [
        GroupKind(group: "", kind: "Namespace"),
        GroupKind(group: "", kind: "Node"),
        GroupKind(group: "", kind: "PersistentVolume"),
        GroupKind(group: "", kind: "ComponentStatus"),
        GroupKind(group: "apiextensions.k8s.io", kind: "CustomResourceDefinition"),
        GroupKind(group: "apiregistration.k8s.io", kind: "APIService"),
        GroupKind(group: "rbac.authorization.k8s.io", kind: "ClusterRole"),
        GroupKind(group: "rbac.authorization.k8s.io", kind: "ClusterRoleBinding"),
        GroupKind(group: "storage.k8s.io", kind: "StorageClass"),
        GroupKind(group: "storage.k8s.io", kind: "CSIDriver"),
        GroupKind(group: "storage.k8s.io", kind: "CSINode"),
        GroupKind(group: "storage.k8s.io", kind: "VolumeAttachment"),
        GroupKind(group: "scheduling.k8s.io", kind: "PriorityClass"),
        GroupKind(group: "node.k8s.io", kind: "RuntimeClass"),
        GroupKind(group: "networking.k8s.io", kind: "IngressClass"),
        GroupKind(group: "policy", kind: "PodSecurityPolicy"),
        GroupKind(group: "certificates.k8s.io", kind: "CertificateSigningRequest"),
        GroupKind(group: "admissionregistration.k8s.io", kind: "MutatingWebhookConfiguration"),
        GroupKind(group: "admissionregistration.k8s.io", kind: "ValidatingWebhookConfiguration"),
        GroupKind(group: "admissionregistration.k8s.io", kind: "ValidatingAdmissionPolicy"),
        GroupKind(group: "admissionregistration.k8s.io", kind: "ValidatingAdmissionPolicyBinding"),
        GroupKind(group: "flowcontrol.apiserver.k8s.io", kind: "FlowSchema"),
        GroupKind(group: "flowcontrol.apiserver.k8s.io", kind: "PriorityLevelConfiguration"),
    ]

    private var clusterScoped: Set<GroupKind>

    public init() {
        clusterScoped = Self.builtInClusterScoped
    }

    /// Adds the scope a CustomResourceDefinition declares for its kind.
    public mutating func register(crd: Value) {
        guard let spec = crd["spec"], let group = spec["group"]?.stringValue,
            let kind = spec[path: ["names", "kind"]]?.stringValue
        else { return }
        let groupKind = GroupKind(group: group, kind: kind)
        if spec["scope"]?.stringValue == "Cluster" {
            clusterScoped.insert(groupKind)
        } else {
            clusterScoped.remove(groupKind)
        }
    }

    public func isClusterScoped(_ groupKind: GroupKind) -> Bool {
        clusterScoped.contains(groupKind)
    }
}
