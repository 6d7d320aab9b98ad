public import GRDB
public import WindlassCluster

#if canImport(Glibc)
import Glibc
#endif

/// How Windlass opens its SQLite databases (the embedded cluster's objects and the revision
/// history): WAL, `synchronous = FULL` so a write is acknowledged only once it is durable (it
/// survives kill -9), migrated to the current schema, every failure one clear line.
public enum DurableDatabase {
    /// Opens (or creates) the database at `path`, creating its directory, and migrates it.
    /// With `busyTimeout`, a writer waits that many seconds for another process's lock.
    ///
    /// A new database is made under a temporary name and linked into place once it holds its
    /// schema, so a state file that exists is always a database: one that is empty (truncated)
    /// or not a database is an error naming it, never taken for a fresh, empty state.
    public static func open(path: String, busyTimeout: Double? = nil, migrator: DatabaseMigrator) throws(ClusterError) -> DatabaseQueue {
        var configuration = Configuration()
        if let busyTimeout { configuration.busyMode = .timeout(busyTimeout) }
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        if let slash = path.lastIndex(of: "/") { mkdir(String(path[..<slash]), 0o700) }
        var info = stat()
        if stat(path, &info) != 0 {
            try create(path: path, configuration: configuration, migrator: migrator)
        } else if info.st_size == 0 {
            throw ClusterError(
                .internalError,
                "the state database \(path) is empty (0 bytes): it was truncated, and is not taken for a fresh state; restore it, or move it aside to start afresh")
        }
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            try migrator.migrate(queue)
            chmod(path, 0o600)
            return queue
        } catch {
            throw failure(error, path: path, doing: "open")
        }
    }

    /// Which file a path names: its device and inode, taken when a database is opened.
    public struct FileIdentity: Sendable, Hashable {
        var device: UInt64
        var inode: UInt64

        public init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }

        /// Throws when the file at `path` is no longer the one opened, or was truncated, while
        /// this process used it: a write then would leave a state that holds only what changed
        /// since, so nothing is written and the process says so.
        public func check(_ path: String) throws(ClusterError) {
            var info = stat()
            let problem: String? =
                if stat(path, &info) != 0 {
                    "was removed"
                } else if UInt64(info.st_dev) != device || UInt64(info.st_ino) != inode {
                    "was replaced by another file"
                } else if info.st_size == 0 {
                    "was truncated to 0 bytes"
                } else {
                    nil
                }
            guard let problem else { return }
            throw ClusterError(
                .internalError,
                "the state database \(path) \(problem) while in use; nothing was written (restore it, then restart, which reads it again)")
        }
    }

    /// Makes the database at `path`: built under a temporary name, then hard-linked into place
    /// (another process that made it first wins; its database is used).
    private static func create(path: String, configuration: Configuration, migrator: DatabaseMigrator) throws(ClusterError) {
        let temporary = "\(path).new-\(getpid())"
        unlink(temporary)
        do {
            let previous = umask(0o077)
            defer { umask(previous) }
            let queue = try DatabaseQueue(path: temporary, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            try migrator.migrate(queue)
            try queue.close()
        } catch {
            unlink(temporary)
            throw failure(error, path: path, doing: "create")
        }
        defer { for suffix in ["", "-wal", "-shm"] { unlink(temporary + suffix) } }
        if link(temporary, path) != 0 && errno != EEXIST {
            throw ClusterError(.internalError, "cannot create the state database \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// A database failure as a cluster error: a corrupt file says how to start afresh, a lock
    /// held elsewhere is `unavailable`, anything else names the operation and the file.
    public static func failure(_ error: any Error, path: String, doing operation: String) -> ClusterError {
        if let database = error as? DatabaseError {
            let detail = database.message ?? "\(database.resultCode)"
            switch database.resultCode {
            case .SQLITE_CORRUPT, .SQLITE_NOTADB:
                return ClusterError(.internalError, "the state database \(path) is corrupt (\(detail)); move it aside to start afresh")
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return ClusterError(.unavailable, "the state database \(path) is locked by another process")
            default:
                return ClusterError(.internalError, "cannot \(operation) the state database \(path): \(detail)")
            }
        }
        if let error = error as? ClusterError { return error }
        return ClusterError(.internalError, "cannot \(operation) the state database \(path): \(error)")
    }
}
