public import WindlassManifest

/// The policies and exceptions of a directory (`policies/`), read as one set: every `*.yaml`
/// except the `*.test.yaml` beside them. A mistake anywhere is a located error and the set
/// should not be used: nothing is evaluated half-way.
public struct PolicySet: Sendable {
    public var policies: [Policy]
    public var exceptions: [PolicyException]
    /// Errors (the set must not be used) and warnings.
    public var diagnostics: [Diagnostic]
    /// The `*.test.yaml` files of the directory, as paths under it.
    public var testFiles: [String]
    /// The directory, as given.
    public var directory: String

    public init(policies: [Policy] = [], exceptions: [PolicyException] = [], diagnostics: [Diagnostic] = [], testFiles: [String] = [], directory: String = "") {
        self.policies = policies
        self.exceptions = exceptions
        self.diagnostics = diagnostics
        self.testFiles = testFiles
        self.directory = directory
    }

    public var errorCount: Int { diagnostics.count(of: .error) }

    /// Reads a directory (or one file) of policies.
    public static func load(_ path: String) throws(FileTreeError) -> PolicySet {
        switch DirectoryTree.kind(ofPath: path) {
        case .directory:
            return load(tree: DirectoryTree(root: path), directory: path)
        case .file:
            let slash = path.lastIndex(of: "/")
            let directory = slash.map { String(path[..<$0]) } ?? "."
            let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
            var read = from(ManifestLoader.load([.files([name], in: DirectoryTree(root: directory.isEmpty ? "/" : directory))]))
            read.directory = path
            return read
        case .unreadable(let reason), .skipped(let reason):
            throw FileTreeError(path: path, message: "cannot read policies: \(reason)")
        }
    }

    /// Reads the policies of a tree: a directory on disk, or one at a commit (a pull request is
    /// judged by its base's). `directory` names it in the set.
    public static func load(tree: any FileTree, directory: String) -> PolicySet {
        let (files, walked) = ManifestLoader.manifestFiles(in: tree)
        var read = from(ManifestLoader.load([.files(files.filter { !isTestFile($0) }, in: tree)]))
        read.diagnostics = walked + read.diagnostics
        read.testFiles = files.filter(isTestFile)
        read.directory = directory
        return read
    }

    /// The policies and exceptions among a set's resources; anything else in it is an error.
    public static func from(_ set: ManifestSet) -> PolicySet {
        let (policies, policyDiagnostics) = PolicyReader.read(set)
        let (exceptions, exceptionDiagnostics) = PolicyReader.exceptions(set)
        var diagnostics = set.diagnostics + policyDiagnostics + exceptionDiagnostics
        var seen: [String: Resource] = [:]
        for resource in set.resources {
            guard resource.id.group == "windlass.dev", resource.id.kind == "Policy" || resource.id.kind == "PolicyException" else {
                diagnostics.append(
                    Diagnostic(
                        .error, at: set.location(of: resource),
                        "\(resource.id.kind) \(resource.id.name) is not a policy: a policies directory holds windlass.dev/v1 Policy and PolicyException documents (and *.test.yaml files)"))
                continue
            }
            if resource.id.kind == "Policy" {
                if let first = seen[resource.id.name] {
                    diagnostics.append(
                        Diagnostic(.error, at: set.location(of: resource), "policy \(resource.id.name) is defined twice (first at \(set.location(of: first)))"))
                }
                seen[resource.id.name] = resource
            }
        }
        return PolicySet(policies: policies, exceptions: exceptions, diagnostics: diagnostics)
    }

    /// The set with the Policy and PolicyException documents among the manifests added: an
    /// exception lives beside the workload it is for, reviewed in the same change.
    public func adding(from manifests: ManifestSet) -> PolicySet {
        let (policies, policyDiagnostics) = PolicyReader.read(manifests)
        let (exceptions, exceptionDiagnostics) = PolicyReader.exceptions(manifests)
        var set = self
        set.policies += policies
        set.exceptions += exceptions
        set.diagnostics += policyDiagnostics + exceptionDiagnostics
        return set
    }

    /// What judges `manifests`: the policies of `directory` with the manifests' own, or without a
    /// directory the manifests' own alone (nil when they have none).
    public static func judging(_ manifests: ManifestSet, directory: String?) throws(FileTreeError) -> PolicySet? {
        if let directory { return try load(directory).adding(from: manifests) }
        let own = PolicySet().adding(from: manifests)
        return own.policies.isEmpty && own.exceptions.isEmpty && own.diagnostics.isEmpty ? nil : own
    }

    /// The built-in pack (`policies/` of the Windlass repository), compiled into the binary:
    /// `--policies builtin`, `policies: builtin` in windlass.yaml.
    public static let builtin: PolicySet = load(tree: builtinTree, directory: "builtin")

    /// The tree of the built-in pack, its tests included.
    public static let builtinTree: MemoryTree = {
        MemoryTree(name: "builtin", files: Dictionary(uniqueKeysWithValues: BuiltinPack.files.map { ($0.name, Array($0.text.utf8) + [10]) }))
    }()

    /// Nil when the set holds nothing at all (no policy, exception or diagnostic).
    public var nilIfEmpty: PolicySet? {
        policies.isEmpty && exceptions.isEmpty && diagnostics.isEmpty ? nil : self
    }

    static func isTestFile(_ path: String) -> Bool { path.hasSuffix(".test.yaml") || path.hasSuffix(".test.yml") }
}
