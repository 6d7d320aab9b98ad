public import WindlassManifest

extension ResourceID {
    /// The identity of a Kubernetes object value; nil when `apiVersion`, `kind` or
    /// `metadata.name` is missing.
    public init?(object: Value) {
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
            let name = object[path: ["metadata", "name"]]?.stringValue
        else { return nil }
        self.init(GroupVersionKind(apiVersion: apiVersion, kind: kind), namespace: object[path: ["metadata", "namespace"]]?.stringValue, name: name)
    }
}
