public import WindlassCluster
public import WindlassManifest

/// One field that differs: `spec.replicas: 3 => 5`. A nil side means the field is absent there.
public struct FieldChange: Sendable, Hashable {
    /// `spec.template.spec.containers[name=web].image`; keys with dots or slashes are quoted:
    /// `metadata.annotations["windlass.dev/tracking-id"]`.
    public var path: String
    public var before: Value?
    public var after: Value?

    public init(path: String, before: Value?, after: Value?) {
        self.path = path
        self.before = before
        self.after = after
    }
}

/// The semantic difference between two objects: map order ignored, keyed lists (containers by
/// name, ports by number, …) compared by key, atomic lists in order, numbers by value (`1` =
/// `1.0`), quantities canonically (`1000m` = `1`, `1Gi` = `1024Mi`), null the same as absent.
public enum FieldDiff {
    public static func changes(from before: Value, to after: Value) -> [FieldChange] {
        var out: [FieldChange] = []
        walk(before, after, path: [], display: "", quantities: false, into: &out)
        return out
    }

    /// Whether two values mean the same, by the rules above.
    public static func equivalent(_ a: Value?, _ b: Value?) -> Bool {
        var out: [FieldChange] = []
        walk(a, b, path: [], display: "", quantities: false, into: &out)
        return out.isEmpty
    }

    /// Mappings whose values are quantities.
    static let quantityMaps: Set<String> = ["limits", "requests", "capacity", "allocatable", "hard", "overhead"]

    private static func walk(_ a: Value?, _ b: Value?, path: FieldPath, display: String, quantities: Bool, into out: inout [FieldChange]) {
        let a = a?.isNull == true ? nil : a
        let b = b?.isNull == true ? nil : b
        guard let a, let b else {
            if a != nil || b != nil { out.append(FieldChange(path: display, before: a, after: b)) }
            return
        }
        switch (a.content, b.content) {
        case (.mapping(let ma), .mapping(let mb)):
            let childQuantities: Bool
            if case .field(let name)? = path.last { childQuantities = quantityMaps.contains(name) } else { childQuantities = false }
            for entry in ma.entries {
                walk(entry.value, mb[entry.key], path: path + [.field(entry.key)], display: join(display, entry.key), quantities: childQuantities, into: &out)
            }
            for entry in mb.entries where ma[entry.key] == nil {
                walk(nil, entry.value, path: path + [.field(entry.key)], display: join(display, entry.key), quantities: childQuantities, into: &out)
            }
        case (.sequence(let la), .sequence(let lb)):
            if let keys = ListKeys.keys(for: path), let ka = itemKeys(la, keys), let kb = itemKeys(lb, keys),
                Set(ka).count == ka.count, Set(kb).count == kb.count
            {
                let indexB = Dictionary(uniqueKeysWithValues: kb.enumerated().map { ($1, $0) })
                for (i, key) in ka.enumerated() {
                    let item = display + "[" + key + "]"
                    walk(la[i], indexB[key].map { lb[$0] }, path: path + [.key(key)], display: item, quantities: false, into: &out)
                }
                let indexA = Set(ka)
                for (i, key) in kb.enumerated() where !indexA.contains(key) {
                    walk(nil, lb[i], path: path + [.key(key)], display: display + "[" + key + "]", quantities: false, into: &out)
                }
            } else if la.count != lb.count || zip(la, lb).contains(where: { !equivalent($0, $1) }) {
                out.append(FieldChange(path: display, before: a, after: b))
            }
        default:
            if !scalarsEquivalent(a, b, quantities: quantities || isQuantityField(path)) {
                out.append(FieldChange(path: display, before: a, after: b))
            }
        }
    }

    private static func isQuantityField(_ path: FieldPath) -> Bool {
        if case .field("sizeLimit")? = path.last { return true }
        return false
    }

    private static func scalarsEquivalent(_ a: Value, _ b: Value, quantities: Bool) -> Bool {
        if quantities, a != b, let qa = Quantity(a), let qb = Quantity(b) {
            return qa == qb
        }
        switch (a.content, b.content) {
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)):
            return Double(x) == y
        default:
            return a == b
        }
    }

    /// `name=web` for each item of a keyed list, or nil when an item lacks its key.
    private static func itemKeys(_ items: [Value], _ keys: [String]) -> [String]? {
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case .mapping(let mapping) = item.content, mapping[keys[0]] != nil else { return nil }
            var parts: [String] = []
            for key in keys {
                if let value = mapping[key] { parts.append(key + "=" + scalarText(value)) }
            }
            out.append(parts.joined(separator: ","))
        }
        return out
    }

    static func scalarText(_ value: Value) -> String {
        switch value.content {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        case .null: return "null"
        default: return JSONWriter().write(value)
        }
    }

    /// `spec` + `replicas` → `spec.replicas`; keys with `.` or `/` are quoted.
    static func join(_ path: String, _ key: String) -> String {
        if key.contains(".") || key.contains("/") || key.contains(" ") || key.isEmpty {
            return path + "[\"" + key + "\"]"
        }
        return path.isEmpty ? key : path + "." + key
    }
}
