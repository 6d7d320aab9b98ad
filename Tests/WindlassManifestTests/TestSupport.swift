import Foundation
import WindlassManifest

/// A directory under the system temp dir, removed when the test is done with it.
final class TemporaryDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/windlass-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes a file (creating its directories) and returns its full path.
    @discardableResult
    func write(_ relative: String, _ contents: String) throws -> String {
        try write(relative, Data(contents.utf8))
    }

    @discardableResult
    func write(_ relative: String, _ data: Data) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try data.write(to: URL(fileURLWithPath: full))
        return full
    }

    func symlink(_ relative: String, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path + "/" + relative, withDestinationPath: destination)
    }
}

/// The repository's root, found from this file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Loads and validates paths the way `windlass validate` does.
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
