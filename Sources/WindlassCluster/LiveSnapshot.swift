public import WindlassManifest

/// What a plan needs to know about the live cluster, read in one pass: the objects the manifests
/// name, the objects an application tracks (to find what to prune), and what could not be read.
/// Reading is the only I/O of planning; everything after works on this value.
public struct LiveSnapshot: Sendable {
    /// Every object read, by identity.
    public var objects: [ResourceID: Value]
    /// Kinds that could not be listed, with the reason (their objects are unknown, not absent).
    public var unreadableKinds: [GroupKind: String]
    /// The namespaces whose every object was read (for reports of unmanaged objects).
    public var fullyListedNamespaces: Set<String>
    /// Whether every Namespace was read, so one missing from ``objects`` does not exist.
    public var listsAllNamespaces = false
    /// The kinds the cluster serves (nil: not known), so a plan can say which custom kinds
    /// lack their CustomResourceDefinition before anything is applied.
    public var servedKinds: Set<GroupKind>?

    /// The namespace kind.
    public static let namespaceKind = GroupKind(group: "", kind: "Namespace")

    /// Whether the namespace `name` exists; nil when the Namespaces were not all read.
    public func namespaceExists(_ name: String) -> Bool? {
        guard listsAllNamespaces else { return nil }
        return objects[ResourceID(group: "", version: "v1", kind: "Namespace", namespace: nil, name: name)] != nil
    }

    public init(objects: [ResourceID: Value] = [:], unreadableKinds: [GroupKind: String] = [:], fullyListedNamespaces: Set<String> = []) {
        self.objects = objects
        self.unreadableKinds = unreadableKinds
        self.fullyListedNamespaces = fullyListedNamespaces
    }

    /// A snapshot of plain objects, as if they were all the cluster holds.
    public init(objects: [Value]) {
        var byID: [ResourceID: Value] = [:]
        for object in objects {
            if let id = ResourceID(object: object) { byID[id] = object }
        }
        self.init(objects: byID)
    }

    /// The objects of one kind.
    public func objects(of kind: GroupKind) -> [Value] {
        objects.compactMap { $0.key.groupKind == kind ? $0.value : nil }
    }

    /// The live Namespace objects (their labels are what namespace selectors see).
    public var namespaces: [Value] { objects(of: GroupKind(group: "", kind: "Namespace")) }

    /// Why the object `id` is unknown, when its kind could not be read.
    public func unreadableReason(_ id: ResourceID) -> String? {
        unreadableKinds[id.groupKind]
    }
}

extension ClusterBackend {
    /// Reads a snapshot: every object of the `desiredKinds` (all namespaces), every object of any
    /// other kind carrying `trackingSelector`, and, when `namespaces` is given, every object of
    /// the desired kinds in those namespaces is known to be listed in full. A kind that fails to
    /// list is recorded as unreadable; only a failure to discover kinds at all is thrown.
    public func snapshot(
        desiredKinds: Set<GroupKind>,
        trackingSelector: LabelSelector,
        namespaces: Set<String> = []
    ) async throws(ClusterError) -> LiveSnapshot {
        var snapshot = LiveSnapshot()
        let served = Set(try await kinds())
        snapshot.servedKinds = served
        let listed = served.union(desiredKinds).filter { served.contains($0) }.sorted(by: { ($0.group, $0.kind) < ($1.group, $1.kind) })
        // Kinds are listed at once (a remote API server answers each in a round trip), at most
        // 16 in flight.
        let results = await withTaskGroup(of: TaskAnswer<GroupKind, Result<ObjectList, ClusterError>>.self) { group in
            var results: [GroupKind: Result<ObjectList, ClusterError>] = [:]
            var next = 0
            func start() {
                let kind = listed[next]
                next += 1
                let selector = desiredKinds.contains(kind) ? LabelSelector.everything : trackingSelector
                group.addTask { TaskAnswer(kind, await self.listResult(kind, selector: selector)) }
            }
            while next < min(listed.count, 16) { start() }
            while let done = await group.next() {
                results[done.key] = done.answer
                if next < listed.count { start() }
            }
            return results
        }
        for kind in listed {
            switch results[kind] {
            case .success(let list):
                for object in list.items {
                    if let id = ResourceID(object: object) { snapshot.objects[id] = object }
                }
                if kind == LiveSnapshot.namespaceKind, desiredKinds.contains(kind) { snapshot.listsAllNamespaces = true }
            case .failure(let error):
                snapshot.unreadableKinds[kind] = error.message
            case nil:
                break
            }
        }
        snapshot.fullyListedNamespaces = namespaces
        return snapshot
    }

    /// A list of every object of `kind` matching `selector`, or why not.
    func listResult(_ kind: GroupKind, selector: LabelSelector) async -> Result<ObjectList, ClusterError> {
        do {
            return .success(try await list(kind, namespace: nil, selector: selector))
        } catch {
            return .failure(error)
        }
    }
}

/// A child task's answer in a task group, boxed. Swift 6.3's release builds crash copying some
/// tuple results (`(GroupKind, Result<ObjectList, ClusterError>)`) out of a finished child
/// task; a reference is copied by a retain.
public final class TaskAnswer<Key: Sendable, Answer: Sendable>: Sendable {
    public let key: Key
    public let answer: Answer

    public init(_ key: Key, _ answer: Answer) {
        self.key = key
        self.answer = answer
    }
}
