public import WindlassManifest

/// JSON merge patch (RFC 7386), as `kubectl patch --type merge` sends it: a mapping in the
/// patch merges into the target key by key, `null` removes a key, anything else (lists
/// included) replaces what is there.
public enum MergePatch {
    public static func apply(_ patch: Value, to target: Value) -> Value {
        guard let patchMapping = patch.mappingValue else { return patch }
        var result = target.mappingValue != nil ? target : Value.mapping(Mapping())
        for entry in patchMapping.entries {
            if entry.value.isNull {
                result.remove(at: [entry.key])
            } else {
                result.set(apply(entry.value, to: result[entry.key] ?? .null), at: [entry.key])
            }
        }
        return result
    }
}
