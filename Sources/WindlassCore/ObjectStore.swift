public import WindlassCluster
public import WindlassManifest

/// An object as stored.
///
/// Who owns which of its fields is read back from its own `metadata.managedFields`, which the
/// store writes on every change: keeping the decoded field sets beside every object doubled
/// what a large cluster held, and only applies and updates (not the kubelet's status writes,
/// not reads) need them.
public struct StoredObject: Sendable {
    public var object: Value

    public init(object: Value) {
        self.object = object
    }

    /// Each manager's fields and its operation (`Apply` or `Update`), from `managedFields`.
    public var ownership: (managers: ServerSideApply.Managers, operations: [String: String]) {
        var managers: ServerSideApply.Managers = [:]
        var operations: [String: String] = [:]
        for entry in object[path: ["metadata", "managedFields"]]?.sequenceValue ?? [] {
            guard let name = entry["manager"]?.stringValue else { continue }
            let fields = FieldSet(fieldsV1: entry["fieldsV1"] ?? .null)
            guard !fields.isEmpty else { continue }
            managers[name] = fields
            operations[name] = entry["operation"]?.stringValue ?? "Update"
        }
        return (managers, operations)
    }

    public var uid: String { object[path: ["metadata", "uid"]]?.stringValue ?? "" }
}

/// The embedded cluster's objects with Kubernetes' API semantics: uids, a monotonic
/// resourceVersion, generation bumped on spec changes only, optimistic concurrency, defaulting,
/// validation (immutable fields, selectors), server-side apply, owner references with garbage
/// collection, namespaces, and an ordered log of changes for watches.
///
/// Every write validates first and changes state only once it cannot fail, so a refused write
/// leaves the store as it was.
public struct ObjectStore: Sendable {
    struct Key: Hashable, Sendable {
        var namespace: String
        var name: String
    }

    public private(set) var resourceVersion = 0
    /// Kind → namespace ("" for cluster-scoped kinds) → name → object: listing a namespace
    /// reads that namespace only (the endpoints controller lists each Service's pods).
    private(set) var objects: [GroupKind: [String: [String: StoredObject]]] = [:]
    /// Owner uid → the objects that name it in their ownerReferences.
    private var dependents: [String: Set<ResourceID>] = [:]
    /// Kind → namespace → `key=value` of a label → the names of the objects that carry it: a
    /// selector of equalities (a Service's, a ReplicaSet's) reads the objects it names, not the
    /// whole namespace.
    private var byLabel: [GroupKind: [String: [String: Set<String>]]] = [:]
    /// The built-in resources and those the stored CustomResourceDefinitions declare: names
    /// for messages, and which kinds are cluster-scoped.
    public private(set) var mapping = RESTMapping.builtIn
    /// Changes in order, for watches; the oldest are dropped past `logLimit` (a watch from an
    /// older resourceVersion gets `expired`, as after etcd's compaction, and lists again). Each
    /// entry holds a whole object version, so the limit bounds memory too.
    public private(set) var log: [Change] = []
    /// One change in the log, at the store's (integer) resourceVersion; the API turns it into
    /// a ``ClusterWatchEvent`` with an opaque one.
    public struct Change: Sendable {
        public var kind: ClusterWatchEvent.Kind
        public var object: Value
        /// What a modified object was before (an informer's old object): controllers tell the
        /// changes they act on from those they do not. It shares its unchanged parts with
        /// `object`.
        public var previous: Value? = nil
        public var resourceVersion: Int

        public var event: ClusterWatchEvent { ClusterWatchEvent(kind: kind, object: object, resourceVersion: String(resourceVersion)) }
    }
    public var logLimit = 20_000
    /// Objects written or deleted since the last `takeChanges()`, for persistence.
    private var changed: [ResourceID: StoredObject?] = [:]
    private var nextServiceIP = 1
    /// The latest time a write was stamped with: when a deletion is marked without one.
    private var lastNow: Double = 0
    /// Equal subtrees of the stored objects, kept once: the pods of one template, the
    /// conditions of one pass, the blocks every Deployment repeats (a cluster of 10,000
    /// manifests' objects holds 44 % fewer mapping entries).
    private var interner = ValueInterner()
    /// Whether written objects share equal subtrees through the interner (off for a twin:
    /// short-lived, it would spend more time hashing every write than it saves).
    public var interning = true
    /// Whether `create` and `update` (the controllers' writes, a person's edits) record who owns
    /// which field (off for a twin: nothing there reads the controllers' ownership, and working
    /// it out is most of a write's cost; server-side apply keeps it either way).
    public var recordsUpdateOwnership = true
    /// Whether writes are kept for `takeChanges()` (off for a twin: nothing is saved).
    public var keepsUnsaved = true
    /// The `fieldsV1` trees of the field sets written last, so that objects owning the same
    /// fields share one tree. Bounded: a set is a Set of paths, far larger than its tree.
    private var recentTrees: [FieldSet: Value] = [:]
    private static let recentTreeLimit = 512

    /// A store with nothing in it, not even namespaces.
    init(empty: Void) {}

    /// A store with the namespaces every cluster starts with.
    public init(now: Double) {
        for name in ["default", "kube-system", "kube-public"] {
            _ = try? create(Value(.mapping(Mapping([
                .init(key: "apiVersion", value: "v1"), .init(key: "kind", value: "Namespace"),
                .init(key: "metadata", value: ["name": .string(name)]),
            ]))), manager: "windlass-core", now: now)
        }
    }

    // MARK: - Reading

    public func get(_ id: ResourceID) throws(ClusterError) -> Value {
        guard let stored = stored(id) else { throw notFound(id) }
        return stored.object
    }

    public func stored(_ id: ResourceID) -> StoredObject? {
        let key = key(for: id)
        return objects[id.groupKind]?[key.namespace]?[key.name]
    }

    public func list(_ kind: GroupKind, namespace: String?, selector: LabelSelector = .everything) -> [Value] {
        guard let byNamespace = objects[kind] else { return [] }
        var out: [(Key, Value)] = []
        // The equalities of the selector, each naming a set of objects: the smallest set is
        // where the matches are (every requirement is still checked on each).
        let equalities = selector.requirements.compactMap { requirement in
            requirement.op == .equals && requirement.values.count == 1 ? requirement.key + "=" + requirement.values[0] : nil
        }
        func add(_ namespace: String, _ byName: [String: StoredObject]) {
            if !equalities.isEmpty, let postings = byLabel[kind]?[namespace] {
                let narrowest = equalities.map { postings[$0] ?? [] }.min { $0.count < $1.count } ?? []
                for name in narrowest {
                    guard let stored = byName[name] else { continue }
                    let labels = stored.object[path: ["metadata", "labels"]]?.mappingValue
                    if !selector.matches(label: { labels?[$0]?.stringValue }) { continue }
                    out.append((Key(namespace: namespace, name: name), stored.object))
                }
                return
            }
            for (name, stored) in byName {
                if !selector.isEmpty {
                    let labels = stored.object[path: ["metadata", "labels"]]?.mappingValue
                    if !selector.matches(label: { labels?[$0]?.stringValue }) { continue }
                }
                out.append((Key(namespace: namespace, name: name), stored.object))
            }
        }
        if let namespace {
            if let byName = byNamespace[namespace] { add(namespace, byName) }
        } else {
            for (namespace, byName) in byNamespace { add(namespace, byName) }
        }
        out.sort { ($0.0.namespace, $0.0.name) < ($1.0.namespace, $1.0.name) }
        return out.map(\.1)
    }

    /// How many objects of `kind` there are.
    public func count(_ kind: GroupKind) -> Int {
        objects[kind]?.values.reduce(0) { $0 + $1.count } ?? 0
    }

    /// One object of `kind` by its namespace ("" for cluster-scoped kinds) and name.
    public func object(_ kind: GroupKind, namespace: String, name: String) -> Value? {
        objects[kind]?[namespace]?[name]?.object
    }

    /// The objects whose ownerReferences name `uid`.
    public func dependents(of uid: String) -> [ResourceID] {
        (dependents[uid] ?? []).sorted()
    }

    /// The objects of `kind` whose ownerReferences name `uid`, by namespace and name (what a
    /// controller reads of its pods or ReplicaSets on every pass: no sort of whole ids).
    public func dependents(of uid: String, kind: String) -> [Value] {
        guard let ids = dependents[uid] else { return [] }
        var found: [(namespace: String, name: String, object: Value)] = []
        found.reserveCapacity(ids.count)
        // A controller's dependents are of one kind in one namespace: the tables of the last
        // kind and namespace are looked up once.
        var table: (kind: GroupKind, namespace: String, byName: [String: StoredObject])? = nil
        for id in ids where id.kind == kind {
            let key = key(for: id)
            if table?.kind != id.groupKind || table?.namespace != key.namespace {
                table = (id.groupKind, key.namespace, objects[id.groupKind]?[key.namespace] ?? [:])
            }
            if let stored = table?.byName[key.name] { found.append((key.namespace, key.name, stored.object)) }
        }
        found.sort { $0.namespace != $1.namespace ? $0.namespace < $1.namespace : $0.name < $1.name }
        return found.map(\.object)
    }

    /// Every kind stored.
    public var kinds: [GroupKind] { Array(objects.keys) }

    public func isClusterScoped(_ kind: GroupKind) -> Bool { mapping.isClusterScoped(kind) }

    // MARK: - Writing

    /// Server-side apply by `options.fieldManager`.
    public mutating func apply(_ object: Value, options: ApplyOptions, now: Double) throws(ClusterError) -> Value {
        if options.dryRun {
            var scratch = scratchCopy()
            return try scratch.apply(object, options: ApplyOptions(fieldManager: options.fieldManager, force: options.force), now: now)
        }
        let id = try identity(of: object)
        let existing = stored(id)
        let ownership = existing?.ownership ?? (managers: [:], operations: [:])
        let (merged, managers) = try ServerSideApply.apply(
            object,
            to: existing?.object,
            managers: ownership.managers,
            manager: options.fieldManager,
            force: options.force
        )
        var operations = ownership.operations.filter { managers[$0.key] != nil }
        operations[options.fieldManager] = "Apply"
        return try write(
            merged, id: id, existing: existing, previousManagers: ownership.managers, managers: managers, operations: operations, now: now
        )
    }

    /// Creates an object as a controller or a person would with `create`: it must not exist.
    public mutating func create(_ object: Value, manager: String, now: Double) throws(ClusterError) -> Value {
        let id = try identity(of: object)
        if stored(id) != nil {
            throw ClusterError(.alreadyExists, "\(mapping.qualifiedName(of: id.groupKind)) \"\(id.name)\" already exists")
        }
        guard recordsUpdateOwnership else {
            return try write(object, id: id, existing: nil, previousManagers: [:], managers: [:], operations: [:], now: now, keepingManagedFields: true)
        }
        let managers = [manager: FieldSet(of: ServerSideApply.ownable(object))]
        return try write(object, id: id, existing: nil, previousManagers: [:], managers: managers, operations: [manager: "Update"], now: now)
    }

    /// Replaces an object (`update`): a stale `metadata.resourceVersion` is a conflict; the
    /// manager takes the fields it changed. The status is kept: it changes through `updateStatus`.
    public mutating func update(_ object: Value, manager: String, now: Double) throws(ClusterError) -> Value {
        let id = try identity(of: object)
        guard let existing = stored(id) else { throw notFound(id) }
        try checkResourceVersion(object, against: existing.object, id: id)
        var replacement = object
        replacement.set(existing.object["status"] ?? .null, at: ["status"])
        if replacement["status"]?.isNull == true { replacement.remove(at: ["status"]) }
        guard recordsUpdateOwnership else {
            replacement.set(existing.object[path: ["metadata", "managedFields"]] ?? .null, at: ["metadata", "managedFields"])
            if replacement[path: ["metadata", "managedFields"]]?.isNull == true { replacement.remove(at: ["metadata", "managedFields"]) }
            return try write(replacement, id: id, existing: existing, previousManagers: [:], managers: [:], operations: [:], now: now, keepingManagedFields: true)
        }
        let ownership = existing.ownership
        let managers = ServerSideApply.update(from: existing.object, to: replacement, managers: ownership.managers, manager: manager)
        var operations = ownership.operations.filter { managers[$0.key] != nil }
        if managers[manager] != nil, operations[manager] == nil { operations[manager] = "Update" }
        return try write(
            replacement, id: id, existing: existing, previousManagers: ownership.managers, managers: managers, operations: operations, now: now
        )
    }

    /// Sets `spec.replicas` of a workload a controller owns (the `/scale` subresource). Where
    /// updates record field ownership this is an update by `manager`; where they do not (a
    /// twin), one write of the one field: nothing else of the object changes, so it is neither
    /// defaulted, validated nor re-indexed again.
    public mutating func scale(_ id: ResourceID, to replicas: Int, manager: String, now: Double) throws(ClusterError) -> Value {
        guard var existing = stored(id) else { throw notFound(id) }
        guard replicas >= 0 else { throw ClusterError(.invalid, "\(id): spec.replicas: Invalid value: \(replicas): must be greater than or equal to 0") }
        if recordsUpdateOwnership {
            var scaled = existing.object
            scaled.set(.int(replicas), at: ["spec", "replicas"])
            return try update(scaled, manager: manager, now: now)
        }
        guard existing.object[path: ["spec", "replicas"]]?.intValue != replicas else { return existing.object }
        lastNow = max(lastNow, now)
        existing.object.set(.int(replicas), at: ["spec", "replicas"])
        existing.object.set(.int((existing.object[path: ["metadata", "generation"]]?.intValue ?? 1) + 1), at: ["metadata", "generation"])
        resourceVersion += 1
        existing.object.set(.string(String(resourceVersion)), at: ["metadata", "resourceVersion"])
        commit(existing, id: id, event: .modified)
        return existing.object
    }

    /// Binds a pod to a node (the `/binding` subresource): sets `spec.nodeName` and the pod's
    /// scheduled status in one write, without field-ownership bookkeeping.
    public mutating func bind(_ id: ResourceID, node: String, status: Value, now: Double) throws(ClusterError) -> Value {
        guard var existing = stored(id) else { throw notFound(id) }
        if existing.object[path: ["spec", "nodeName"]] != nil {
            throw ClusterError(.conflict, "pod \(id.name) is already assigned to node \(existing.object[path: ["spec", "nodeName"]]?.stringValue ?? "")")
        }
        existing.object.set(.string(node), at: ["spec", "nodeName"])
        existing.object.set(status, at: ["status"])
        resourceVersion += 1
        existing.object.set(.string(String(resourceVersion)), at: ["metadata", "resourceVersion"])
        commit(existing, id: id, event: .modified)
        return existing.object
    }

    /// Replaces an object's status (the `/status` subresource): no generation change.
    public mutating func updateStatus(_ id: ResourceID, status: Value, now: Double) throws(ClusterError) -> Value {
        guard var existing = stored(id) else { throw notFound(id) }
        if existing.object["status"] == status { return existing.object }
        existing.object.set(status, at: ["status"])
        resourceVersion += 1
        existing.object.set(.string(String(resourceVersion)), at: ["metadata", "resourceVersion"])
        commit(existing, id: id, event: .modified)
        return existing.object
    }

    /// Deletes an object and, as `propagation` says, what it owns; a Namespace takes its contents
    /// with it. Returns what was deleted, dependents first.
    @discardableResult
    public mutating func delete(_ id: ResourceID, propagation: DeletionPropagation, dryRun: Bool = false, now: Double? = nil) throws(ClusterError) -> [ResourceID] {
        if dryRun {
            var scratch = scratchCopy()
            return try scratch.delete(id, propagation: propagation, now: now)
        }
        guard let target = stored(id) else { throw notFound(id) }
        // An object with finalizers is only marked: it goes once they are all removed.
        if !(target.object[path: ["metadata", "finalizers"]]?.sequenceValue ?? []).isEmpty {
            if target.object[path: ["metadata", "deletionTimestamp"]] == nil {
                var marked = target
                marked.object.set(.string(Timestamp.rfc3339(now ?? lastNow)), at: ["metadata", "deletionTimestamp"])
                marked.object.set(0, at: ["metadata", "deletionGracePeriodSeconds"])
                resourceVersion += 1
                marked.object.set(.string(String(resourceVersion)), at: ["metadata", "resourceVersion"])
                commit(marked, id: id, event: .modified)
            }
            return []
        }
        var doomed: [ResourceID] = []
        var orphans: [ResourceID] = []
        if id.groupKind == GroupKind(group: "", kind: "Namespace") {
            for (kind, byNamespace) in objects {
                for name in (byNamespace[id.name] ?? [:]).keys {
                    doomed.append(ResourceID(group: kind.group, version: "", kind: kind.kind, namespace: id.name, name: name))
                }
            }
        }
        if propagation == .orphan {
            orphans = Array(dependents[target.uid] ?? [])
        } else {
            collectDependents(of: target.uid, into: &doomed)
        }
        doomed.append(id)

        for dependent in orphans {
            guard var stored = stored(dependent) else { continue }
            let references = stored.object[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? []
            let kept = references.filter { $0["uid"]?.stringValue != target.uid }
            if kept.isEmpty {
                stored.object.remove(at: ["metadata", "ownerReferences"])
            } else {
                stored.object.set(.sequence(kept), at: ["metadata", "ownerReferences"])
            }
            resourceVersion += 1
            stored.object.set(.string(String(resourceVersion)), at: ["metadata", "resourceVersion"])
            commit(stored, id: dependent, event: .modified)
        }
        var deleted: [ResourceID] = []
        var seen = Set<ResourceID>()
        for victim in doomed where seen.insert(victim).inserted {
            guard let stored = stored(victim) else { continue }
            let victimKey = key(for: victim)
            objects[victim.groupKind]?[victimKey.namespace]?[victimKey.name] = nil
            if objects[victim.groupKind]?[victimKey.namespace]?.isEmpty == true { objects[victim.groupKind]?[victimKey.namespace] = nil }
            unindex(stored.object, id: victim)
            resourceVersion += 1
            var gone = stored.object
            gone.set(.string(String(resourceVersion)), at: ["metadata", "resourceVersion"])
            record(Change(kind: .deleted, object: gone, resourceVersion: resourceVersion))
            if keepsUnsaved { changed[victim] = .some(nil) }
            deleted.append(ResourceID(object: stored.object) ?? victim)
        }
        return deleted
    }

    /// The objects written or deleted since the last call (nil for deleted), for persistence.
    public mutating func takeChanges() -> [ResourceID: StoredObject?] {
        defer { changed.removeAll(keepingCapacity: true) }
        return changed
    }

    /// Changes after `resourceVersion`, in order; `expired` when they are no longer kept.
    public func events(since resourceVersion: Int) throws(ClusterError) -> ArraySlice<Change> {
        if resourceVersion >= self.resourceVersion { return [] }
        // The log must hold the change right after the version asked for; after a restart it
        // starts empty, and anything older than now is gone.
        guard let first = log.first, first.resourceVersion <= resourceVersion + 1 else {
            let oldest = log.first.map { $0.resourceVersion - 1 } ?? self.resourceVersion
            throw ClusterError(.expired, "too old resource version: \(resourceVersion) (\(oldest))")
        }
        let start = log.partitioningIndex { $0.resourceVersion > resourceVersion }
        return log[start...]
    }

    /// Moves the resourceVersion forward (to what was saved, past objects since deleted).
    public mutating func advanceResourceVersion(to version: Int) {
        resourceVersion = max(resourceVersion, version)
    }

    /// Restores a stored object as it was persisted (used when loading from disk; restore a
    /// CustomResourceDefinition before its custom resources).
    public mutating func restore(_ stored: StoredObject) {
        guard let id = ResourceID(object: stored.object) else { return }
        var stored = stored
        if interning { stored.object = interner.intern(stored.object) }
        if id.groupKind == GroupKind(group: "apiextensions.k8s.io", kind: "CustomResourceDefinition") {
            mapping.register(crd: stored.object)
        }
        let storedKey = key(for: id)
        objects[id.groupKind, default: [:]][storedKey.namespace, default: [:]][storedKey.name] = stored
        index(stored.object, id: id)
        let version = Int(stored.object[path: ["metadata", "resourceVersion"]]?.stringValue ?? "0") ?? 0
        resourceVersion = max(resourceVersion, version)
        // Cluster IPs already handed out stay taken.
        if id.groupKind == GroupKind(group: "", kind: "Service"),
            let ip = stored.object[path: ["spec", "clusterIP"]]?.stringValue, ip.hasPrefix("10.96.")
        {
            let octets = ip.split(separator: ".").compactMap { Int($0) }
            if octets.count == 4 { nextServiceIP = max(nextServiceIP, octets[2] * 250 + octets[3]) }
        }
    }

    /// Runs `body` on a copy of the store whose changes are thrown away (a dry run).
    public func dryRun<T>(_ body: (inout ObjectStore) throws(ClusterError) -> T) throws(ClusterError) -> T {
        var scratch = scratchCopy()
        return try body(&scratch)
    }

    // MARK: - Internals

    /// A copy for a dry run, with an interner of its own: the store's table (tens of thousands
    /// of subtrees) is not copied for a write that is thrown away.
    private func scratchCopy() -> ObjectStore {
        var scratch = self
        scratch.interner = ValueInterner(limit: 4_096)
        scratch.log = []
        return scratch
    }

    private func key(for id: ResourceID) -> Key {
        Key(namespace: mapping.isClusterScoped(id.groupKind) ? "" : id.namespace ?? "default", name: id.name)
    }

    /// The object's id, with the namespace the scope of its kind calls for.
    private func identity(of object: Value) throws(ClusterError) -> ResourceID {
        guard var id = ResourceID(object: object) else {
            throw ClusterError(.invalid, "an object needs apiVersion, kind and metadata.name")
        }
        if mapping.isClusterScoped(id.groupKind) {
            id.namespace = nil
        } else if id.namespace == nil {
            id.namespace = "default"
        }
        return id
    }

    private func checkResourceVersion(_ object: Value, against live: Value, id: ResourceID) throws(ClusterError) {
        guard let sent = object[path: ["metadata", "resourceVersion"]]?.stringValue, !sent.isEmpty else { return }
        if sent != live[path: ["metadata", "resourceVersion"]]?.stringValue {
            throw ClusterError(
                .conflict,
                "Operation cannot be fulfilled on \(mapping.qualifiedName(of: id.groupKind)) \"\(id.name)\": the object has been modified; please apply your changes to the latest version and try again"
            )
        }
    }

    /// Validates, defaults and stamps `object`, then stores it.
    private mutating func write(
        _ object: Value,
        id: ResourceID,
        existing: StoredObject?,
        previousManagers: ServerSideApply.Managers,
        managers: ServerSideApply.Managers,
        operations: [String: String],
        now: Double,
        keepingManagedFields: Bool = false
    ) throws(ClusterError) -> Value {
        lastNow = max(lastNow, now)
        var object = Defaults.apply(to: object)
        // Deletion is the server's to mark: a client can neither set nor clear it.
        for field in ["deletionTimestamp", "deletionGracePeriodSeconds"] {
            if let marked = existing?.object[path: ["metadata", field]] {
                object.set(marked, at: ["metadata", field])
            } else {
                object.remove(at: ["metadata", field])
            }
        }
        if let namespace = id.namespace {
            object.set(.string(namespace), at: ["metadata", "namespace"])
            let namespaceID = ResourceID(group: "", version: "v1", kind: "Namespace", namespace: nil, name: namespace)
            guard stored(namespaceID) != nil else {
                throw ClusterError(.notFound, "namespaces \"\(namespace)\" not found")
            }
        } else {
            object.remove(at: ["metadata", "namespace"])
        }
        try ObjectValidation.validate(object, id: id, previous: existing?.object, customSchema: customSchema(of: id))

        if let previous = existing?.object {
            for field in ["uid", "creationTimestamp"] {
                object.set(previous[path: ["metadata", field]] ?? .null, at: ["metadata", field])
            }
            if let clusterIP = previous[path: ["spec", "clusterIP"]], object[path: ["spec", "clusterIP"]] == nil {
                object.set(clusterIP, at: ["spec", "clusterIP"])
            }
            if object["spec"] != nil {
                let generation = previous[path: ["metadata", "generation"]]?.intValue ?? 1
                object.set(.int(previous["spec"] == object["spec"] ? generation : generation + 1), at: ["metadata", "generation"])
            }
        } else {
            object.set(.string(Self.newUID()), at: ["metadata", "uid"])
            object.set(.string(Timestamp.rfc3339(now)), at: ["metadata", "creationTimestamp"])
            if object["spec"] != nil { object.set(1, at: ["metadata", "generation"]) }
            if id.groupKind == GroupKind(group: "", kind: "Service"), object[path: ["spec", "type"]]?.stringValue != "ExternalName",
                object[path: ["spec", "clusterIP"]] == nil
            {
                object.set(.string("10.96.\(nextServiceIP / 250).\(nextServiceIP % 250 + 1)"), at: ["spec", "clusterIP"])
                nextServiceIP += 1
            }
        }
        if existing?.object == object, previousManagers == managers {
            return object
        }
        resourceVersion += 1
        object.set(.string(String(resourceVersion)), at: ["metadata", "resourceVersion"])
        if !keepingManagedFields {
            let trees = fieldsV1Trees(managers)
            object.set(Self.managedFields(managers, trees: trees, operations: operations, apiVersion: id.apiVersion, now: now), at: ["metadata", "managedFields"])
        }
        if id.groupKind == GroupKind(group: "apiextensions.k8s.io", kind: "CustomResourceDefinition") {
            mapping.register(crd: object)
        }
        if let previous = existing?.object { unindex(previous, id: id) }
        if interning { object = interner.intern(object) }
        let stored = StoredObject(object: object)
        let storedKey = key(for: id)
        objects[id.groupKind, default: [:]][storedKey.namespace, default: [:]][storedKey.name] = stored
        index(object, id: id)
        record(Change(kind: existing == nil ? .added : .modified, object: object, previous: existing?.object, resourceVersion: resourceVersion))
        if keepsUnsaved { changed[id] = stored }
        // The last finalizer of an object being deleted is gone: it goes now.
        if object[path: ["metadata", "deletionTimestamp"]] != nil, (object[path: ["metadata", "finalizers"]]?.sequenceValue ?? []).isEmpty {
            try delete(id, propagation: .background, now: now)
        }
        return object
    }

    /// A custom resource's schema: the `openAPIV3Schema` its stored definition gives the
    /// object's version (nil for a built-in kind, or a kind without one).
    private func customSchema(of id: ResourceID) -> Value? {
        guard !id.group.isEmpty, RESTMapping.builtIn.resource(for: id.groupKind) == nil, let resource = mapping.resource(for: id.groupKind),
            let definition = stored(ResourceID(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", namespace: nil, name: "\(resource.name).\(id.group)"))
        else { return nil }
        let versions = definition.object[path: ["spec", "versions"]]?.sequenceValue ?? []
        let version = versions.first { $0["name"]?.stringValue == id.version } ?? versions.first { $0["storage"]?.boolValue == true }
        return version?[path: ["schema", "openAPIV3Schema"]]
    }

    private mutating func commit(_ stored: StoredObject, id: ResourceID, event: ClusterWatchEvent.Kind) {
        var stored = stored
        if interning { stored.object = interner.intern(stored.object) }
        let storedKey = key(for: id)
        let previous = objects[id.groupKind, default: [:]][storedKey.namespace, default: [:]].updateValue(stored, forKey: storedKey.name)
        record(Change(kind: event, object: stored.object, previous: previous?.object, resourceVersion: resourceVersion))
        if keepsUnsaved { changed[id] = stored }
    }

    private mutating func record(_ event: Change) {
        log.append(event)
        if log.count > logLimit + logLimit / 4 {
            log.removeFirst(log.count - logLimit)
        }
    }

    /// Indexes an object's owners and labels. Every write that can change either goes through
    /// here (`write`, `restore`, delete); `commit` writes only status, binding and owners of
    /// orphans, never labels.
    private mutating func index(_ object: Value, id: ResourceID) {
        for reference in object[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? [] {
            if let uid = reference["uid"]?.stringValue { dependents[uid, default: []].insert(id) }
        }
        let storedKey = key(for: id)
        for entry in object[path: ["metadata", "labels"]]?.mappingValue?.entries ?? [] {
            guard let value = entry.value.stringValue else { continue }
            byLabel[id.groupKind, default: [:]][storedKey.namespace, default: [:]][entry.key + "=" + value, default: []].insert(storedKey.name)
        }
        // A namespace whose objects carry no labels at all is listed through the index too.
        if byLabel[id.groupKind]?[storedKey.namespace] == nil { byLabel[id.groupKind, default: [:]][storedKey.namespace] = [:] }
    }

    private mutating func unindex(_ object: Value, id: ResourceID) {
        for reference in object[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? [] {
            if let uid = reference["uid"]?.stringValue { dependents[uid]?.remove(id) }
        }
        let storedKey = key(for: id)
        for entry in object[path: ["metadata", "labels"]]?.mappingValue?.entries ?? [] {
            guard let value = entry.value.stringValue else { continue }
            let label = entry.key + "=" + value
            byLabel[id.groupKind]?[storedKey.namespace]?[label]?.remove(storedKey.name)
            if byLabel[id.groupKind]?[storedKey.namespace]?[label]?.isEmpty == true { byLabel[id.groupKind]?[storedKey.namespace]?[label] = nil }
        }
    }

    /// Dependents before their owners, depth first.
    private func collectDependents(of uid: String, into out: inout [ResourceID]) {
        for dependent in (dependents[uid] ?? []).sorted() {
            if let stored = stored(dependent) { collectDependents(of: stored.uid, into: &out) }
            out.append(dependent)
        }
    }

    static func annotations(of object: Value) -> [String: String] {
        var annotations: [String: String] = [:]
        for entry in object[path: ["metadata", "annotations"]]?.mappingValue?.entries ?? [] {
            if let value = entry.value.stringValue { annotations[entry.key] = value }
        }
        return annotations
    }

    static func labels(of object: Value) -> [String: String] {
        var labels: [String: String] = [:]
        for entry in object[path: ["metadata", "labels"]]?.mappingValue?.entries ?? [] {
            if let value = entry.value.stringValue { labels[entry.key] = value }
        }
        return labels
    }

    /// Each manager's `fieldsV1` tree, shared with the objects written just before that own the
    /// same fields (a ReplicaSet's pods are created together and own the same set).
    private mutating func fieldsV1Trees(_ managers: ServerSideApply.Managers) -> [String: Value] {
        var trees: [String: Value] = [:]
        for (name, set) in managers {
            if let tree = recentTrees[set] {
                trees[name] = tree
            } else {
                let tree = set.fieldsV1
                if recentTrees.count >= Self.recentTreeLimit { recentTrees.removeAll(keepingCapacity: true) }
                recentTrees[set] = tree
                trees[name] = tree
            }
        }
        return trees
    }

    static func managedFields(
        _ managers: ServerSideApply.Managers, trees: [String: Value] = [:], operations: [String: String], apiVersion: String, now: Double
    ) -> Value {
        .sequence(managers.keys.sorted().map { name in
            [
                "manager": .string(name),
                "operation": .string(operations[name] ?? "Update"),
                "apiVersion": .string(apiVersion),
                "time": .string(Timestamp.rfc3339(now)),
                "fieldsType": "FieldsV1",
                "fieldsV1": trees[name] ?? managers[name]!.fieldsV1,
            ]
        })
    }

    func notFound(_ id: ResourceID) -> ClusterError {
        ClusterError(.notFound, "\(mapping.qualifiedName(of: id.groupKind)) \"\(id.name)\" not found")
    }

    /// A random version-4 UUID.
    static func newUID() -> String {
        // Two draws of the system generator (one each for 8 bytes), not one per byte.
        var generator = SystemRandomNumberGenerator()
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        high = high & ~0xF000 | 0x4000  // version 4
        low = low & ~(0xC000 << 48) | (0x8000 << 48)  // variant 10
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, word) in [high, low].enumerated() {
            for nibble in 0..<16 {
                let position = index * 16 + nibble
                if position == 8 || position == 12 || position == 16 || position == 20 { text.append(UInt8(ascii: "-")) }
                text.append(digits[Int(word >> UInt64(60 - nibble * 4) & 0xF)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, for a predicate false then true.
    func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if predicate(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
