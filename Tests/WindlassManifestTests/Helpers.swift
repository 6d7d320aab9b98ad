import WindlassManifest
import WindlassTesting

/// Loads and validates paths the way `windlass validate PATH…` does.
func validate(_ paths: [String], namespace: String = "default") throws -> (ManifestSet, [Diagnostic]) {
    let set = try ManifestLoader.load(paths: paths, options: LoadOptions(defaultNamespace: namespace))
    return (set, set.diagnostics + ManifestValidator().validate(set))
}

/// Parses one YAML document.
func yaml(_ text: String) throws -> Value {
    try YAMLReader.read(text).first?.root ?? .null
}

extension [Diagnostic] {
    var errors: [Diagnostic] { filter { $0.severity == .error } }
}
