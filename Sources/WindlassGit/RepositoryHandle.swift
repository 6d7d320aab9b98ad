internal import CGit2
import Synchronization

/// One libgit2 repository handle. libgit2 objects are used by one thread at a time, so a handle
/// is only ever lent out by a ``HandlePool``.
final class RepositoryHandle {
    let pointer: OpaquePointer
    /// The object database, for reading object sizes before their contents.
    let odb: OpaquePointer

    init(path: String, shownAs display: String) throws(GitError) {
        LibGit2.ensureInitialized()
        var repository: OpaquePointer?
        let result = git_repository_open_ext(&repository, path, UInt32(GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue), nil)
        guard result == 0, let repository else {
            if result == GIT_ENOTFOUND.rawValue {
                throw GitError(.notARepository, operation: "open", repository: display, message: "not a git repository")
            }
            throw LibGit2.lastError(result, operation: "open", repository: display)
        }
        var odb: OpaquePointer?
        let odbResult = git_repository_odb(&odb, repository)
        guard odbResult == 0, let odb else {
            let error = LibGit2.lastError(odbResult, operation: "open", repository: display)
            git_repository_free(repository)
            throw error
        }
        pointer = repository
        self.odb = odb
    }

    deinit {
        git_odb_free(odb)
        git_repository_free(pointer)
    }
}

/// Handles to one repository for concurrent readers: a thread takes one, uses it, gives it back,
/// so no handle is ever used by two threads at once.
final class HandlePool: Sendable {
    let path: String
    let display: String
    private let idle: Mutex<[UnsafeHandle]>

    /// A handle moved between threads under the pool's lock; never used by two at once.
    private struct UnsafeHandle: @unchecked Sendable {
        let handle: RepositoryHandle
    }

    init(path: String, shownAs display: String) throws(GitError) {
        self.path = path
        self.display = display
        // Opening once up front reports a bad path at once, not at the first read.
        let first = try RepositoryHandle(path: path, shownAs: display)
        idle = Mutex([UnsafeHandle(handle: first)])
    }

    func withHandle<T>(_ body: (RepositoryHandle) throws(GitError) -> T) throws(GitError) -> T {
        let handle: RepositoryHandle
        if let taken = idle.withLock({ $0.popLast() }) {
            handle = taken.handle
        } else {
            handle = try RepositoryHandle(path: path, shownAs: display)
        }
        defer {
            let returned = UnsafeHandle(handle: handle)
            idle.withLock { $0.append(returned) }
        }
        return try body(handle)
    }
}

/// Frees a libgit2 object when the Swift owner goes away.
final class GitObject {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        git_object_free(pointer)
    }
}

/// A git object id, as a value that can cross threads.
public struct ObjectID: Sendable, Hashable, CustomStringConvertible {
    var bytes: (UInt64, UInt64, UInt32)

    init(_ oid: git_oid) {
        var copy = oid
        var bytes: (UInt64, UInt64, UInt32) = (0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { target in
            withUnsafeBytes(of: &copy.id) { source in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source.prefix(20)))
            }
        }
        self.bytes = bytes
    }

    var oid: git_oid {
        var oid = git_oid()
        var copy = bytes
        withUnsafeMutableBytes(of: &oid.id) { target in
            withUnsafeBytes(of: &copy) { source in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source.prefix(20)))
            }
        }
        return oid
    }

    /// The 40 hex digits.
    public var description: String {
        var oid = self.oid
        var buffer = [CChar](repeating: 0, count: 41)
        git_oid_tostr(&buffer, 41, &oid)
        return String(decoding: buffer.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func == (lhs: ObjectID, rhs: ObjectID) -> Bool {
        lhs.bytes.0 == rhs.bytes.0 && lhs.bytes.1 == rhs.bytes.1 && lhs.bytes.2 == rhs.bytes.2
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.0)
        hasher.combine(bytes.1)
        hasher.combine(bytes.2)
    }
}
