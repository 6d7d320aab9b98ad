public import WindlassGit
public import WindlassKustomize
public import WindlassManifest
import Foundation

/// How a source's directory is turned into manifests, for the pipeline and for the commands
/// that read manifests without an application (`validate`, `policy check`): plain files read
/// as they are, kustomizations rendered by kustomize with the repository around them.
public enum SourceRendering {
    /// Reads the whole repository of a source at `commit` (a directory source: its root
    /// directory), for kustomizations that name bases outside the application's path. Only
    /// called when a kustomization is found.
    public static func repository(_ options: SourceOptions, at commit: GitCommit?) -> @Sendable () throws -> RepositoryAtRevision {
        { () throws -> RepositoryAtRevision in
            guard let tree = try SourceResolver.tree(options, at: commit, directory: "") else {
                throw KustomizeError("the repository \(options.source) cannot be read at its root")
            }
            if let git = tree as? GitCommitTree { return RepositoryAtRevision(tree: git, treeID: git.treeID) }
            return RepositoryAtRevision(tree: tree, directory: (tree as? DirectoryTree)?.root)
        }
    }

    /// Loads a resolved source with `renderer`.
    public static func load(_ source: ResolvedSource, options: SourceOptions, renderer: KustomizeRenderer, loading: LoadOptions) -> KustomizeLoad {
        renderer.load(KustomizeInput(tree: source.tree, path: source.path, repository: repository(options, at: source.commit)), options: loading)
    }

    /// Loads directories and files named on a command line, as they are on disk. A
    /// directory's kustomizations may name bases anywhere in the git work tree that holds it
    /// (else in the directory itself): that is their root.
    public static func load(paths: [String], renderer: KustomizeRenderer, loading: LoadOptions) throws(FileTreeError) -> ManifestSet {
        var sets: [ManifestSet] = []
        var files: [String] = []
        for path in paths {
            guard case .directory = DirectoryTree.kind(ofPath: path) else {
                files.append(path)
                continue
            }
            let root = workTreeRoot(enclosing: path)
            let input = KustomizeInput(tree: DirectoryTree(root: path), path: root.path) {
                RepositoryAtRevision(tree: DirectoryTree(root: root.directory), directory: root.directory)
            }
            sets.append(renderer.load(input, options: loading).manifests)
        }
        if !files.isEmpty { sets.insert(try ManifestLoader.load(paths: files, options: loading), at: 0) }
        return sets.count == 1 ? sets[0] : ManifestLoader.merge(sets, options: loading)
    }

    /// The git work tree around `directory` (as a path relative to the working directory when
    /// it is below it) and `directory`'s place in it. Outside any work tree: the working
    /// directory when `directory` is below it, else `directory` itself.
    static func workTreeRoot(enclosing directory: String) -> (directory: String, path: String) {
        guard let real = realpath(directory, nil) else { return (directory, "") }
        let absolute = String(decoding: UnsafeRawBufferPointer(start: real, count: strlen(real)), as: UTF8.self)
        free(real)
        let cwd = FileManager.default.currentDirectoryPath
        var candidate = absolute
        while !FileManager.default.fileExists(atPath: candidate + "/.git") {
            guard candidate != "/", !candidate.isEmpty else {
                candidate = absolute.hasPrefix(cwd + "/") ? cwd : absolute
                break
            }
            candidate = (candidate as NSString).deletingLastPathComponent
        }
        let inside = absolute == candidate ? "" : String(absolute.dropFirst(candidate.count + (candidate == "/" ? 0 : 1)))
        let shown: String
        if candidate == cwd {
            shown = "."
        } else if candidate.hasPrefix(cwd + "/") {
            shown = String(candidate.dropFirst(cwd.count + 1))
        } else {
            shown = candidate
        }
        return (shown, inside)
    }
}
