extension Value {
    /// Sets the value at a path of mapping keys, creating mappings on the way (a null or missing
    /// step becomes an empty mapping). Returns false, changing nothing, when a step is a
    /// scalar or a sequence.
    @discardableResult
    public mutating func set(_ newValue: Value, at path: [String]) -> Bool {
        set(newValue, at: path[...])
    }

    /// ``set(_:at:)`` on a slice of the path, changing each level in place: the mapping is
    /// taken out of this value first, so it is uniquely held and neither it nor the levels
    /// below are copied on write.
    private mutating func set(_ newValue: Value, at path: ArraySlice<String>) -> Bool {
        guard let key = path.first else {
            self = newValue
            return true
        }
        var mapping: Mapping
        switch content {
        case .mapping(let m): mapping = m
        case .null: mapping = Mapping()
        default: return false
        }
        content = .null
        defer { content = .mapping(mapping) }
        if let index = mapping.index(forKey: key) {
            return mapping.entries[index].value.set(newValue, at: path.dropFirst())
        }
        var child = Value.null
        guard child.set(newValue, at: path.dropFirst()) else { return false }
        mapping.entries.append(Mapping.Entry(key: key, value: child))
        return true
    }

    /// Sets the value at `path` only when nothing (or null) is there: how defaults are applied.
    @discardableResult
    public mutating func setDefault(_ value: Value, at path: [String]) -> Bool {
        if let existing = self[path: path], !existing.isNull { return false }
        return set(value, at: path)
    }

    /// Removes the value at a path; true when something was removed.
    @discardableResult
    public mutating func remove(at path: [String]) -> Bool {
        remove(at: path[...])
    }

    private mutating func remove(at path: ArraySlice<String>) -> Bool {
        guard let key = path.first, case .mapping(var mapping) = content, let index = mapping.index(forKey: key) else { return false }
        if path.count == 1 {
            content = .null
            mapping.entries.remove(at: index)
            content = .mapping(mapping)
            return true
        }
        guard case .mapping = mapping.entries[index].value.content else { return false }
        content = .null
        defer { content = .mapping(mapping) }
        return mapping.entries[index].value.remove(at: path.dropFirst())
    }

    /// Applies `transform` to each item of the sequence at `path`, if there is one.
    public mutating func updateItems(at path: [String], _ transform: (inout Value) -> Void) {
        guard var items = self[path: path]?.sequenceValue else { return }
        for index in items.indices { transform(&items[index]) }
        set(Value(.sequence(items)), at: path)
    }
}
