import GRDB
import WindlassStorage

#if canImport(Glibc)
import Glibc
#endif
public import WindlassCluster
public import WindlassManifest

/// Revision history, application settings and the in-progress marker of each application, in
/// SQLite (`<state>/windlass.sqlite`, WAL, synchronous=FULL). Separate from the embedded
/// cluster's database: the history is Windlass's own, whatever cluster it drives.
public final class RevisionStore: Sendable {
    public let path: String
    private let queue: DatabaseQueue
    /// Revisions kept per application (the deployed one is never dropped).
    public let historyLimit: Int

    public init(stateDirectory: String, historyLimit: Int = 10) throws(ClusterError) {
        path = stateDirectory + "/windlass.sqlite"
        self.historyLimit = historyLimit
        queue = try DurableDatabase.open(path: path, busyTimeout: 5, migrator: Self.migrator)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "revision") { t in
                t.column("application", .text).notNull()
                t.column("number", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("body", .text).notNull()
                t.column("manifests", .text).notNull()
                t.primaryKey(["application", "number"])
            }
            try db.create(table: "operation") { t in
                t.primaryKey("application", .text)
                t.column("holder", .text).notNull()
                t.column("leaseExpires", .double).notNull()
                t.column("revision", .integer).notNull()
                t.column("state", .text).notNull()
            }
            try db.create(table: "appSetting") { t in
                t.column("application", .text).notNull()
                t.column("key", .text).notNull()
                t.column("value", .text).notNull()
                t.primaryKey(["application", "key"])
            }
        }
        return migrator
    }

    // MARK: - Revisions

    /// Every revision kept, oldest first.
    public func history(_ application: String) throws(ClusterError) -> [Revision] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT body FROM revision WHERE application = ? ORDER BY number", arguments: [application]).compactMap { row in
                Self.decode(row["body"])
            }
        }
    }

    public func revision(_ application: String, _ number: Int) throws(ClusterError) -> Revision? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT body FROM revision WHERE application = ? AND number = ?", arguments: [application, number]).flatMap {
                Self.decode($0["body"])
            }
        }
    }

    /// The archived manifests of a revision.
    public func manifests(_ application: String, _ number: Int) throws(ClusterError) -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT manifests FROM revision WHERE application = ? AND number = ?", arguments: [application, number])
        }
    }

    /// The revision deployed now, if any.
    public func deployed(_ application: String) throws(ClusterError) -> Revision? {
        try history(application).last { $0.status == .deployed }
    }

    /// Records a new revision (numbered after the highest so far), pending, with its manifests.
    public func begin(_ revision: Revision, manifests: String) throws(ClusterError) -> Revision {
        try write { db in
            let highest = try Int.fetchOne(db, sql: "SELECT MAX(number) FROM revision WHERE application = ?", arguments: [revision.application]) ?? 0
            var numbered = revision
            numbered.number = highest + 1
            numbered.status = .pending
            try db.execute(
                sql: "INSERT INTO revision (application, number, status, body, manifests) VALUES (?, ?, ?, ?, ?)",
                arguments: [numbered.application, numbered.number, numbered.status.rawValue, JSONWriter().write(numbered.value), manifests])
            return numbered
        }
    }

    /// Ends a revision: deployed (the previous deployed one becomes superseded), failed or
    /// rolled back; then trims the history to ``historyLimit``.
    public func finish(_ revision: Revision) throws(ClusterError) {
        try write { db in
            if revision.status == .deployed {
                for row in try Row.fetchAll(
                    db, sql: "SELECT number, body FROM revision WHERE application = ? AND status = 'deployed' AND number != ?",
                    arguments: [revision.application, revision.number])
                {
                    guard var previous = Self.decode(row["body"]) else { continue }
                    previous.status = .superseded
                    try Self.update(previous, in: db)
                }
            }
            try Self.update(revision, in: db)
            if revision.status != .pending { try Self.dropRequests(revision.application, revision: revision.number, in: db) }
            // Keep the last `historyLimit`, and the deployed one whatever its age.
            let numbers = try Int.fetchAll(
                db, sql: "SELECT number FROM revision WHERE application = ? AND status != 'deployed' ORDER BY number DESC", arguments: [revision.application])
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM revision WHERE application = ?", arguments: [revision.application]) ?? 0
            var excess = total - historyLimit
            for number in numbers.reversed() where excess > 0 {
                try db.execute(sql: "DELETE FROM revision WHERE application = ? AND number = ?", arguments: [revision.application, number])
                excess -= 1
            }
        }
    }

    /// Marks a revision (deployed or failed) as rolled back.
    public func markRolledBack(_ application: String, _ number: Int) throws(ClusterError) {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT body FROM revision WHERE application = ? AND number = ?", arguments: [application, number]),
                var revision = Self.decode(row["body"])
            else { return }
            revision.status = .rolledBack
            try Self.update(revision, in: db)
        }
    }

    private static func update(_ revision: Revision, in db: Database) throws {
        try db.execute(
            sql: "UPDATE revision SET status = ?, body = ? WHERE application = ? AND number = ?",
            arguments: [revision.status.rawValue, JSONWriter().write(revision.value), revision.application, revision.number])
    }

    // MARK: - Settings

    public func setting(_ application: String, _ key: String) throws(ClusterError) -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT value FROM appSetting WHERE application = ? AND key = ?", arguments: [application, key])
        }
    }

    public func setSetting(_ application: String, _ key: String, _ value: String?) throws(ClusterError) {
        try write { db in
            if let value {
                try db.execute(sql: "INSERT OR REPLACE INTO appSetting (application, key, value) VALUES (?, ?, ?)", arguments: [application, key, value])
            } else {
                try db.execute(sql: "DELETE FROM appSetting WHERE application = ? AND key = ?", arguments: [application, key])
            }
        }
    }

    // MARK: - The in-progress marker

    /// A sync in progress: who runs it, until when its lease holds, and where it is.
    public struct Operation: Sendable, Hashable {
        public var application: String
        public var holder: String
        public var leaseExpires: Double
        public var revision: Int
        /// What a resumed sync needs (the executor's checkpoint), as JSON.
        public var state: String
    }

    /// Takes the application's lease for `seconds`, unless another holder's lease is still
    /// valid (then that operation is returned and nothing changes). An expired lease is taken
    /// over: a crashed sync never blocks the next one.
    public func acquire(
        _ application: String, holder: String, revision: Int, now: Double, seconds: Double, holderIsGone: (String) -> Bool = { _ in false }
    ) throws(ClusterError) -> (acquired: Bool, previous: Operation?) {
        try write { db in
            let previous = try Self.operation(application, in: db)
            if let previous, previous.holder != holder, previous.leaseExpires > now, !holderIsGone(previous.holder) {
                return (false, previous)
            }
            try db.execute(
                sql: "INSERT OR REPLACE INTO operation (application, holder, leaseExpires, revision, state) VALUES (?, ?, ?, ?, ?)",
                arguments: [application, holder, now + seconds, revision == 0 ? (previous?.revision ?? 0) : revision, previous?.state ?? "{}"])
            return (true, previous)
        }
    }

    /// Extends the lease and records progress.
    public func checkpoint(_ application: String, holder: String, now: Double, seconds: Double, state: String, revision: Int? = nil) throws(ClusterError) {
        try write { db in
            try db.execute(
                sql: "UPDATE operation SET leaseExpires = ?, state = ?, revision = COALESCE(?, revision) WHERE application = ? AND holder = ?",
                arguments: [now + seconds, state, revision, application, holder])
        }
    }

    /// Ends the lease but keeps the operation and its progress, for the next sync to resume.
    public func suspend(_ application: String, holder: String, now: Double) throws(ClusterError) {
        try write { db in
            try db.execute(sql: "UPDATE operation SET leaseExpires = ? WHERE application = ? AND holder = ?", arguments: [now, application, holder])
        }
    }

    // MARK: - Requests to canaries

    /// Records what a person asks of a canary of revision `revision` (the sync running it takes
    /// it). A request belongs to its revision: another revision's sync never takes it, and it
    /// is dropped when its revision ends.
    public func request(_ application: String, target: ResourceID, _ request: RolloutRequest, revision: Int) throws(ClusterError) {
        try setSetting(application, Self.requestKey(target), "\(request.rawValue)@\(revision)")
    }

    /// The pending request for a canary of `revision`, removed as it is taken; one made for
    /// another revision is removed and not taken.
    public func takeRequest(_ application: String, target: ResourceID, revision: Int) throws(ClusterError) -> RolloutRequest? {
        try write { db in
            let key = Self.requestKey(target)
            guard let raw = try String.fetchOne(db, sql: "SELECT value FROM appSetting WHERE application = ? AND key = ?", arguments: [application, key]) else {
                return nil
            }
            try db.execute(sql: "DELETE FROM appSetting WHERE application = ? AND key = ?", arguments: [application, key])
            let parts = raw.split(separator: "@", maxSplits: 1)
            guard parts.count == 2, Int(parts[1]) == revision else { return nil }
            return RolloutRequest(rawValue: String(parts[0]))
        }
    }

    private static func requestKey(_ target: ResourceID) -> String { "rollout:" + target.description }

    /// Drops the requests made for `revision` (it ended).
    private static func dropRequests(_ application: String, revision: Int, in db: Database) throws {
        try db.execute(
            sql: "DELETE FROM appSetting WHERE application = ? AND key LIKE 'rollout:%' AND value LIKE ?", arguments: [application, "%@\(revision)"])
    }

    public func release(_ application: String, holder: String) throws(ClusterError) {
        try write { db in
            try db.execute(sql: "DELETE FROM operation WHERE application = ? AND holder = ?", arguments: [application, holder])
        }
    }

    /// Every application's operation in progress, by application name.
    public func operations() throws(ClusterError) -> [Operation] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM operation ORDER BY application").map { row in
                Operation(application: row["application"], holder: row["holder"], leaseExpires: row["leaseExpires"], revision: row["revision"], state: row["state"])
            }
        }
    }

    public func operation(_ application: String) throws(ClusterError) -> Operation? {
        try read { db in try Self.operation(application, in: db) }
    }

    private static func operation(_ application: String, in db: Database) throws -> Operation? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM operation WHERE application = ?", arguments: [application]) else { return nil }
        return Operation(application: row["application"], holder: row["holder"], leaseExpires: row["leaseExpires"], revision: row["revision"], state: row["state"])
    }

    // MARK: - Plumbing

    private func read<T>(_ body: (Database) throws -> T) throws(ClusterError) -> T {
        do {
            return try queue.read(body)
        } catch {
            throw Self.failure(error, path: path, doing: "read")
        }
    }

    private func write<T>(_ body: (Database) throws -> T) throws(ClusterError) -> T {
        do {
            return try queue.write(body)
        } catch {
            throw Self.failure(error, path: path, doing: "write")
        }
    }

    static func decode(_ body: String?) -> Revision? {
        guard let body, let value = try? YAMLReader.read(body).first?.root else { return nil }
        guard let application = value["application"]?.stringValue, let number = value["revision"]?.intValue,
            let status = value["status"]?.stringValue.flatMap(Revision.Status.init(rawValue:))
        else { return nil }
        return Revision(
            application: application, number: number, status: status, commit: value["commit"]?.stringValue,
            source: value["source"]?.stringValue ?? "", path: value["path"]?.stringValue ?? "", digest: value["digest"]?.stringValue ?? "",
            trigger: value["trigger"]?.stringValue ?? "", description: value["description"]?.stringValue ?? "",
            startedAt: value["startedAt"]?.stringValue.flatMap(Timestamp.parse) ?? 0,
            finishedAt: value["finishedAt"]?.stringValue.flatMap(Timestamp.parse), message: value["message"]?.stringValue,
            results: value["results"]?.sequenceValue?.compactMap(\.stringValue) ?? [], renderer: value["renderer"]?.stringValue)
    }

    static func failure(_ error: any Error, path: String, doing operation: String) -> ClusterError {
        DurableDatabase.failure(error, path: path, doing: operation)
    }
}
