public import WindlassManifest

/// Strategic merge patch, as `kubectl patch` (its default type) and client-side `kubectl apply`
/// send it: mappings merge and `null` removes a key, as in a JSON merge patch; a list whose
/// items have a merge key (containers, env and volumes by `name`, volumeMounts by `mountPath`,
/// ports by `containerPort` or a Service's by `port`, conditions by `type`) merges item by
/// item, other lists are replaced. Directives: `$patch: replace|delete|merge` on a mapping or a
/// list item, `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`;
/// `metadata.finalizers` merges as a set, as its patch strategy says.
public enum StrategicMergePatch {
    public static func apply(_ patch: Value, to target: Value) throws(ClusterError) -> Value {
        guard patch.mappingValue != nil else {
            throw ClusterError(.badRequest, "a strategic merge patch must be a mapping, not \(patch.typeName)")
        }
        return try merge(patch, into: target, path: [])
    }

    static func merge(_ patch: Value, into target: Value, path: FieldPath) throws(ClusterError) -> Value {
        guard let patchMapping = patch.mappingValue else { return patch }
        switch patchMapping["$patch"]?.stringValue {
        case "replace":
            var replaced = patch
            replaced.remove(at: ["$patch"])
            return try stripDirectives(replaced)
        case "delete":
            return .null
        case nil, "merge":
            break
        case let other?:
            throw ClusterError(.badRequest, "unknown strategic merge patch directive $patch: \(other ?? "")")
        }
        var result = target.mappingValue != nil ? target : Value.mapping(Mapping())
        var orders: [String: [Value]] = [:]
        for entry in patchMapping.entries {
            let key = entry.key
            if key == "$patch" { continue }
            if key == "$retainKeys" { continue }
            if key.hasPrefix("$setElementOrder/") {
                orders[String(key.dropFirst("$setElementOrder/".count))] = entry.value.sequenceValue ?? []
                continue
            }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let doomed = entry.value.sequenceValue ?? []
                if let list = result[field]?.sequenceValue {
                    result.set(.sequence(list.filter { !doomed.contains($0) }), at: [field])
                }
                continue
            }
            if entry.value.isNull {
                result.remove(at: [key])
                continue
            }
            let childPath = path + [.field(key)]
            let current = result[key] ?? .null
            let merged: Value
            if let items = entry.value.sequenceValue {
                merged = try mergeList(items, into: current.sequenceValue ?? [], path: childPath)
            } else if entry.value.mappingValue != nil {
                merged = try merge(entry.value, into: current, path: childPath)
            } else {
                merged = entry.value
            }
            if merged.isNull {
                result.remove(at: [key])
            } else {
                result.set(merged, at: [key])
            }
        }
        for (field, order) in orders {
            guard let list = result[field]?.sequenceValue else { continue }
            result.set(.sequence(reorder(list, by: order, path: path + [.field(field)])), at: [field])
        }
        if let retained = patchMapping["$retainKeys"]?.sequenceValue {
            let keep = Set(retained.compactMap(\.stringValue))
            if var mapping = result.mappingValue {
                mapping.entries.removeAll { !keep.contains($0.key) }
                result = .mapping(mapping)
            }
        }
        return result
    }

    static func mergeList(_ patchItems: [Value], into current: [Value], path: FieldPath) throws(ClusterError) -> Value {
        // A `{$patch: replace}` item replaces the list with the patch's other items.
        if patchItems.contains(where: { $0["$patch"]?.stringValue == "replace" && $0.mappingValue?.count == 1 }) {
            return .sequence(try patchItems.filter { !($0["$patch"]?.stringValue == "replace" && $0.mappingValue?.count == 1) }.map(stripDirectives))
        }
        if isSetList(path) {
            var result = current
            for item in patchItems where !result.contains(item) { result.append(item) }
            return .sequence(result)
        }
        guard let keys = ListKeys.keys(for: path), let key = keys.first, patchItems.allSatisfy({ $0.mappingValue != nil && $0[key] != nil }) else {
            return .sequence(try patchItems.map(stripDirectives))
        }
        var result = current
        for item in patchItems {
            let index = result.firstIndex { $0[key] == item[key] }
            if item["$patch"]?.stringValue == "delete" {
                if let index { result.remove(at: index) }
                continue
            }
            let itemPath = path + [.key(JSONWriter(sortKeys: true).write([key: item[key] ?? .null]))]
            if let index {
                let merged = try merge(item, into: result[index], path: itemPath)
                if merged.isNull { result.remove(at: index) } else { result[index] = merged }
            } else {
                result.append(try merge(item, into: .null, path: itemPath))
            }
        }
        return .sequence(result)
    }

    /// Items in the order `$setElementOrder` gives, the rest after them as they were.
    static func reorder(_ list: [Value], by order: [Value], path: FieldPath) -> [Value] {
        guard let key = ListKeys.keys(for: path)?.first else {
            let ranked = list.filter { order.contains($0) }.sorted { a, b in (order.firstIndex(of: a) ?? 0) < (order.firstIndex(of: b) ?? 0) }
            return ranked + list.filter { !order.contains($0) }
        }
        let wanted = order.compactMap { $0[key] }
        let ranked = list.filter { item in wanted.contains { $0 == item[key] } }
            .sorted { a, b in (wanted.firstIndex { $0 == a[key] } ?? 0) < (wanted.firstIndex { $0 == b[key] } ?? 0) }
        return ranked + list.filter { item in !wanted.contains { $0 == item[key] } }
    }

    /// Lists merged as sets of scalars (patch strategy `merge` without a key).
    static func isSetList(_ path: FieldPath) -> Bool {
        path == [.field("metadata"), .field("finalizers")]
    }

    /// A value with every `$`-directive removed (what a replaced subtree stores).
    static func stripDirectives(_ value: Value) throws(ClusterError) -> Value {
        switch value.content {
        case .mapping(let mapping):
            var out = Mapping()
            for entry in mapping.entries where !entry.key.hasPrefix("$") {
                out[entry.key] = try stripDirectives(entry.value)
            }
            return .mapping(out)
        case .sequence(let items):
            return .sequence(try items.map(stripDirectives))
        default:
            return value
        }
    }
}
