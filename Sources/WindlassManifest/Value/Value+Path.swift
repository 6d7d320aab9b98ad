extension Value {
    /// Sets the value at a path of mapping keys, creating mappings on the way (a null or missing
    /// step becomes an empty mapping). Returns false, changing nothing, when a step is a
    /// scalar or a sequence.
    @discardableResult
    public mutating func set(_ newValue: Value, at path: [String]) -> Bool {
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
        var child = mapping[key] ?? .null
        guard child.set(newValue, at: Array(path.dropFirst())) else { return false }
        // Release our copy before writing back, so the child is not copied on write.
        content = .null
        mapping[key] = child
        content = .mapping(mapping)
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
        guard let key = path.first, case .mapping(var mapping) = content else { return false }
        if path.count == 1 {
            guard mapping[key] != nil else { return false }
            mapping[key] = nil
            content = .mapping(mapping)
            return true
        }
        guard var child = mapping[key], child.remove(at: Array(path.dropFirst())) else { return false }
        content = .null
        mapping[key] = child
        content = .mapping(mapping)
        return true
    }

    /// Applies `transform` to each item of the sequence at `path`, if there is one.
    public mutating func updateItems(at path: [String], _ transform: (inout Value) -> Void) {
        guard var items = self[path: path]?.sequenceValue else { return }
        for index in items.indices { transform(&items[index]) }
        set(Value(.sequence(items)), at: path)
    }
}
