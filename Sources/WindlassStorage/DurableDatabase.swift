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
    public static func open(path: String, busyTimeout: Double? = nil, migrator: DatabaseMigrator) throws(ClusterError) -> DatabaseQueue {
        var configuration = Configuration()
        if let busyTimeout { configuration.busyMode = .timeout(busyTimeout) }
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            if let slash = path.lastIndex(of: "/") { mkdir(String(path[..<slash]), 0o755) }
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            try migrator.migrate(queue)
            return queue
        } catch {
            throw failure(error, path: path, doing: "open")
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
