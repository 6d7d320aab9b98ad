import Testing
import WindlassCluster
import WindlassManifest
import WindlassRollout
import WindlassTesting

@Suite("Waiting and draining over any backend")
struct ClusterWaitTests {
    func pod(_ name: String, node: String, owner: String? = nil) -> Value {
        var pod: Value = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": "shop"], "spec": ["nodeName": .string(node)]]
        if let owner { pod.set([["kind": .string(owner), "name": "x", "apiVersion": "apps/v1", "controller": true]], at: ["metadata", "ownerReferences"]) }
        return pod
    }

    @Test("wait returns what is unmet when the time is up, with the reason, and nothing once all is healthy")
    func wait() async throws {
        let cluster = MemoryCluster()
        let clock = VirtualClock()
        let waiting = ClusterWait(backend: cluster, driver: SyncDriver(now: { clock.now }, pass: { clock.pass($0) }))
        await cluster.stall("db")
        for name in ["web", "db"] {
            _ = try await cluster.apply(
                ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name), "namespace": "shop"], "spec": ["replicas": 2]],
                options: ApplyOptions(fieldManager: "test"))
        }
        let web = ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web")
        let gone = ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "gone")
        #expect(try await waiting.wait(for: [web], until: .healthy, timeout: 5).isEmpty)
        let pending = try await waiting.wait(for: nil, until: .healthy, timeout: 5)
        #expect(pending.count == 1 && pending[0].hasPrefix("deployment/db (Progressing"), "\(pending)")
        #expect(try await waiting.wait(for: [gone], until: .condition("Available"), timeout: 1) == ["deployment/gone (not found)"])
        #expect(clock.now >= 1_800_000_006)
    }

    @Test("drain cordons the node and evicts its pods but DaemonSet pods, and only those on the node")
    func drain() async throws {
        let cluster = MemoryCluster()
        let clock = VirtualClock()
        let waiting = ClusterWait(backend: cluster, driver: SyncDriver(now: { clock.now }, pass: { clock.pass($0) }))
        let writer = WriteOptions(fieldManager: "test")
        _ = try await cluster.create(["apiVersion": "v1", "kind": "Node", "metadata": ["name": "node-1"]], options: writer)
        _ = try await cluster.create(pod("a", node: "node-1", owner: "ReplicaSet"), options: writer)
        _ = try await cluster.create(pod("agent", node: "node-1", owner: "DaemonSet"), options: writer)
        _ = try await cluster.create(pod("b", node: "node-2"), options: writer)
        var evicted: [String] = []
        try await waiting.drain("node-1", fieldManager: "test", timeout: 5, onEvicted: { evicted.append($0.name) })
        #expect(evicted == ["a"])
        let node = try await cluster.get(ResourceID(group: "", version: "v1", kind: "Node", namespace: nil, name: "node-1"))
        #expect(node[path: ["spec", "unschedulable"]]?.boolValue == true)
        #expect(await cluster.writes.suffix(2) == ["apply Node/node-1", "delete Pod/a"])
    }
}
