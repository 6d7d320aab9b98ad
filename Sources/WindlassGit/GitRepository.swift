internal import CGit2
import WindlassManifest

/// A git repository on disk (a working repository or a bare mirror), read straight from its
/// object database: no checkout, so two commits are read side by side and uncommitted edits are
/// never seen.
///
/// Calls block; from async code run them with ``GitRepository/offloaded(_:)``.
public final class GitRepository: Sendable {
    /// The repository's directory.
    public let path: String
    /// How messages name the repository: its redacted URL or its path.
    public let displayName: String
    let pool: HandlePool

    /// Opens the repository at exactly `path` (a working tree's root or a bare repository).
    public init(path: String, displayName: String? = nil) throws(GitError) {
        self.path = path
        self.displayName = displayName ?? path
        pool = try HandlePool(path: path, shownAs: displayName ?? path)
    }

    /// Whether `path` is the root of a git repository.
    public static func isRepository(_ path: String) -> Bool {
        LibGit2.ensureInitialized()
        var repository: OpaquePointer?
        let result = git_repository_open_ext(&repository, path, UInt32(GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue), nil)
        if let repository { git_repository_free(repository) }
        return result == 0
    }

    /// Resolves a branch, tag, full or short SHA, or `HEAD` to a commit.
    public func resolve(_ ref: String) throws(GitError) -> GitCommit {
        try pool.withHandle { (handle) throws(GitError) in
            try GitRepository.commit(ref, in: handle, display: displayName)
        }
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors: false after a force-push.
    public func isAncestor(_ ancestor: String, of descendant: String) throws(GitError) -> Bool {
        if ancestor == descendant { return true }
        return try pool.withHandle { (handle) throws(GitError) in
            var a = try GitRepository.oid(ancestor, in: handle, display: displayName)
            var d = try GitRepository.oid(descendant, in: handle, display: displayName)
            let result = git_graph_descendant_of(handle.pointer, &d, &a)
            guard result >= 0 else {
                throw LibGit2.lastError(result, operation: "compare history", repository: displayName, ref: descendant)
            }
            return result == 1
        }
    }

    /// The paths that differ between two commits (added, removed, modified; both sides of a
    /// rename), sorted, optionally only under `prefix`.
    public func changedPaths(from old: String, to new: String, under prefix: String? = nil) throws(GitError) -> [String] {
        try pool.withHandle { (handle) throws(GitError) in
            let oldTree = try GitRepository.tree(of: old, in: handle, display: displayName)
            let newTree = try GitRepository.tree(of: new, in: handle, display: displayName)
            var options = git_diff_options()
            git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION))
            options.flags |= GIT_DIFF_IGNORE_SUBMODULES.rawValue
            // The pathspec lives in C memory for the call.
            let specs = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 1)
            specs.initialize(to: prefix.flatMap { $0.isEmpty ? nil : strdup($0) })
            defer {
                free(specs.pointee)
                specs.deallocate()
            }
            if specs.pointee != nil {
                options.pathspec = git_strarray(strings: specs, count: 1)
            }
            var diff: OpaquePointer?
            let result = git_diff_tree_to_tree(&diff, handle.pointer, oldTree.pointer, newTree.pointer, &options)
            guard result == 0, let diff else {
                throw LibGit2.lastError(result, operation: "diff", repository: displayName, ref: "\(old)..\(new)")
            }
            defer { git_diff_free(diff) }
            var paths = Set<String>()
            for index in 0..<git_diff_num_deltas(diff) {
                guard let delta = git_diff_get_delta(diff, index) else { continue }
                if let path = delta.pointee.old_file.path { paths.insert(String(cString: path)) }
                if let path = delta.pointee.new_file.path { paths.insert(String(cString: path)) }
            }
            return paths.sorted()
        }
    }

    /// The subtree at `path` of a commit as a ``FileTree`` for the manifest loader.
    public func tree(at commit: GitCommit, path: String) throws(GitError) -> GitCommitTree {
        try GitCommitTree(repository: self, commit: commit, path: path)
    }

    /// Runs blocking git work on a thread outside Swift's cooperative pool.
    public static func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws(GitError) -> T) async throws(GitError) -> T {
        let result: Result<T, GitError> = await withCheckedContinuation { continuation in
            blockingQueue.async {
                do throws(GitError) {
                    continuation.resume(returning: .success(try work()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    // MARK: - On a handle

    static func commitObject(_ ref: String, in handle: RepositoryHandle, display: String) throws(GitError) -> GitObject {
        var object: OpaquePointer?
        var result = git_revparse_single(&object, handle.pointer, ref)
        if result == GIT_ENOTFOUND.rawValue || result == GIT_EAMBIGUOUS.rawValue {
            // A bare mirror keeps branches under refs/heads; a name the remote calls a branch.
            result = git_revparse_single(&object, handle.pointer, "refs/heads/" + ref)
        }
        guard result == 0, let object else {
            if isEmpty(handle) {
                throw GitError(.emptyRepository, operation: "resolve", repository: display, ref: ref, message: "the repository has no commits")
            }
            if result == GIT_ENOTFOUND.rawValue || result == GIT_EINVALIDSPEC.rawValue {
                throw GitError(.notFound, operation: "resolve", repository: display, ref: ref, message: "no branch, tag or commit named \"\(ref)\"")
            }
            throw LibGit2.lastError(result, operation: "resolve", repository: display, ref: ref)
        }
        let owner = GitObject(object)
        var peeled: OpaquePointer?
        let peel = git_object_peel(&peeled, owner.pointer, GIT_OBJECT_COMMIT)
        guard peel == 0, let peeled else {
            throw GitError(.notFound, operation: "resolve", repository: display, ref: ref, message: "\"\(ref)\" does not name a commit")
        }
        return GitObject(peeled)
    }

    /// No commits at all: HEAD is unborn and there are no branches or tags. (libgit2's own
    /// `git_repository_is_empty` expects HEAD to name the default branch, which `git init -b`
    /// changes.)
    static func isEmpty(_ handle: RepositoryHandle) -> Bool {
        guard git_repository_head_unborn(handle.pointer) == 1 else { return false }
        var names = git_strarray()
        guard git_reference_list(&names, handle.pointer) == 0 else { return false }
        defer { git_strarray_dispose(&names) }
        return names.count == 0
    }

    static func commit(_ ref: String, in handle: RepositoryHandle, display: String) throws(GitError) -> GitCommit {
        let object = try commitObject(ref, in: handle, display: display)
        let commit = object.pointer
        let id = ObjectID(git_commit_id(commit)!.pointee)
        let author = git_commit_author(commit)!.pointee
        return GitCommit(
            sha: id.description,
            authorName: author.name.map { String(cString: $0) } ?? "",
            authorEmail: author.email.map { String(cString: $0) } ?? "",
            time: author.when.time,
            timeZoneOffsetMinutes: Int(author.when.offset),
            message: git_commit_message(commit).map { String(cString: $0) } ?? ""
        )
    }

    static func oid(_ ref: String, in handle: RepositoryHandle, display: String) throws(GitError) -> git_oid {
        let object = try commitObject(ref, in: handle, display: display)
        return git_commit_id(object.pointer)!.pointee
    }

    static func tree(of ref: String, in handle: RepositoryHandle, display: String) throws(GitError) -> GitObject {
        let commit = try commitObject(ref, in: handle, display: display)
        var tree: OpaquePointer?
        let result = git_commit_tree(&tree, commit.pointer)
        guard result == 0, let tree else {
            throw LibGit2.lastError(result, operation: "read tree", repository: display, ref: ref)
        }
        return GitObject(tree)
    }
}

import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// Where blocking libgit2 calls run, so they never hold a thread of the cooperative pool.
let blockingQueue = DispatchQueue(label: "windlass.git.blocking", attributes: .concurrent)
