public import WindlassManifest

extension RESTMapping {
    /// The kinds Kubernetes serves in its built-in groups, KubeVirt's VMs and Windlass's own
    /// kinds, with the names, short names, categories and subresources a Kubernetes 1.32 API
    /// server's discovery gives them. Scopes come from ``ResourceScopes/builtInClusterScoped``,
    /// the table the manifest loader uses, so the two cannot disagree.
    public static let builtIn: RESTMapping = {
        func resource(
            _ group: String, _ version: String, _ kind: String, _ name: String, short: [String] = [], all: Bool = false,
            subresources: [String] = ["status"], verbs: [String] = APIResource.standardVerbs
        ) -> APIResource {
            APIResource(
                group: group, version: version, kind: kind, name: name,
                namespaced: !ResourceScopes.builtInClusterScoped.contains(GroupKind(group: group, kind: kind)), verbs: verbs, shortNames: short,
                categories: all ? ["all"] : [], subresources: subresources)
        }
        return RESTMapping([
            // core
            resource("", "v1", "Pod", "pods", short: ["po"], all: true, subresources: ["binding", "eviction", "log", "status"]),
            resource("", "v1", "Service", "services", short: ["svc"], all: true),
            resource("", "v1", "ReplicationController", "replicationcontrollers", short: ["rc"], all: true, subresources: ["scale", "status"]),
            resource("", "v1", "Namespace", "namespaces", short: ["ns"], subresources: ["finalize", "status"],
                verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]),
            resource("", "v1", "Node", "nodes", short: ["no"]),
            resource("", "v1", "ConfigMap", "configmaps", short: ["cm"], subresources: []),
            resource("", "v1", "Secret", "secrets", subresources: []),
            resource("", "v1", "ServiceAccount", "serviceaccounts", short: ["sa"], subresources: ["token"]),
            resource("", "v1", "Endpoints", "endpoints", short: ["ep"], subresources: []),
            resource("", "v1", "Event", "events", short: ["ev"], subresources: []),
            resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short: ["pvc"]),
            resource("", "v1", "PersistentVolume", "persistentvolumes", short: ["pv"]),
            resource("", "v1", "LimitRange", "limitranges", short: ["limits"], subresources: []),
            resource("", "v1", "ResourceQuota", "resourcequotas", short: ["quota"]),
            resource("", "v1", "PodTemplate", "podtemplates", subresources: []),
            resource("", "v1", "ComponentStatus", "componentstatuses", short: ["cs"], subresources: [], verbs: ["get", "list"]),
            // apps
            resource("apps", "v1", "Deployment", "deployments", short: ["deploy"], all: true, subresources: ["scale", "status"]),
            resource("apps", "v1", "ReplicaSet", "replicasets", short: ["rs"], all: true, subresources: ["scale", "status"]),
            resource("apps", "v1", "StatefulSet", "statefulsets", short: ["sts"], all: true, subresources: ["scale", "status"]),
            resource("apps", "v1", "DaemonSet", "daemonsets", short: ["ds"], all: true),
            resource("apps", "v1", "ControllerRevision", "controllerrevisions", subresources: []),
            // batch, autoscaling, policy
            resource("batch", "v1", "Job", "jobs", all: true),
            resource("batch", "v1", "CronJob", "cronjobs", short: ["cj"], all: true),
            resource("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", short: ["hpa"], all: true),
            resource("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", short: ["pdb"]),
            // networking, discovery, storage
            resource("networking.k8s.io", "v1", "Ingress", "ingresses", short: ["ing"]),
            resource("networking.k8s.io", "v1", "IngressClass", "ingressclasses", subresources: []),
            resource("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", short: ["netpol"], subresources: []),
            resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", subresources: []),
            resource("storage.k8s.io", "v1", "StorageClass", "storageclasses", short: ["sc"], subresources: []),
            resource("storage.k8s.io", "v1", "CSIDriver", "csidrivers", subresources: []),
            resource("storage.k8s.io", "v1", "CSINode", "csinodes", subresources: []),
            resource("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments"),
            // access control, scheduling, coordination, extension
            resource("rbac.authorization.k8s.io", "v1", "Role", "roles", subresources: []),
            resource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", subresources: []),
            resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", subresources: []),
            resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", subresources: []),
            resource("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", short: ["pc"], subresources: []),
            resource("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", subresources: []),
            resource("coordination.k8s.io", "v1", "Lease", "leases", subresources: []),
            resource("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", short: ["crd", "crds"]),
            resource("apiregistration.k8s.io", "v1", "APIService", "apiservices"),
            resource("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", subresources: []),
            resource("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", subresources: []),
            resource("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", short: ["csr"],
                subresources: ["approval", "status"]),
            resource("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies"),
            resource("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", subresources: []),
            resource("policy", "v1beta1", "PodSecurityPolicy", "podsecuritypolicies", short: ["psp"], subresources: []),
            resource("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "flowschemas"),
            resource("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", "prioritylevelconfigurations"),
            // KubeVirt
            resource("kubevirt.io", "v1", "VirtualMachine", "virtualmachines", short: ["vm", "vms"], all: true),
            resource("kubevirt.io", "v1", "VirtualMachineInstance", "virtualmachineinstances", short: ["vmi", "vmis"], all: true),
            // Windlass
            resource("windlass.dev", "v1", "RolloutStrategy", "rolloutstrategies", subresources: []),
            resource("windlass.dev", "v1", "AnalysisTemplate", "analysistemplates", subresources: []),
            resource("windlass.dev", "v1", "Policy", "policies", short: ["pol"], subresources: []),
            resource("windlass.dev", "v1", "PolicyException", "policyexceptions", short: ["polex"], subresources: []),
        ])
    }()
}
