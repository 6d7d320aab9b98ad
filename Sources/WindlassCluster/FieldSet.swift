public import WindlassManifest

/// One step of a path into an object, as server-side apply tracks field ownership.
public enum FieldPathElement: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// A member of a mapping.
    case field(String)
    /// An item of a keyed list, by its key fields as canonical JSON: `{"name":"web"}`.
    case key(String)
    /// The item itself (FieldsV1's `.`): owning it keeps a list item that has only its keys.
    case itself

    public var description: String {
        switch self {
        case .field(let name): return "f:" + name
        case .key(let json): return "k:" + json
        case .itself: return "."
        }
    }

    public static func < (lhs: FieldPathElement, rhs: FieldPathElement) -> Bool {
        lhs.description < rhs.description
    }
}

public typealias FieldPath = [FieldPathElement]

/// A set of owned field paths: what one manager of an object owns.
public struct FieldSet: Sendable, Hashable {
    public var paths: Set<FieldPath>

    public init(_ paths: Set<FieldPath> = []) {
        self.paths = paths
    }

    public var isEmpty: Bool { paths.isEmpty }

    /// The leaf fields `value` sets: every scalar, empty mapping and atomic list, and every item
    /// of a keyed list (with its key fields). This is what an applier owns after applying it.
    public init(of value: Value) {
        var paths = Set<FieldPath>()
        Self.collect(value, at: [], into: &paths)
        self.init(paths)
    }

    private static func collect(_ value: Value, at path: FieldPath, into paths: inout Set<FieldPath>) {
        switch value.content {
        case .mapping(let mapping) where !mapping.isEmpty:
            for entry in mapping.entries {
                collect(entry.value, at: path + [.field(entry.key)], into: &paths)
            }
        case .sequence(let items) where !items.isEmpty:
            guard let keys = ListKeys.keys(for: path), let itemKeys = ListKeys.itemKeys(items, keys: keys) else {
                paths.insert(path)
                return
            }
            for (item, key) in zip(items, itemKeys) {
                let itemPath = path + [.key(key)]
                paths.insert(itemPath + [.itself])
                collect(item, at: itemPath, into: &paths)
            }
        default:
            if !path.isEmpty { paths.insert(path) }
        }
    }

    /// The paths rendered as Kubernetes' `fieldsV1` tree: `{"f:spec":{"f:replicas":{}}}`,
    /// keys sorted at every level.
    public var fieldsV1: Value {
        Self.tree(Array(paths), depth: 0)
    }

    private static func tree(_ paths: [FieldPath], depth: Int) -> Value {
        var children: [String: [FieldPath]] = [:]
        for path in paths where path.count > depth {
            children[path[depth].description, default: []].append(path)
        }
        var mapping = Mapping()
        mapping.entries.reserveCapacity(children.count)
        for key in children.keys.sorted() {
            mapping.entries.append(Mapping.Entry(key: key, value: tree(children[key]!, depth: depth + 1)))
        }
        return Value(.mapping(mapping))
    }

    /// Reads a `fieldsV1` tree back into paths.
    public init(fieldsV1: Value) {
        var paths = Set<FieldPath>()
        func walk(_ node: Value, _ path: FieldPath) {
            guard case .mapping(let mapping) = node.content, !mapping.isEmpty else {
                if !path.isEmpty { paths.insert(path) }
                return
            }
            for entry in mapping.entries {
                let element: FieldPathElement
                if entry.key == "." {
                    element = .itself
                } else if entry.key.hasPrefix("f:") {
                    element = .field(String(entry.key.dropFirst(2)))
                } else if entry.key.hasPrefix("k:") {
                    element = .key(String(entry.key.dropFirst(2)))
                } else {
                    continue
                }
                walk(entry.value, path + [element])
            }
        }
        walk(fieldsV1, [])
        self.init(paths)
    }
}

/// Which lists are maps keyed by some of their items' fields (Kubernetes' patch merge keys);
/// every other list is atomic, owned and replaced as a whole.
public enum ListKeys {
    /// The key fields of the list at `path`, or nil for an atomic list.
    public static func keys(for path: FieldPath) -> [String]? {
        guard case .field(let name)? = path.last else { return nil }
        switch name {
        case "containers", "initContainers", "ephemeralContainers", "env", "volumes", "imagePullSecrets",
            "volumeClaimTemplates":
            return ["name"]
        case "hostAliases":
            return ["ip"]
        case "volumeMounts":
            return ["mountPath"]
        case "volumeDevices":
            return ["devicePath"]
        case "conditions":
            return ["type"]
        case "ports":
            // A Service's ports are keyed by port, a container's by containerPort. (Kubernetes adds
            // the protocol to the key; it is left out here because it is defaulted, and an
            // applied port without it must still find its live item.)
            if path.count == 2, case .field("spec") = path[0] {
                return ["port"]
            }
            return ["containerPort"]
        default:
            return nil
        }
    }

    /// Each item's key as canonical JSON, or nil when an item is not a mapping or lacks the
    /// first key field (the list is then treated as atomic).
    static func itemKeys(_ items: [Value], keys: [String]) -> [String]? {
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case .mapping = item.content, item[keys[0]] != nil else { return nil }
            var key = Mapping()
            for name in keys.sorted() {
                if let value = item[name] { key[name] = value }
            }
            out.append(JSONWriter(sortKeys: true).write(.mapping(key)))
        }
        return out
    }

    /// The index of the item with `key` in a keyed list.
    static func index(of key: String, in items: [Value], keys: [String]) -> Int? {
        guard let itemKeys = itemKeys(items, keys: keys) else { return nil }
        return itemKeys.firstIndex(of: key)
    }
}
