public import WindlassManifest

/// Where a command reads manifests from: `--source` (a directory, a local repository or a
/// remote URL), `--ref` and `--path`.
public struct SourceOptions: Sendable {
    public var source: String
    /// The branch, tag or commit to read; nil reads `HEAD`.
    public var ref: String?
    /// The directory of manifests inside the source.
    public var path: String
    /// Where mirrors of remote repositories are kept.
    public var stateDirectory: String
    public var environment: [String: String]

    public init(
        source: String = ".",
        ref: String? = nil,
        path: String = "manifests",
        stateDirectory: String = ".windlass",
        environment: [String: String] = GitCredentials.processEnvironment()
    ) {
        self.source = source
        self.ref = ref
        self.path = path
        self.stateDirectory = stateDirectory
        self.environment = environment
    }
}

/// A source made ready to load: the tree to read and, for git sources, the commit it is.
public struct ResolvedSource: Sendable {
    public enum Kind: String, Sendable {
        /// Files on disk, read as they are.
        case directory
        /// A repository on this machine, read at a commit from its object database.
        case localRepository = "local repository"
        /// A remote repository, fetched into a mirror and read at a commit.
        case remote
    }

    public var kind: Kind
    /// The source as shown to the user (a URL with its password redacted, or a path).
    public var location: String
    public var path: String
    public var ref: String?
    public var commit: GitCommit?
    public var tree: any FileTree
    /// For a remote, its mirror's directory.
    public var mirrorPath: String?
}

/// Two revisions of one repository, and the files between them that differ.
public struct RevisionPair: Sendable {
    public var base: ResolvedSource
    public var head: ResolvedSource
    /// Paths relative to the manifest directory, sorted.
    public var changedFiles: [String]
    /// The base commit's policies directory (asked for with `policies:`), when it has one: a
    /// pull request is judged by the policies already merged, not by its own copy.
    public var basePolicies: GitCommitTree?
    /// The files of that policies directory the pull request changes (relative to the
    /// repository), sorted.
    public var changedPolicyFiles: [String] = []
}

/// Resolves ``SourceOptions`` into a ``ResolvedSource``.
public enum SourceResolver {
    /// A directory is read as files; a repository (local or remote) at `ref` from its object
    /// database, so uncommitted edits are not read. A remote is fetched into its mirror first,
    /// unless `fetchingMissingOnly`, `ref` is a full commit SHA and the mirror already has it (a
    /// commit already synced: it cannot change, so a drift check need not ask the remote again).
    public static func resolve(_ options: SourceOptions, fetchingMissingOnly: Bool = false) throws(GitError) -> ResolvedSource {
        let url = try RemoteURL(options.source)
        if url.isRemote {
            let mirror = try GitMirror(url: url, stateDirectory: options.stateDirectory)
            if fetchingMissingOnly, let ref = options.ref, ref.utf8.count == 40, ref.allSatisfy(\.isHexDigit),
                (try? mirror.repository.resolve(ref)) != nil
            {
                return try atCommit(mirror.repository, kind: .remote, options: options, mirrorPath: mirror.path)
            }
            _ = try mirror.fetch(credentials: GitCredentials.fromEnvironment(for: url, environment: options.environment))
            return try atCommit(mirror.repository, kind: .remote, options: options, mirrorPath: mirror.path)
        }
        if GitRepository.isRepository(options.source) {
            let repository = try GitRepository(path: options.source)
            return try atCommit(repository, kind: .localRepository, options: options, mirrorPath: nil)
        }
        if let ref = options.ref {
            throw GitError(
                .invalidArgument,
                operation: "resolve",
                repository: options.source,
                ref: ref,
                message: "--ref needs a git repository, and this is a plain directory"
            )
        }
        let root = options.source == "." ? options.path : options.source + "/" + options.path
        guard case .directory = DirectoryTree.kind(ofPath: root) else {
            throw GitError(
                .notFound,
                operation: "read",
                repository: options.source,
                message: "no directory \"\(options.path)\" in \(options.source)"
            )
        }
        return ResolvedSource(
            kind: .directory,
            location: options.source,
            path: options.path,
            ref: nil,
            commit: nil,
            tree: DirectoryTree(root: root),
            mirrorPath: nil
        )
    }

    /// Two revisions of a git source side by side (a pull request's base and head), fetched once,
    /// with the manifest files that differ between them (relative to `options.path`), and, with
    /// `policies` (a directory of the repository), the base's policies and what head changes in them.
    public static func resolve(_ options: SourceOptions, base: String, head: String, policies: String? = nil) throws(GitError) -> RevisionPair {
        let url = try RemoteURL(options.source)
        let repository: GitRepository
        let kind: ResolvedSource.Kind
        var mirrorPath: String?
        if url.isRemote {
            let mirror = try GitMirror(url: url, stateDirectory: options.stateDirectory)
            _ = try mirror.fetch(credentials: GitCredentials.fromEnvironment(for: url, environment: options.environment))
            repository = mirror.repository
            kind = .remote
            mirrorPath = mirror.path
        } else if GitRepository.isRepository(options.source) {
            repository = try GitRepository(path: options.source)
            kind = .localRepository
        } else {
            throw GitError(
                .invalidArgument, operation: "resolve", repository: options.source,
                message: "--base and --head need a git repository, and this is a plain directory")
        }
        var baseOptions = options
        baseOptions.ref = base
        var headOptions = options
        headOptions.ref = head
        let baseSource = try atCommit(repository, kind: kind, options: baseOptions, mirrorPath: mirrorPath)
        let headSource = try atCommit(repository, kind: kind, options: headOptions, mirrorPath: mirrorPath)
        let prefix = options.path.isEmpty || options.path == "." ? "" : options.path.hasSuffix("/") ? options.path : options.path + "/"
        let changed = try repository.changedPaths(from: baseSource.commit!.sha, to: headSource.commit!.sha, under: prefix.isEmpty ? nil : prefix)
        var pair = RevisionPair(base: baseSource, head: headSource, changedFiles: changed.compactMap { path in
            guard path.hasPrefix(prefix) else { return nil }
            return String(path.dropFirst(prefix.count))
        })
        if let policies, let baseCommit = baseSource.commit, let headCommit = headSource.commit {
            let directory = repositoryPath(policies)
            do {
                pair.basePolicies = try repository.tree(at: baseCommit, path: directory)
            } catch where error.code == .notFound || error.code == .invalidArgument {
                pair.basePolicies = nil
            }
            pair.changedPolicyFiles = try repository.changedPaths(from: baseCommit.sha, to: headCommit.sha, under: directory + "/")
        }
        return pair
    }

    /// The directory `directory` (relative to the source's root) as it is at `commit` (a git
    /// source, read from what is already there) or on disk (a plain directory); nil when it is
    /// not there.
    public static func tree(_ options: SourceOptions, at commit: GitCommit?, directory: String) throws(GitError) -> (any FileTree)? {
        let trimmed = repositoryPath(directory)
        guard let repository = try existingRepository(options) else {
            let root = trimmed.isEmpty ? options.source : options.source + "/" + trimmed
            guard case .directory = DirectoryTree.kind(ofPath: root) else { return nil }
            return DirectoryTree(root: root)
        }
        guard let commit else { return nil }
        do {
            return try repository.tree(at: commit, path: trimmed)
        } catch where error.code == .notFound || error.code == .invalidArgument {
            return nil
        }
    }

    /// The paths under any of `directories` (repository-relative; `.` or empty: all) that differ
    /// between two commits of a git source, read from what is already there (the local
    /// repository, or the mirror as the last fetch left it; nothing is fetched). Nil for a plain
    /// directory, which has no commits.
    public static func changedPaths(_ options: SourceOptions, from old: String, to new: String, under directories: [String]) throws(GitError) -> [String]? {
        guard let repository = try existingRepository(options) else { return nil }
        var paths = Set<String>()
        for directory in directories {
            let trimmed = repositoryPath(directory)
            paths.formUnion(try repository.changedPaths(from: old, to: new, under: trimmed.isEmpty ? nil : trimmed + "/"))
        }
        return paths.sorted()
    }

    /// The repository of a git source as it is here (the local one, or the mirror as the last
    /// fetch left it); nil for a plain directory.
    private static func existingRepository(_ options: SourceOptions) throws(GitError) -> GitRepository? {
        let url = try RemoteURL(options.source)
        if url.isRemote { return try GitMirror(url: url, stateDirectory: options.stateDirectory).repository }
        return GitRepository.isRepository(options.source) ? try GitRepository(path: options.source) : nil
    }

    /// `./policies/` as the repository names it: `policies` (`.` or empty: the root, "").
    private static func repositoryPath(_ directory: String) -> String {
        directory.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }

    private static func atCommit(
        _ repository: GitRepository,
        kind: ResolvedSource.Kind,
        options: SourceOptions,
        mirrorPath: String?
    ) throws(GitError) -> ResolvedSource {
        let ref = options.ref ?? "HEAD"
        let commit = try repository.resolve(ref)
        let tree = try repository.tree(at: commit, path: options.path)
        return ResolvedSource(
            kind: kind,
            location: repository.displayName,
            path: options.path,
            ref: ref,
            commit: commit,
            tree: tree,
            mirrorPath: mirrorPath
        )
    }
}
