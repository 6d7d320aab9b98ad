internal import CGit2
public import WindlassManifest

/// The subtree of a commit as a ``FileTree``: the manifest loader reads it exactly as committed,
/// straight from the object database, and messages name files `path@shortsha`.
///
/// Symlinks are followed only within the subtree; a link leading out of it is reported, never
/// followed. Submodules are skipped with a warning.
public struct GitCommitTree: FileTree {
    public let commit: GitCommit
    /// The subtree's path in the repository (`manifests`), empty for the whole tree.
    public let root: String
    /// The id of the subtree's git tree object: equal trees have equal ids, whatever commit.
    public let treeID: String
    let repository: GitRepository
    let directories: [String: [FileTreeEntry]]
    let blobs: [String: ObjectID]
    /// Directory symlinks: link path → the directory it stands for.
    let aliases: [String: String]

    init(repository: GitRepository, commit: GitCommit, path: String) throws(GitError) {
        self.repository = repository
        self.commit = commit
        let root = path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        self.root = root
        var listing = Listing()
        var treeID = ""
        try repository.pool.withHandle { (handle) throws(GitError) in
            let tree = try GitRepository.tree(of: commit.sha, in: handle, display: repository.displayName)
            var subtree = tree
            if !root.isEmpty {
                var entry: OpaquePointer?
                let result = git_tree_entry_bypath(&entry, tree.pointer, root)
                guard result == 0, let entry else {
                    throw GitError(
                        .notFound,
                        operation: "read tree",
                        repository: repository.displayName,
                        ref: commit.shortSHA,
                        message: "path \"\(root)\" does not exist at \(commit.shortSHA)"
                    )
                }
                defer { git_tree_entry_free(entry) }
                guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else {
                    throw GitError(
                        .invalidArgument,
                        operation: "read tree",
                        repository: repository.displayName,
                        ref: commit.shortSHA,
                        message: "path \"\(root)\" is not a directory at \(commit.shortSHA)"
                    )
                }
                var object: OpaquePointer?
                let lookup = git_tree_lookup(&object, handle.pointer, git_tree_entry_id(entry))
                guard lookup == 0, let object else {
                    throw LibGit2.lastError(lookup, operation: "read tree", repository: repository.displayName, ref: commit.shortSHA)
                }
                subtree = GitObject(object)
            }
            if let id = git_tree_id(subtree.pointer) { treeID = ObjectID(id.pointee).description }
            try listing.walk(subtree.pointer, prefix: "", handle: handle, display: repository.displayName, ref: commit.shortSHA)
            listing.resolveSymlinks(handle: handle)
        }
        self.treeID = treeID
        directories = listing.directories
        blobs = listing.blobs
        aliases = listing.aliases
    }

    public var rootIdentity: [UInt64]? { nil }

    /// The number of `.yaml`, `.yml` and `.json` files in the subtree.
    public var manifestFileCount: Int {
        blobs.keys.filter { ManifestFileKind.isManifest($0) }.count
    }

    public func displayPath(_ path: String) -> String {
        let full = root.isEmpty ? path : (path.isEmpty ? root : root + "/" + path)
        return "\(full)@\(commit.shortSHA)"
    }

    public func entries(of directory: String) throws(FileTreeError) -> [FileTreeEntry] {
        guard let entries = directories[realPath(directory)] else {
            throw FileTreeError(path: displayPath(directory), message: "no such directory")
        }
        return entries
    }

    public func contents(of path: String, limit: Int) throws(FileTreeError) -> [UInt8] {
        guard let id = blobs[realPath(path)] else {
            throw FileTreeError(path: displayPath(path), message: "no such file")
        }
        do {
            return try repository.pool.withHandle { (handle) throws(GitError) in
                var oid = id.oid
                var size = 0
                var type = GIT_OBJECT_INVALID
                let header = git_odb_read_header(&size, &type, handle.odb, &oid)
                guard header == 0 else {
                    throw LibGit2.lastError(header, operation: "read blob", repository: repository.displayName, ref: commit.shortSHA)
                }
                guard size <= limit else {
                    throw GitError(
                        .tooLarge,
                        operation: "read blob",
                        repository: repository.displayName,
                        ref: commit.shortSHA,
                        message: "blob is \(size) bytes, larger than the limit of \(describeBytes(limit)) for one manifest file"
                    )
                }
                var blob: OpaquePointer?
                let result = git_blob_lookup(&blob, handle.pointer, &oid)
                guard result == 0, let blob else {
                    throw LibGit2.lastError(result, operation: "read blob", repository: repository.displayName, ref: commit.shortSHA)
                }
                defer { git_blob_free(blob) }
                let count = Int(git_blob_rawsize(blob))
                guard count > 0, let data = git_blob_rawcontent(blob) else { return [] }
                return [UInt8](UnsafeRawBufferPointer(start: data, count: count))
            }
        } catch {
            throw FileTreeError(path: displayPath(path), message: error.code == .tooLarge ? error.message : "\(error)")
        }
    }

    /// Replaces directory symlinks in a path by the directories they stand for.
    func realPath(_ path: String) -> String {
        guard !aliases.isEmpty else { return path }
        var resolved = ""
        for component in path.split(separator: "/") {
            resolved = resolved.isEmpty ? String(component) : resolved + "/" + component
            if let target = aliases[resolved] { resolved = target }
        }
        return resolved
    }
}

/// Builds a commit tree's listing in one pass over its tree objects.
private struct Listing {
    var directories: [String: [FileTreeEntry]] = [:]
    var blobs: [String: ObjectID] = [:]
    var aliases: [String: String] = [:]
    var trees: [String: [UInt64]] = [:]
    /// Symlinks found: path → the blob holding the target.
    var symlinks: [(path: String, id: ObjectID)] = []

    static func identity(_ oid: UnsafePointer<git_oid>) -> [UInt64] {
        let id = ObjectID(oid.pointee)
        return [id.bytes.0, id.bytes.1, UInt64(id.bytes.2)]
    }

    mutating func walk(_ tree: OpaquePointer, prefix: String, handle: RepositoryHandle, display: String, ref: String)
        throws(GitError)
    {
        var entries: [FileTreeEntry] = []
        let count = git_tree_entrycount(tree)
        entries.reserveCapacity(count)
        for index in 0..<count {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let name = String(cString: git_tree_entry_name(entry))
            let path = prefix.isEmpty ? name : prefix + "/" + name
            switch git_tree_entry_filemode(entry) {
            case GIT_FILEMODE_TREE:
                let identity = Self.identity(git_tree_entry_id(entry))
                entries.append(FileTreeEntry(name: name, kind: .directory(identity: identity)))
                trees[path] = identity
                var subtree: OpaquePointer?
                let result = git_tree_lookup(&subtree, handle.pointer, git_tree_entry_id(entry))
                guard result == 0, let subtree else {
                    throw LibGit2.lastError(result, operation: "read tree", repository: display, ref: ref)
                }
                let owner = GitObject(subtree)
                try walk(owner.pointer, prefix: path, handle: handle, display: display, ref: ref)
            case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE:
                entries.append(FileTreeEntry(name: name, kind: .file))
                blobs[path] = ObjectID(git_tree_entry_id(entry).pointee)
            case GIT_FILEMODE_LINK:
                symlinks.append((path, ObjectID(git_tree_entry_id(entry).pointee)))
                entries.append(FileTreeEntry(name: name, kind: .unreadable(reason: "symlink")))
            case GIT_FILEMODE_COMMIT:
                entries.append(
                    FileTreeEntry(name: name, kind: .skipped(reason: "submodule \(path) is not read: submodules are not followed"))
                )
            default:
                entries.append(FileTreeEntry(name: name, kind: .unreadable(reason: "not a regular file")))
            }
        }
        directories[prefix] = entries
    }

    /// Follows each symlink within the tree (up to 8 links deep); one leading out, dangling or
    /// looping is reported on its entry instead.
    mutating func resolveSymlinks(handle: RepositoryHandle) {
        guard !symlinks.isEmpty else { return }
        var targets: [String: String] = [:]
        for link in symlinks {
            var oid = link.id.oid
            var blob: OpaquePointer?
            guard git_blob_lookup(&blob, handle.pointer, &oid) == 0, let blob else { continue }
            let size = Int(git_blob_rawsize(blob))
            let text = size > 0 && size < 4096
                ? String(decoding: UnsafeRawBufferPointer(start: git_blob_rawcontent(blob), count: size), as: UTF8.self) : ""
            git_blob_free(blob)
            targets[link.path] = text
        }
        for link in symlinks {
            let kind: FileTreeEntry.Kind
            var current = link.path
            var outcome: FileTreeEntry.Kind? = nil
            for _ in 0..<8 {
                guard let target = targets[current] else { break }
                guard let resolved = Self.normalize(target, relativeTo: current) else {
                    let reason = "symlink to \"\(target)\" leads outside the tree; not followed"
                    // A link that might be a directory of manifests is worth a warning at least.
                    outcome = ManifestFileKind.isManifest(link.path) ? .unreadable(reason: reason) : .skipped(reason: reason)
                    break
                }
                current = resolved
                if targets[current] == nil { break }
            }
            if let outcome {
                kind = outcome
            } else if targets[current] != nil {
                kind = .unreadable(reason: "symlink loop (the link leads back to itself)")
            } else if let id = blobs[current] {
                blobs[link.path] = id
                kind = .file
            } else if let identity = trees[current] {
                aliases[link.path] = current
                kind = .directory(identity: identity)
            } else {
                kind = .unreadable(reason: "dangling symlink to \"\(targets[link.path] ?? "")\"")
            }
            let parent = link.path.split(separator: "/").dropLast().joined(separator: "/")
            let name = String(link.path.split(separator: "/").last!)
            if let index = directories[parent]?.firstIndex(where: { $0.name == name }) {
                directories[parent]![index].kind = kind
                directories[parent]![index].isLink = true
            }
        }
    }

    /// The tree path a relative link target names, or nil when it leaves the tree.
    static func normalize(_ target: String, relativeTo link: String) -> String? {
        guard !target.hasPrefix("/") else { return nil }
        var components = link.split(separator: "/").dropLast().map(String.init)
        for part in target.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                guard !components.isEmpty else { return nil }
                components.removeLast()
            default: components.append(String(part))
            }
        }
        return components.joined(separator: "/")
    }
}
