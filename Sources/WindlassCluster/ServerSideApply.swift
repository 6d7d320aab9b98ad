public import WindlassManifest

/// Server-side apply as the API server does it: each manager owns the fields it last applied;
/// applying a field another manager owns with a different value is a conflict (unless forced);
/// fields a manager stops applying are removed when no one else owns them; writes that are not
/// applies (controllers, `scale`) take the fields they change.
public enum ServerSideApply {
    /// Who owns what: manager name → fields.
    public typealias Managers = [String: FieldSet]

    /// Fields the server manages, never owned by an applier.
    static let serverFields: [[String]] = [
        ["apiVersion"], ["kind"], ["status"], ["metadata", "name"], ["metadata", "namespace"], ["metadata", "uid"],
        ["metadata", "resourceVersion"], ["metadata", "generation"], ["metadata", "creationTimestamp"],
        ["metadata", "managedFields"], ["metadata", "deletionTimestamp"], ["metadata", "selfLink"],
    ]

    /// The part of an object that managers own: the object without its server-managed fields.
    public static func ownable(_ object: Value) -> Value {
        var out = object
        for path in serverFields { out.remove(at: path) }
        // With its identity fields gone, an otherwise empty metadata is nothing to own.
        if out["metadata"]?.mappingValue?.isEmpty == true { out.remove(at: ["metadata"]) }
        return out
    }

    /// Applies `applied` as `manager` onto `live` (nil when the object is new).
    public static func apply(
        _ applied: Value,
        to live: Value?,
        managers: Managers,
        manager: String,
        force: Bool
    ) throws(ClusterError) -> (object: Value, managers: Managers) {
        let intent = ownable(applied)
        let owned = FieldSet(of: intent)
        guard var result = live else {
            var out = applied
            out.remove(at: ["status"])
            return (out, owned.isEmpty ? [:] : [manager: owned])
        }
        var managers = managers

        // Conflicts: a field another manager owns, applied with a different value.
        var conflicts: [(manager: String, path: FieldPath)] = []
        for (other, fields) in managers where other != manager {
            for path in owned.paths.intersection(fields.paths) where path.last != .itself {
                if result.value(at: path) != intent.value(at: path) {
                    conflicts.append((other, path))
                }
            }
        }
        if !conflicts.isEmpty {
            conflicts.sort { ($0.manager, render($0.path)) < ($1.manager, render($1.path)) }
            if !force {
                let causes = conflicts.map { ClusterError.Cause(field: render($0.path), message: "conflict with \"\($0.manager)\"") }
                let list = conflicts.map { "conflict with \"\($0.manager)\": \(render($0.path))" }.joined(separator: ", ")
                let noun = conflicts.count == 1 ? "conflict" : "conflicts"
                throw ClusterError(.conflict, "Apply failed with \(conflicts.count) \(noun): \(list)", causes: causes)
            }
            for conflict in conflicts {
                managers[conflict.manager]?.paths.remove(conflict.path)
            }
        }

        result = merge(intent, into: result, at: [])

        // Fields this manager applied before and no longer does, unless someone else owns them.
        let previous = managers[manager] ?? FieldSet()
        // Whole list items first (a removed item takes its fields with it, and its key fields must
        // still be there to find it), then the deepest fields first.
        let dropped = previous.paths.subtracting(owned.paths).sorted { a, b in
            let aItem = a.last == .itself
            let bItem = b.last == .itself
            if aItem != bItem { return aItem }
            if a.count != b.count { return a.count > b.count }
            return a.lexicographicallyPrecedes(b)
        }
        let others = managers.filter { $0.key != manager }.values
        var removedItems: [FieldPath] = []
        for path in dropped {
            let target = path.last == .itself ? Array(path.dropLast()) : path
            if removedItems.contains(where: { target.starts(with: $0) }) { continue }
            let stillOwned = others.contains { fields in fields.paths.contains { $0.starts(with: target) } }
            if stillOwned { continue }
            // A leaf that became a mapping: the manager now owns what is under it.
            if path.last != .itself, owned.paths.contains(where: { $0.count > target.count && $0.starts(with: target) }) { continue }
            result.removeValue(at: target)
            if path.last == .itself { removedItems.append(target) }
        }
        managers[manager] = owned
        return (result, managers.filter { !$0.value.isEmpty })
    }

    /// The object a forced apply by `manager` would leave, without the bookkeeping of who owns
    /// what afterwards: what a plan needs. When every field `manager` owned is still applied
    /// (the common case) this is only a merge; otherwise it is a full ``apply(_:to:managers:manager:force:)``.
    public static func predict(_ applied: Value, onto live: Value, manager: String) -> Value {
        let intent = ownable(applied)
        let entries = live[path: ["metadata", "managedFields"]]?.sequenceValue ?? []
        let own = entries.filter { $0["manager"]?.stringValue == manager }
        if own.allSatisfy({ covers(intent, fieldsV1: $0["fieldsV1"] ?? .null, at: []) }) {
            return merge(intent, into: live, at: [])
        }
        var managers: Managers = [:]
        for entry in entries {
            guard let name = entry["manager"]?.stringValue, let fields = entry["fieldsV1"] else { continue }
            managers[name, default: FieldSet()].paths.formUnion(FieldSet(fieldsV1: fields).paths)
        }
        return (try? apply(applied, to: live, managers: managers, manager: manager, force: true).object) ?? merge(intent, into: live, at: [])
    }

    /// Whether every path of a `fieldsV1` tree is still present in `value`.
    static func covers(_ value: Value, fieldsV1 node: Value, at path: FieldPath) -> Bool {
        guard case .mapping(let mapping) = node.content, !mapping.isEmpty else { return true }
        for entry in mapping.entries {
            if entry.key == "." { continue }
            if entry.key.hasPrefix("f:") {
                let name = String(entry.key.dropFirst(2))
                guard let child = value[name] else { return false }
                if !covers(child, fieldsV1: entry.value, at: path + [.field(name)]) { return false }
            } else if entry.key.hasPrefix("k:") {
                let key = String(entry.key.dropFirst(2))
                guard let items = value.sequenceValue, let keys = ListKeys.keys(for: path),
                    let index = ListKeys.index(of: key, in: items, keys: keys)
                else { return false }
                if !covers(items[index], fieldsV1: entry.value, at: path + [.key(key)]) { return false }
            }
        }
        return true
    }

    /// A write that is not an apply: `manager` takes every field whose value it changed (others
    /// lose them), and removed fields leave every manager.
    public static func update(from old: Value, to new: Value, managers: Managers, manager: String) -> Managers {
        let before = FieldSet(of: ownable(old))
        let after = FieldSet(of: ownable(new))
        var changed = Set<FieldPath>()
        for path in after.paths where path.last != .itself {
            if old.value(at: path) != new.value(at: path) { changed.insert(path) }
        }
        for path in after.paths where path.last == .itself && !before.paths.contains(path) {
            changed.insert(path)
        }
        let removed = before.paths.subtracting(after.paths)
        var out = managers
        for (name, fields) in out {
            out[name] = FieldSet(fields.paths.subtracting(changed).subtracting(removed))
        }
        if !changed.isEmpty {
            out[manager, default: FieldSet()].paths.formUnion(changed)
        }
        return out.filter { !$0.value.isEmpty }
    }

    /// Deep merge of applied intent into live: mappings merge, keyed lists merge by key, anything
    /// else is replaced.
    static func merge(_ applied: Value, into live: Value, at path: FieldPath) -> Value {
        switch (applied.content, live.content) {
        case (.mapping(let a), .mapping(let l)):
            var out = l
            for entry in a.entries {
                let child = path + [.field(entry.key)]
                out[entry.key] = merge(entry.value, into: l[entry.key] ?? .null, at: child)
            }
            return Value(.mapping(out), span: live.span)
        case (.sequence(let a), .sequence(let l)):
            guard let keys = ListKeys.keys(for: path), let appliedKeys = ListKeys.itemKeys(a, keys: keys),
                let liveKeys = ListKeys.itemKeys(l, keys: keys)
            else { return applied }
            var out = l
            var index = Dictionary(liveKeys.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            for (item, key) in zip(a, appliedKeys) {
                if let i = index[key] {
                    out[i] = merge(item, into: l[i], at: path + [.key(key)])
                } else {
                    index[key] = out.count
                    out.append(item)
                }
            }
            return Value(.sequence(out), span: live.span)
        default:
            return applied
        }
    }

    /// `.spec.template.spec.containers[name="web"].image`, as the API server names fields.
    public static func render(_ path: FieldPath) -> String {
        var out = ""
        for element in path {
            switch element {
            case .field(let name): out += "." + name
            case .key(let json):
                // `{"name":"web"}` → `[name="web"]`.
                let fields = (try? YAMLReader.read(json).first?.root.mappingValue) ?? nil
                let parts = fields?.entries.map { "\($0.key)=\(JSONWriter().write($0.value))" } ?? [json]
                out += "[" + parts.joined(separator: ",") + "]"
            case .itself: break
            }
        }
        return out
    }
}

extension Value {
    /// The value at a field path (a `.key` step finds the keyed list's item).
    public func value(at path: FieldPath) -> Value? {
        var current = self
        var walked: FieldPath = []
        for element in path {
            switch element {
            case .field(let name):
                guard let next = current[name] else { return nil }
                current = next
            case .key(let json):
                guard let items = current.sequenceValue, let keys = ListKeys.keys(for: walked),
                    let index = ListKeys.index(of: json, in: items, keys: keys)
                else { return nil }
                current = items[index]
            case .itself:
                break
            }
            walked.append(element)
        }
        return current
    }

    /// Removes the value at a field path (a path ending in a `.key` step removes the list item).
    @discardableResult
    public mutating func removeValue(at path: FieldPath) -> Bool {
        guard let first = path.first else { return false }
        return removeValue(at: path[...], walked: [first])
    }

    private mutating func removeValue(at path: ArraySlice<FieldPathElement>, walked: FieldPath) -> Bool {
        guard let element = path.first else { return false }
        let rest = path.dropFirst()
        switch element {
        case .field(let name):
            guard case .mapping(var mapping) = content, var child = mapping[name] else { return false }
            if rest.isEmpty {
                mapping[name] = nil
            } else {
                guard child.removeValue(at: rest, walked: walked + [rest.first!]) else { return false }
                mapping[name] = child
            }
            content = .mapping(mapping)
            return true
        case .key(let json):
            let listPath = Array(walked.dropLast())
            guard case .sequence(var items) = content, let keys = ListKeys.keys(for: listPath),
                let index = ListKeys.index(of: json, in: items, keys: keys)
            else { return false }
            if rest.isEmpty || rest.first == .itself {
                items.remove(at: index)
            } else {
                guard items[index].removeValue(at: rest, walked: walked + [rest.first!]) else { return false }
            }
            content = .sequence(items)
            return true
        case .itself:
            return false
        }
    }
}
