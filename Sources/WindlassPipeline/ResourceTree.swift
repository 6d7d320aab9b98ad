public import WindlassCluster
public import WindlassManifest
public import WindlassPlan

/// An application's objects as a tree, as Argo CD's resource tree shows them: the objects the
/// plan names (what git holds, and what a sync would prune), each with its sync state and
/// health, and below each what it owns in the cluster through controller ownerReferences
/// (Deployment → ReplicaSets → Pods, StatefulSet → Pods, VirtualMachine → instance → launcher
/// pod, Service → Endpoints).
public struct ResourceNode: Sendable, Hashable, Encodable {
    public var group: String
    public var version: String
    public var kind: String
    public var namespace: String?
    public var name: String
    /// `Synced` or `OutOfSync` for the objects the plan names; nil for what they own.
    public var sync: String?
    /// What a sync would do: `create`, `update`, `replace`, `delete`, `no-op` (nil: owned).
    public var action: String?
    /// Argo CD's health, nil for kinds without one (a ConfigMap).
    public var health: String?
    public var healthMessage: String?
    /// Whether the object exists in the cluster.
    public var live: Bool
    public var children: [ResourceNode]

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(group, forKey: .group)
        try container.encode(version, forKey: .version)
        try container.encode(kind, forKey: .kind)
        try container.encode(namespace, forKey: .namespace)
        try container.encode(name, forKey: .name)
        try container.encode(sync, forKey: .sync)
        try container.encode(action, forKey: .action)
        try container.encode(health, forKey: .health)
        try container.encode(healthMessage, forKey: .healthMessage)
        try container.encode(live, forKey: .live)
        try container.encode(children, forKey: .children)
    }

    enum CodingKeys: String, CodingKey { case group, version, kind, namespace, name, sync, action, health, healthMessage, live, children }
}

/// One object in full, for a look at it: the live manifest and the desired one (Secrets
/// masked, server-managed fields left out), the plan's normalized diff between them, and the
/// cluster's events about it.
public struct ResourceDetail: Sendable, Encodable {
    public var address: String
    public var sync: String?
    public var action: String?
    public var reason: String?
    public var live: String?
    public var desired: String?
    /// Unified diff lines (`-`, `+`, ` `, `@@`) of the compared fields; empty when in sync.
    public var diff: [String]
    public var events: [ClusterEvent]

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(address, forKey: .address)
        try container.encode(sync, forKey: .sync)
        try container.encode(action, forKey: .action)
        try container.encode(reason, forKey: .reason)
        try container.encode(live, forKey: .live)
        try container.encode(desired, forKey: .desired)
        try container.encode(diff, forKey: .diff)
        try container.encode(events, forKey: .events)
    }

    enum CodingKeys: String, CodingKey { case address, sync, action, reason, live, desired, diff, events }
}

extension ApplicationPipeline {
    /// The kinds whose objects are looked for below an application's objects.
    static let ownedKinds = [
        GroupKind(group: "apps", kind: "ReplicaSet"), GroupKind(group: "", kind: "Pod"), GroupKind(group: "", kind: "Endpoints"),
        GroupKind(group: "kubevirt.io", kind: "VirtualMachineInstance"),
    ]

    /// The tree of what `report` plans (hooks left out), with what each object owns now.
    public func resourceTree(_ report: PlanReport) async throws(PipelineError) -> [ResourceNode] {
        let changes = report.plan.changes.filter { $0.hook == nil }
        let namespaces = Set(changes.compactMap(\.id.namespace))
        // Owned objects by their controller's uid, listed once per kind and namespace.
        var owned: [String: [Value]] = [:]
        do {
            let known = Set(try await cluster.backend.kinds())
            for kind in Self.ownedKinds where known.contains(kind) {
                for namespace in namespaces.sorted() {
                    for object in try await cluster.backend.list(kind, namespace: namespace, options: ListOptions()).items {
                        let references = object[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? []
                        guard let controller = references.first(where: { $0["controller"]?.boolValue == true }) ?? references.first,
                            let uid = controller["uid"]?.stringValue
                        else { continue }
                        owned[uid, default: []].append(object)
                    }
                }
            }
        } catch {
            throw PipelineError(.cluster, "reading \(cluster.displayName): \(error)")
        }
        var nodes: [ResourceNode] = []
        for change in changes {
            let live = report.live?.objects[change.id]
            var node = Self.node(change.id, live: live, owned: owned, depth: 0)
            node.sync = change.action == .noop ? "Synced" : "OutOfSync"
            node.action = change.action.rawValue
            if live == nil && change.action == .create { node.health = HealthStatus.missing.rawValue }
            nodes.append(node)
        }
        return nodes
    }

    private static func node(_ id: ResourceID, live: Value?, owned: [String: [Value]], depth: Int) -> ResourceNode {
        let health = live.flatMap(HealthAssessor.assess)
        var children: [ResourceNode] = []
        if depth < 4, let uid = live?[path: ["metadata", "uid"]]?.stringValue {
            for child in (owned[uid] ?? []).sorted(by: { ($0[path: ["metadata", "name"]]?.stringValue ?? "") < ($1[path: ["metadata", "name"]]?.stringValue ?? "") }) {
                guard let childID = ResourceID(object: child) else { continue }
                children.append(node(childID, live: child, owned: owned, depth: depth + 1))
            }
        }
        return ResourceNode(
            group: id.group, version: id.version, kind: id.kind, namespace: id.namespace, name: id.name, sync: nil, action: nil,
            health: health?.status.rawValue, healthMessage: health.flatMap { $0.message.isEmpty ? nil : $0.message }, live: live != nil,
            children: children)
    }

    /// One object of the application (one the plan names, or one they own) in full.
    public func resourceDetail(_ report: PlanReport, id: ResourceID) async -> ResourceDetail {
        let mask = SecretMaskKey.mask(stateDirectory: stateDirectory)
        let change = report.plan.changes.first { $0.id == id && $0.hook == nil }
        var live = report.live?.objects[id]
        if live == nil { live = try? await cluster.backend.get(id) }
        let writer = YAMLWriter()
        func shown(_ object: Value?) -> String? {
            guard var object else { return nil }
            object.remove(at: ["metadata", "managedFields"])
            return writer.write(mask.masked(object))
        }
        var diff: [String] = []
        if let change, change.action != .noop {
            let before = change.before.map { writer.write($0) } ?? ""
            let after = change.after.map { writer.write($0) } ?? ""
            diff = LineDiff.unified(Self.lines(before), Self.lines(after))
        }
        let events = (try? await cluster.backend.events(for: id)) ?? []
        return ResourceDetail(
            address: id.description, sync: change.map { $0.action == .noop ? "Synced" : "OutOfSync" }, action: change?.action.rawValue,
            reason: change?.reason, live: shown(live), desired: shown(change?.object ?? report.manifests.resources.first { $0.id == id }?.object), diff: diff,
            events: events)
    }

    private static func lines(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0).map(String.init)
    }
}
