import Foundation
import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassTesting

@Suite("Self-healing: failed and drained nodes")
struct SelfHealingTests {
    @Test("a failed node's pods go unready at once and are recreated elsewhere after the grace period; the VM restarts elsewhere")
    func failedNode() async throws {
        let bed = try await Bed(nodes: 3)
        _ = try await bed.cluster.apply(deployment(replicas: 3), options: windlass)
        _ = try await bed.cluster.apply(object("""
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: vm1, namespace: shop}
            spec: {runStrategy: Always, template: {spec: {domain: {cpu: {cores: 1}, resources: {requests: {memory: 1Gi}}}}}}
            """), options: windlass)
        try await bed.advance(until: {
            let available = try await bed.deployment()[path: ["status", "availableReplicas"]]
            let vmReady = try await bed.get("kubevirt.io", "VirtualMachine", "vm1")[path: ["status", "ready"]]
            return available == 3 && vmReady == true
        })
        let vmNode = try #require(try await bed.get("kubevirt.io", "VirtualMachineInstance", "vm1")[path: ["status", "nodeName"]]?.stringValue)
        let webNode = try #require(try await bed.pods().first { $0[path: ["metadata", "labels", "app"]] == "web" }?[path: ["spec", "nodeName"]]?.stringValue)
        let failed = Set([vmNode, webNode])

        for node in failed { try await bed.cluster.failNode(node) }
        let onFailed = try await bed.pods().filter { failed.contains($0[path: ["spec", "nodeName"]]?.stringValue ?? "") }
        #expect(!onFailed.isEmpty)
        #expect(onFailed.allSatisfy { !ReplicaSetReady.isReady($0) })
        #expect(HealthAssessor.assess(try await bed.deployment())?.status == .progressing)

        // Nothing moves before the grace period…
        bed.clock.advance(by: 30)
        try await bed.cluster.reconcile()
        #expect(try await bed.pods().contains { failed.contains($0[path: ["spec", "nodeName"]]?.stringValue ?? "") })
        // …then the pods are replaced on the healthy nodes.
        try await bed.advance(until: {
            let pods = try await bed.pods()
            let healthy = HealthAssessor.assess(try await bed.deployment())?.status == .healthy
            let vmReady = try await bed.get("kubevirt.io", "VirtualMachine", "vm1")[path: ["status", "ready"]] == true
            return healthy && vmReady && !pods.contains { failed.contains($0[path: ["spec", "nodeName"]]?.stringValue ?? "") }
        }, limit: 60)
        let newNode = try #require(try await bed.get("kubevirt.io", "VirtualMachineInstance", "vm1")[path: ["status", "nodeName"]]?.stringValue)
        #expect(!failed.contains(newNode))
        let events = try await bed.cluster.events(for: nil)
        #expect(events.contains { $0.reason == "NodeNotReady" })

        for node in failed { try await bed.cluster.recoverNode(node) }
        let nodes = try await bed.list("", "Node", namespace: nil)
        #expect(nodes.allSatisfy { $0[path: ["status", "conditions"]]?.sequenceValue?.first { $0["type"] == "Ready" }?["status"] == "True" })
    }

    @Test("drain cordons the node and moves its pods; DaemonSet pods stay")
    func drain() async throws {
        let bed = try await Bed(nodes: 2)
        _ = try await bed.cluster.apply(deployment(replicas: 4), options: windlass)
        _ = try await bed.cluster.apply(object("""
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: agent, namespace: shop}
            spec:
              selector: {matchLabels: {app: agent}}
              template: {metadata: {labels: {app: agent}}, spec: {containers: [{name: a, image: "agent:1"}]}}
            """), options: windlass)
        try await bed.advance(until: { try await bed.deployment()[path: ["status", "availableReplicas"]] == 4 })
        let (evicted, blocked) = try await bed.cluster.drain("node-1")
        #expect(evicted.count >= 1)
        #expect(blocked.isEmpty)
        try await bed.advance(until: { try await bed.deployment()[path: ["status", "availableReplicas"]] == 4 })
        let pods = try await bed.pods()
        let onDrained = pods.filter { $0[path: ["spec", "nodeName"]] == "node-1" }
        #expect(onDrained.count == 1)
        #expect(onDrained.first?[path: ["metadata", "labels", "app"]] == "agent")
        let node = try await bed.get("", "Node", "node-1", namespace: nil)
        #expect(node[path: ["spec", "unschedulable"]] == true)
        try await bed.cluster.uncordon("node-1")
        #expect(try await bed.get("", "Node", "node-1", namespace: nil)[path: ["spec", "unschedulable"]] == nil)
    }
}

@Suite("Disruption budgets")
struct DisruptionBudgetTests {
    @Test("drain evicts no more than a PodDisruptionBudget allows, and finishes once replacements are ready")
    func drainRespectsBudget() async throws {
        let bed = try await Bed(nodes: 2)
        // Everything starts on node-1: node-2 is cordoned until the pods are up.
        _ = try await bed.cluster.drain("node-2")
        _ = try await bed.cluster.apply(deployment(replicas: 4), options: windlass)
        _ = try await bed.cluster.apply(object("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: shop}\nspec: {minAvailable: 3, selector: {matchLabels: {app: web}}}"), options: windlass)
        try await bed.advance(until: { try await bed.deployment()[path: ["status", "availableReplicas"]] == 4 })
        #expect(try await bed.get("policy", "PodDisruptionBudget", "web")[path: ["status", "disruptionsAllowed"]] == 1)
        #expect(try await bed.pods().allSatisfy { $0[path: ["spec", "nodeName"]] == "node-1" })
        try await bed.cluster.uncordon("node-2")

        let first = try await bed.cluster.drain("node-1")
        #expect(first.evicted.count == 1)
        #expect(first.blocked.count == 3)
        var minimumAvailable = 4
        try await bed.advance(until: {
            let (_, blocked) = try await bed.cluster.drain("node-1")
            return blocked.isEmpty
        }, check: {
            let ready = try await bed.pods().filter(ReplicaSetReady.isReady).count
            minimumAvailable = min(minimumAvailable, ready)
        })
        #expect(minimumAvailable >= 3)
        #expect(try await bed.pods().allSatisfy { $0[path: ["spec", "nodeName"]] != "node-1" })
    }
}

@Suite("Live migration")
struct LiveMigrationTests {
    @Test("draining a node live-migrates a VM with evictionStrategy LiveMigrate: it stays Ready and ends on another node")
    func migrate() async throws {
        let bed = try await Bed(nodes: 2)
        _ = try await bed.cluster.apply(object("""
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: vm1, namespace: shop}
            spec: {runStrategy: Always, template: {spec: {evictionStrategy: LiveMigrate, domain: {cpu: {cores: 1}, resources: {requests: {memory: 1Gi}}}}}}
            """), options: windlass)
        try await bed.advance(until: { try await bed.get("kubevirt.io", "VirtualMachine", "vm1")[path: ["status", "ready"]] == true })
        let source = try #require(try await bed.get("kubevirt.io", "VirtualMachineInstance", "vm1")[path: ["status", "nodeName"]]?.stringValue)
        let (evicted, _) = try await bed.cluster.drain(source)
        #expect(evicted.count == 1)
        var alwaysReady = true
        try await bed.advance(until: {
            try await bed.get("kubevirt.io", "VirtualMachineInstance", "vm1")[path: ["status", "migrationState", "completed"]] == true
        }, check: {
            if try await bed.get("kubevirt.io", "VirtualMachine", "vm1")[path: ["status", "ready"]] != true { alwaysReady = false }
        })
        #expect(alwaysReady)
        let instance = try await bed.get("kubevirt.io", "VirtualMachineInstance", "vm1")
        let target = try #require(instance[path: ["status", "nodeName"]]?.stringValue)
        #expect(target != source)
        #expect(instance[path: ["status", "migrationState", "sourceNode"]]?.stringValue == source)
        let launchers = try await bed.pods()
        #expect(launchers.count == 1)
        #expect(launchers.first?[path: ["spec", "nodeName"]]?.stringValue == target)
    }
}
