/// OpenAPI v3 schemas compiled into a flat table: every node refers to its children by index,
/// so the table is a plain value, `$ref` cycles cost nothing, and a CustomResourceDefinition's
/// schema can be appended to a copy of it.
public struct SchemaTable: Sendable {
    /// The JSON types a node accepts.
    struct Types: OptionSet, Sendable, Hashable {
        let rawValue: UInt8
        static let object = Types(rawValue: 1)
        static let array = Types(rawValue: 2)
        static let string = Types(rawValue: 4)
        static let integer = Types(rawValue: 8)
        static let number = Types(rawValue: 16)
        static let boolean = Types(rawValue: 32)
    }

    enum Additional: Sendable, Hashable {
        /// Only the listed properties are allowed.
        case forbidden
        /// Any other property, of any shape.
        case any
        /// Any other property, each checked against a node (a map's values).
        case schema(Int)
    }

    struct Node: Sendable {
        /// Empty means any type.
        var types: Types = []
        var properties: [String: Int] = [:]
        var additional: Additional = .any
        var items: Int? = nil
        var required: [String] = []
        var enumValues: [String]? = nil
        var isInt32 = false
    }

    var nodes: [Node]
    /// The root node of each kind.
    var kinds: [GroupVersionKind: Int]
    /// The node of `ObjectMeta`, used for the metadata of every kind, custom ones included.
    var objectMeta: Int?

    /// `apiVersion/Kind` of every built-in kind → the minor versions of Kubernetes that serve it.
    static let servedKinds: [String: ClosedRange<Int>] = {
        guard let root = try? JSONReader.read(kubernetesServedKindsJSON), let entries = root.mappingValue?.entries else {
            fatalError("embedded Kubernetes kinds are unreadable")
        }
        var out: [String: ClosedRange<Int>] = [:]
        for entry in entries {
            guard let span = entry.value.sequenceValue, span.count == 2, let low = span[0].intValue, let high = span[1].intValue else { continue }
            out[entry.key] = low...high
        }
        return out
    }()

    /// The group-versions whose kinds are all in the table (every built-in one): an unknown
    /// kind there is an error, not just a kind without a schema.
    static let completeGroupVersions: Set<String> = Set(servedKinds.keys.map { key in String(key[..<key.lastIndex(of: "/")!]) })

    /// The minor versions of Kubernetes that serve `gvk` (nil: not a built-in kind).
    static func servingVersions(of gvk: GroupVersionKind) -> ClosedRange<Int>? {
        servedKinds[gvk.apiVersion + "/" + gvk.kind]
    }

    /// The schemas of Kubernetes' built-in kinds (every version covered), compiled at first use.
    public static let kubernetes: SchemaTable = {
        do {
            let documents = try YAMLReader.read(kubernetesSchemasJSON)
            return try SchemaCompiler.compileComponents(documents[0].root)
        } catch {
            // The document is generated and tested; failing here is a build defect.
            fatalError("embedded Kubernetes schemas are unreadable: \(error)")
        }
    }()

    /// The kinds of a group-version, for suggestions.
    func kindNames(in apiVersion: String) -> [String] {
        kinds.keys.filter { $0.apiVersion == apiVersion }.map(\.kind)
    }
}

/// A schema could not be compiled.
struct SchemaError: Error, CustomStringConvertible {
    var message: String
    var position: SourcePosition
    var description: String { message }
}

/// Compiles OpenAPI v3 schema values into ``SchemaTable`` nodes.
enum SchemaCompiler {
    /// Compiles `components.schemas`, resolving `#/components/schemas/NAME` references.
    static func compileComponents(_ components: Value) throws -> SchemaTable {
        guard case .mapping(let named) = components.content else {
            throw SchemaError(message: "components.schemas must be a mapping", position: components.span.start)
        }
        var compiler = State(nodes: Array(repeating: SchemaTable.Node(), count: named.count))
        for (index, entry) in named.entries.enumerated() {
            compiler.named["#/components/schemas/" + entry.key] = index
        }
        var kinds: [GroupVersionKind: Int] = [:]
        for (index, entry) in named.entries.enumerated() {
            compiler.nodes[index] = try compiler.node(entry.value)
            for gvk in entry.value["x-kubernetes-group-version-kind"]?.sequenceValue ?? [] {
                guard let kind = gvk["kind"]?.stringValue, let version = gvk["version"]?.stringValue else {
                    continue
                }
                kinds[GroupVersionKind(group: gvk["group"]?.stringValue ?? "", version: version, kind: kind)] = index
            }
        }
        return SchemaTable(
            nodes: compiler.nodes,
            kinds: kinds,
            objectMeta: compiler.named["#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
        )
    }

    /// Appends a self-contained schema (a CRD's `openAPIV3Schema`) to a table, returning its root.
    /// The root's `metadata` is checked as ObjectMeta, as the API server does.
    static func append(_ schema: Value, to table: inout SchemaTable) throws -> Int {
        var compiler = State(nodes: table.nodes)
        let root = try compiler.compile(schema)
        // The API server adds these to every custom resource's schema.
        compiler.nodes.append(SchemaTable.Node(types: .string))
        let string = compiler.nodes.count - 1
        compiler.nodes[root].properties["apiVersion"] = string
        compiler.nodes[root].properties["kind"] = string
        if let meta = table.objectMeta {
            compiler.nodes[root].properties["metadata"] = meta
        }
        table.nodes = compiler.nodes
        return root
    }

    struct State {
        var nodes: [SchemaTable.Node]
        var named: [String: Int] = [:]

        /// Compiles a schema into a new node (or the node it refers to) and returns its index.
        mutating func compile(_ schema: Value) throws -> Int {
            if let ref = schema["$ref"]?.stringValue {
                guard let index = named[ref] else {
                    throw SchemaError(message: "unknown schema reference \(ref)", position: schema.span.start)
                }
                return index
            }
            // `allOf: [{$ref}]` is how the documents attach a description to a reference.
            if let allOf = schema["allOf"]?.sequenceValue, allOf.count == 1, schema["properties"] == nil,
                schema["type"] == nil
            {
                return try compile(allOf[0])
            }
            let node = try node(schema)
            nodes.append(node)
            return nodes.count - 1
        }

        mutating func node(_ schema: Value) throws -> SchemaTable.Node {
            var node = SchemaTable.Node()
            guard case .mapping = schema.content else {
                // `true` or an empty schema: anything goes.
                return node
            }
            if let type = schema["type"]?.stringValue {
                node.types = Self.types(type)
            }
            for alternative in (schema["oneOf"]?.sequenceValue ?? []) + (schema["anyOf"]?.sequenceValue ?? []) {
                if let type = alternative["type"]?.stringValue {
                    node.types.formUnion(Self.types(type))
                } else {
                    // An alternative without a type could be anything.
                    node.types = []
                    break
                }
            }
            if schema["x-kubernetes-int-or-string"]?.boolValue == true {
                node.types = [.integer, .string]
            }
            node.isInt32 = schema["format"]?.stringValue == "int32"
            if let properties = schema["properties"]?.mappingValue {
                for entry in properties.entries {
                    node.properties[entry.key] = try compile(entry.value)
                }
                node.additional = .forbidden
                if node.types.isEmpty { node.types = .object }
            }
            switch schema["additionalProperties"]?.content {
            case .bool(let allowed)?:
                node.additional = allowed ? .any : .forbidden
            case .mapping?:
                node.additional = .schema(try compile(schema["additionalProperties"]!))
            default:
                break
            }
            if schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true {
                node.additional = .any
            }
            if let items = schema["items"], case .mapping = items.content {
                node.items = try compile(items)
            }
            node.required = (schema["required"]?.sequenceValue ?? []).compactMap(\.stringValue)
            if let values = schema["enum"]?.sequenceValue {
                let strings = values.compactMap(\.stringValue)
                if strings.count == values.count, !strings.isEmpty { node.enumValues = strings }
            }
            return node
        }

        static func types(_ name: String) -> SchemaTable.Types {
            switch name {
            case "object": return .object
            case "array": return .array
            case "string": return .string
            case "integer": return .integer
            case "number": return [.number, .integer]
            case "boolean": return .boolean
            default: return []
            }
        }
    }
}

extension SchemaTable {
    /// The fields of `object` its kind's schema does not declare (`spec.replicaz`,
    /// `spec.template.spec.containers[0].imagePullPolicyy`), as an API server's strict field
    /// validation names them; nil when the kind has no schema. `customSchema` is a custom
    /// resource's `openAPIV3Schema`, used instead of the built-in table.
    public static func unknownFields(in object: Value, kind: GroupVersionKind, customSchema: Value? = nil) -> [String]? {
        var table = SchemaTable.kubernetes
        let root: Int
        if let customSchema {
            guard let appended = try? SchemaCompiler.append(customSchema, to: &table) else { return nil }
            root = appended
        } else {
            guard let known = table.kinds[kind] else { return nil }
            root = known
        }
        var found: [String] = []
        table.collectUnknown(object, node: root, path: "", into: &found)
        return found
    }

    private func collectUnknown(_ value: Value, node index: Int, path: String, into found: inout [String]) {
        let node = nodes[index]
        switch value.content {
        case .mapping(let mapping):
            for entry in mapping.entries {
                let childPath = path.isEmpty ? entry.key : path + "." + entry.key
                if let child = node.properties[entry.key] {
                    collectUnknown(entry.value, node: child, path: childPath, into: &found)
                    continue
                }
                switch node.additional {
                case .forbidden: found.append(childPath)
                case .schema(let child): collectUnknown(entry.value, node: child, path: childPath, into: &found)
                case .any: break
                }
            }
        case .sequence(let items):
            guard let child = node.items else { return }
            for (offset, item) in items.enumerated() {
                collectUnknown(item, node: child, path: "\(path)[\(offset)]", into: &found)
            }
        default:
            break
        }
    }
}
