import GRDB
import WindlassStorage
public import WindlassCluster
public import WindlassManifest

/// The embedded cluster's objects in SQLite (`<state>/cluster.sqlite`, WAL, synchronous=FULL):
/// a write is acknowledged only once its transaction is durable, so it survives kill -9.
public final class StateDatabase: Sendable {
    public let path: String
    private let queue: DatabaseQueue

    /// The file opened: a write checks it is still that file, whole.
    private let identity: DurableDatabase.FileIdentity?

    public init(path: String) throws(ClusterError) {
        self.path = path
        queue = try DurableDatabase.open(path: path, migrator: Self.migrator)
        identity = DurableDatabase.FileIdentity(path: path)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "object") { t in
                t.column("kind", .text).notNull()
                t.column("namespace", .text).notNull()
                t.column("name", .text).notNull()
                t.column("body", .text).notNull()
                t.column("managers", .text).notNull()
                t.primaryKey(["kind", "namespace", "name"])
            }
            try db.create(table: "setting") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
        }
        migrator.registerMigration("v2-events") { db in
            try db.create(table: "event") { t in
                t.primaryKey("key", .text)
                t.column("lastTime", .double).notNull()
                t.column("body", .text).notNull()
            }
            try db.create(index: "event_by_time", on: "event", columns: ["lastTime"])
        }
        return migrator
    }

    /// Writes the changed objects (nil = deleted), events and settings in one transaction.
    public func save(_ changes: [ResourceID: StoredObject?], events: [ClusterEvent] = [], settings: [String: String] = [:]) throws(ClusterError) {
        guard !changes.isEmpty || !settings.isEmpty || !events.isEmpty else { return }
        try identity?.check(path)
        do {
            try queue.write { db in
                for event in events {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO event (key, lastTime, body) VALUES (?, ?, ?)",
                        arguments: [Self.key(of: event), event.lastTime, Self.encode(event)]
                    )
                }
                for (id, stored) in changes {
                    let kind = id.groupKind.description
                    let namespace = id.namespace ?? ""
                    if let stored {
                        try db.execute(
                            sql: "INSERT OR REPLACE INTO object (kind, namespace, name, body, managers) VALUES (?, ?, ?, ?, ?)",
                            arguments: [kind, namespace, id.name, JSONWriter().write(stored.object), ""]
                        )
                    } else {
                        try db.execute(
                            sql: "DELETE FROM object WHERE kind = ? AND namespace = ? AND name = ?",
                            arguments: [kind, namespace, id.name]
                        )
                    }
                }
                for (key, value) in settings {
                    try db.execute(sql: "INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", arguments: [key, value])
                }
            }
        } catch {
            throw Self.failure(error, path: path, doing: "write")
        }
    }

    /// Every stored object, one at a time (CustomResourceDefinitions first, so that their
    /// custom resources find their scope): a large cluster is never held twice, as rows and as
    /// objects.
    public func forEachObject(_ body: (StoredObject) -> Void) throws(ClusterError) {
        do {
            try queue.read { db in
                let rows = try Row.fetchCursor(
                    db,
                    sql: "SELECT body, managers FROM object ORDER BY kind = 'apiextensions.k8s.io/CustomResourceDefinition' DESC, kind, namespace, name"
                )
                while let row = try rows.next() {
                    let text: String = row["body"]
                    let managers: String = row["managers"]
                    guard let object = try JSONReader.read(text) else { continue }
                    let ownership = managers.isEmpty ? Value.null : (try YAMLReader.read(managers).first?.root ?? .null)
                    body(Self.decode(object: object, managers: ownership))
                }
            }
        } catch let error as YAMLError {
            throw ClusterError(.internalError, "the state database \(path) holds an unreadable object (\(error.message)); move it aside to start afresh")
        } catch {
            throw Self.failure(error, path: path, doing: "read")
        }
    }

    /// The most recent events, oldest first.
    public func loadEvents(limit: Int = 10_000) throws(ClusterError) -> [ClusterEvent] {
        do {
            let bodies = try queue.read { db in
                try String.fetchAll(db, sql: "SELECT body FROM (SELECT body, lastTime FROM event ORDER BY lastTime DESC LIMIT ?) ORDER BY lastTime", arguments: [limit])
            }
            return bodies.compactMap { body in
                guard let value = try? JSONReader.read(body) else { return nil }
                return Self.decodeEvent(value)
            }
        } catch {
            throw Self.failure(error, path: path, doing: "read")
        }
    }

    static func key(of event: ClusterEvent) -> String {
        key(object: event.object, reason: event.reason, message: event.message)
    }

    static func key(object: ResourceID, reason: String, message: String) -> String {
        "\(object)|\(reason)|\(message)"
    }

    static func encode(_ event: ClusterEvent) -> String {
        let object: Value = [
            "group": .string(event.object.group), "version": .string(event.object.version), "kind": .string(event.object.kind),
            "namespace": event.object.namespace.map { .string($0) } ?? .null, "name": .string(event.object.name),
        ]
        return JSONWriter().write([
            "object": object, "type": .string(event.kind.rawValue), "reason": .string(event.reason), "message": .string(event.message),
            "count": .int(event.count), "firstTime": .double(event.firstTime), "lastTime": .double(event.lastTime),
        ])
    }

    static func decodeEvent(_ value: Value) -> ClusterEvent? {
        guard let o = value["object"], let kind = o["kind"]?.stringValue, let name = o["name"]?.stringValue,
            let type = value["type"]?.stringValue.flatMap(ClusterEvent.Kind.init(rawValue:))
        else { return nil }
        let id = ResourceID(group: o["group"]?.stringValue ?? "", version: o["version"]?.stringValue ?? "", kind: kind, namespace: o["namespace"]?.stringValue, name: name)
        return ClusterEvent(
            object: id, kind: type, reason: value["reason"]?.stringValue ?? "", message: value["message"]?.stringValue ?? "",
            count: value["count"]?.intValue ?? 1, firstTime: value["firstTime"]?.doubleValue ?? 0, lastTime: value["lastTime"]?.doubleValue ?? 0
        )
    }

    public func setting(_ key: String) throws(ClusterError) -> String? {
        do {
            return try queue.read { db in
                try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [key])
            }
        } catch {
            throw Self.failure(error, path: path, doing: "read")
        }
    }

    /// A stored object as read back. Field ownership lives in the object's own
    /// `metadata.managedFields`; files that predate that hold it in the `managers` column, which
    /// is then written into `managedFields` here.
    static func decode(object: Value, managers: Value) -> StoredObject {
        var object = object
        var listed = Set((object[path: ["metadata", "managedFields"]]?.sequenceValue ?? []).compactMap { $0["manager"]?.stringValue })
        var entries = object[path: ["metadata", "managedFields"]]?.sequenceValue ?? []
        for entry in managers.mappingValue?.entries ?? [] where listed.insert(entry.key).inserted {
            let fields = entry.value["fields"] ?? .null
            guard !FieldSet(fieldsV1: fields).isEmpty else { continue }
            entries.append([
                "manager": .string(entry.key), "operation": .string(entry.value["operation"]?.stringValue ?? "Update"),
                "apiVersion": object["apiVersion"] ?? .null, "fieldsType": "FieldsV1", "fieldsV1": fields,
            ])
        }
        if !entries.isEmpty { object.set(.sequence(entries), at: ["metadata", "managedFields"]) }
        return StoredObject(object: object)
    }

    static func failure(_ error: any Error, path: String, doing operation: String) -> ClusterError {
        DurableDatabase.failure(error, path: path, doing: operation)
    }
}
