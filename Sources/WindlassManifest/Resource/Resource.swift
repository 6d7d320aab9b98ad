/// One Kubernetes object of the desired set, as written in git, with where it was written.
public struct Resource: Sendable, Hashable {
    public var id: ResourceID
    /// The whole object (`apiVersion`, `kind`, `metadata`, `spec`, …), with the default
    /// namespace filled in when the manifest left it out.
    public var object: Value
    /// The span of the object: its document, or its item of a `kind: List`.
    public var span: SourceSpan

    public init(id: ResourceID, object: Value, span: SourceSpan) {
        self.id = id
        self.object = object
        self.span = span
    }

    public var metadata: Mapping? { object["metadata"]?.mappingValue }

    /// `metadata.labels` as strings (values that are not strings are left out).
    public var labels: [String: String] { stringMap("labels") }

    /// `metadata.annotations` as strings (values that are not strings are left out).
    public var annotations: [String: String] { stringMap("annotations") }

    private func stringMap(_ key: String) -> [String: String] {
        guard let map = metadata?[key]?.mappingValue else { return [:] }
        var out: [String: String] = [:]
        for entry in map.entries {
            if let s = entry.value.stringValue { out[entry.key] = s }
        }
        return out
    }

    public static func == (lhs: Resource, rhs: Resource) -> Bool {
        lhs.id == rhs.id && lhs.object == rhs.object
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(object)
    }
}
