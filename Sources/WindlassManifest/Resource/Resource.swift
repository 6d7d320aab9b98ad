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

extension Resource {
    /// Moves the resource and every node of its object to file `offset` places later (sets
    /// merged into one).
    mutating func renumberFile(by offset: UInt32) {
        func moved(_ span: SourceSpan) -> SourceSpan {
            span.file == .synthesized ? span : SourceSpan(file: FileID(span.file.rawValue + offset), start: span.start)
        }
        span = moved(span)
        object.respan(moved)
    }
}

extension Value {
    /// Rewrites the span of this node and of every node below it (mapping keys keep their
    /// positions, as they share their value's file).
    public mutating func respan(_ transform: (SourceSpan) -> SourceSpan) {
        span = transform(span)
        switch content {
        case .sequence(var items):
            content = .null
            for index in items.indices { items[index].respan(transform) }
            content = .sequence(items)
        case .mapping(var mapping):
            content = .null
            for index in mapping.entries.indices { mapping.entries[index].value.respan(transform) }
            content = .mapping(mapping)
        case .null, .bool, .int, .double, .string:
            break
        }
    }
}
