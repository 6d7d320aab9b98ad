/// The OpenAPI schemas of Kubernetes' built-in kinds (every version 1.27 to 1.37 merged, the
/// newest winning), as the `components.schemas` of an OpenAPI v3 document: what an API
/// server serves at `/openapi/v3` so that `kubectl explain`, `apply` and `edit` know its kinds.
public enum KubernetesOpenAPI {
    /// `components.schemas`, by schema name (`io.k8s.api.apps.v1.Deployment`).
    public static let components: Mapping = {
        guard let root = try? JSONReader.read(kubernetesSchemasJSON), let mapping = root.mappingValue else {
            fatalError("embedded Kubernetes schemas are unreadable")
        }
        return mapping
    }()

    /// The same schemas, by name, for lookups.
    public static let schemas: [String: Value] = Dictionary(components.entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })

    /// The schema name of each kind (`apps/v1 Deployment` → `io.k8s.api.apps.v1.Deployment`).
    public static let schemaNames: [GroupVersionKind: String] = {
        var names: [GroupVersionKind: String] = [:]
        for entry in components.entries {
            for gvk in entry.value["x-kubernetes-group-version-kind"]?.sequenceValue ?? [] {
                guard let kind = gvk["kind"]?.stringValue, let version = gvk["version"]?.stringValue else { continue }
                names[GroupVersionKind(group: gvk["group"]?.stringValue ?? "", version: version, kind: kind)] = entry.key
            }
        }
        return names
    }()
}
