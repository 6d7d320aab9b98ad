public import WindlassCluster
public import WindlassManifest

/// Waiting on a cluster as `kubectl wait` and `kubectl drain` do, over any backend: the
/// cluster is given time through the ``SyncDriver`` (the embedded core runs its controllers;
/// a Kubernetes cluster runs its own).
public struct ClusterWait: Sendable {
    public var backend: any ClusterBackend
    public var driver: SyncDriver
    /// How long to let pass between two looks.
    public var pollInterval: Double

    public init(backend: any ClusterBackend, driver: SyncDriver, pollInterval: Double = 0.25) {
        self.backend = backend
        self.driver = driver
        self.pollInterval = pollInterval
    }

    /// What "ready" means for `wait`.
    public enum Condition: Sendable, Hashable {
        /// Healthy, as Argo CD assesses the kind.
        case healthy
        /// A status condition of this type is True (`--for condition=Available`).
        case condition(String)
    }

    /// The kinds `wait` with no object named looks at: those whose health is assessed.
    public static let workloadKinds = [
        GroupKind(group: "apps", kind: "Deployment"), GroupKind(group: "apps", kind: "StatefulSet"), GroupKind(group: "apps", kind: "DaemonSet"),
        GroupKind(group: "kubevirt.io", kind: "VirtualMachine"), GroupKind(group: "", kind: "PersistentVolumeClaim"),
        GroupKind(group: "batch", kind: "Job"),
    ]

    /// Waits until every object of `objects` (nil: every workload in all namespaces) meets
    /// `condition`. Returns what is still unmet when `timeout` seconds have passed (empty: all
    /// met), each as `kind/name (reason)`.
    public func wait(for objects: [ResourceID]?, until condition: Condition, timeout: Double) async throws -> [String] {
        let deadline = driver.now() + timeout
        while true {
            try await driver.pass(0)
            let pending = try await unmet(objects, condition)
            if pending.isEmpty || driver.now() >= deadline { return pending }
            try await driver.pass(min(pollInterval, max(deadline - driver.now(), 0)))
        }
    }

    /// What does not meet `condition` now.
    public func unmet(_ objects: [ResourceID]?, _ condition: Condition) async throws(ClusterError) -> [String] {
        var targets: [(String, Value?)] = []
        if let objects {
            for id in objects {
                let name = "\(id.kind.lowercased())/\(id.name)"
                do {
                    targets.append((name, try await backend.get(id)))
                } catch {
                    guard error.code == .notFound else { throw error }
                    targets.append((name, nil))
                }
            }
        } else {
            let served = Set(try await backend.kinds())
            for kind in Self.workloadKinds where served.contains(kind) {
                for object in try await backend.list(kind, namespace: nil, selector: .everything).items {
                    targets.append(("\(kind.kind.lowercased())/\(object[path: ["metadata", "name"]]?.stringValue ?? "")", object))
                }
            }
        }
        var pending: [String] = []
        for (name, object) in targets {
            guard let object else {
                pending.append("\(name) (not found)")
                continue
            }
            switch condition {
            case .condition(let type):
                let met = object[path: ["status", "conditions"]]?.sequenceValue?.contains { $0["type"]?.stringValue == type && $0["status"] == "True" } ?? false
                if !met { pending.append("\(name) (\(type) not True)") }
            case .healthy:
                if let health = HealthAssessor.assess(object), health.status != .healthy { pending.append("\(name) (\(health))") }
            }
        }
        return pending
    }

    /// Evicts a pod; false when a disruption budget protects it now.
    private func evict(_ pod: ResourceID) async throws(ClusterError) -> Bool {
        do {
            try await backend.evict(pod)
            return true
        } catch {
            guard error.code == .tooManyRequests else { throw error }
            return false
        }
    }

    /// A drain's failure: pods a disruption budget still protects when the time is up.
    public struct DrainTimedOut: Error, Sendable, CustomStringConvertible {
        public var node: String
        public var blocked: [ResourceID]
        public var description: String {
            "drain of node/\(node) timed out: \(blocked.count) pod(s) still protected by a disruption budget"
        }
    }

    /// Drains a node as `kubectl drain` does: cordons it, then evicts every pod on it but
    /// DaemonSet pods; pods a disruption budget protects are tried again each second until
    /// `timeout`. `onEvicted` hears each eviction, `onBlocked` each pass's protected pods.
    public func drain(
        _ node: String, fieldManager: String, timeout: Double, onEvicted: (ResourceID) -> Void = { _ in },
        onBlocked: ([ResourceID]) -> Void = { _ in }
    ) async throws {
        let nodeID = ResourceID(group: "", version: "v1", kind: "Node", namespace: nil, name: node)
        if try await backend.get(nodeID)[path: ["spec", "unschedulable"]]?.boolValue != true {
            _ = try await backend.patch(nodeID, .merge(["spec": ["unschedulable": true]]), options: PatchOptions(fieldManager: fieldManager))
        }
        let deadline = driver.now() + timeout
        let onNode = ListOptions(fieldSelector: FieldSelector([FieldSelector.Requirement(field: "spec.nodeName", equals: true, value: node)]))
        while true {
            var blocked: [ResourceID] = []
            for pod in try await backend.list(GroupKind(group: "", kind: "Pod"), namespace: nil, options: onNode).items {
                let owners = pod[path: ["metadata", "ownerReferences"]]?.sequenceValue ?? []
                guard !owners.contains(where: { $0["kind"] == "DaemonSet" }), let id = ResourceID(object: pod) else { continue }
                if try await evict(id) { onEvicted(id) } else { blocked.append(id) }
            }
            try await driver.pass(0)
            if blocked.isEmpty { return }
            onBlocked(blocked)
            guard driver.now() < deadline else { throw DrainTimedOut(node: node, blocked: blocked) }
            try await driver.pass(1)
        }
    }
}
