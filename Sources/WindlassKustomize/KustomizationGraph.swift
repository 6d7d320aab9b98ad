import WindlassManifest

/// The kustomizations of a repository reachable from some starting ones, read before any
/// render: which are named by others (bases and components, rendered only as their part),
/// and every reference that is refused, located at its line (a remote target when remote
/// resources are not allowed, a path leaving the repository, Helm charts when Helm is off).
struct KustomizationGraph {
    let repository: any FileTree
    let settings: KustomizeSettings
    var diagnostics: [Diagnostic] = []
    /// Kustomization directories another kustomization names.
    var referenced: Set<String> = []
    /// Every kustomization directory read.
    var visited: Set<String> = []
    /// Directory → its kustomization file.
    var files: [String: String] = [:]

    init(repository: any FileTree, settings: KustomizeSettings) {
        self.repository = repository
        self.settings = settings
    }

    mutating func visit(_ starts: [String]) {
        var queue = starts.reversed() as [String]
        while let directory = queue.popLast() {
            guard visited.insert(directory).inserted else { continue }
            guard visited.count <= 10_000 else {
                return error(at: directory, nil, "more than 10000 kustomizations are reachable from this one")
            }
            guard let file = kustomizationFile(in: directory) else { continue }
            files[directory] = file
            let references: KustomizationReferences
            do {
                references = try KustomizationReferences(try repository.contents(of: file, limit: 1 << 20))
            } catch let failure as YAMLError {
                error(at: file, failure.position, "not a valid kustomization: \(failure.message)")
                continue
            } catch let failure as FileTreeError {
                error(at: file, nil, failure.message)
                continue
            } catch {
                self.error(at: file, nil, "\(error)")
                continue
            }
            if let helm = references.helm, !settings.enableHelm {
                error(at: file, helm, "helmCharts: Helm charts are not inflated unless the application allows it (kustomize.enableHelm: true)")
            }
            for entry in references.entries {
                let exists = { (path: String) in KustomizationReferences.resolve(path, in: directory).map(self.exists) ?? false }
                if KustomizationReferences.isRemote(entry.value, existsLocally: exists) {
                    if !settings.allowRemoteResources {
                        error(
                            at: file, entry.position,
                            "remote resource \"\(entry.value)\" refused: a kustomization may name only files of its repository unless the application allows remote resources (kustomize.allowRemoteResources: true)"
                        )
                    }
                    continue
                }
                guard let target = KustomizationReferences.resolve(entry.value, in: directory) else {
                    error(at: file, entry.position, "\"\(entry.value)\" is outside the repository: a kustomization may name only files of its repository")
                    continue
                }
                if kustomizationFile(in: target) != nil {
                    referenced.insert(target)
                    queue.append(target)
                }
            }
        }
    }

    /// The kustomization file of a repository directory, if it is one.
    func kustomizationFile(in directory: String) -> String? {
        guard let entries = try? repository.entries(of: directory) else { return nil }
        for name in ManifestFileKind.kustomizationNames where entries.contains(where: { $0.name == name && $0.kind == .file }) {
            return directory.isEmpty ? name : directory + "/" + name
        }
        return nil
    }

    func exists(_ path: String) -> Bool {
        let slash = path.lastIndex(of: "/")
        let parent = slash.map { String(path[..<$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return (try? repository.entries(of: parent))?.contains { $0.name == name } ?? false
    }

    mutating func error(at path: String, _ position: SourcePosition?, _ message: String) {
        diagnostics.append(Diagnostic(.error, at: SourceLocation(path: repository.displayPath(path), position: position), message))
    }
}
