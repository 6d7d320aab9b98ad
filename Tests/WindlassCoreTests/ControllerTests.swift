import Foundation
import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassTesting

/// A cluster of three nodes on a manual clock, in its own state directory.
struct Bed {
    let state: TemporaryDirectory
    let clock: ManualClock
    let cluster: EmbeddedCluster

    init(nodes: Int = 3, cpu: String = "8", memory: String = "32Gi") async throws {
        state = try TemporaryDirectory()
        clock = ManualClock()
        cluster = try EmbeddedCluster(stateDirectory: state.path, clock: clock)
        try await cluster.createNodes(count: nodes, cpu: cpu, memory: memory)
        _ = try await cluster.apply(namespace("shop"), options: windlass)
    }

    func replicaSets() async throws -> [Value] {
        try await cluster.list(GroupKind(group: "apps", kind: "ReplicaSet"), namespace: "shop", selector: .everything).items
    }

    func pods() async throws -> [Value] {
        try await cluster.list(GroupKind(group: "", kind: "Pod"), namespace: "shop", selector: .everything).items
    }

    func deployment(_ name: String = "web") async throws -> Value {
        try await cluster.get(id("Deployment", name))
    }

    /// Moves time on in one-second steps, reconciling at each, until `done` holds.
    func advance(until done: () async throws -> Bool, check: () async throws -> Void = {}, limit: Int = 120) async throws {
        for _ in 0..<limit {
            try await cluster.reconcile()
            try await check()
            if try await done() { return }
            clock.advance(by: 1)
        }
        Issue.record("did not converge in \(limit) seconds")
    }
}

@Suite("Controllers: Deployments, ReplicaSets, the scheduler and the kubelet")
struct ControllerTests {
    @Test("a Deployment converges: ReplicaSet named by template hash, pods scheduled, Ready after the start delay, Healthy")
    func converge() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(deployment(replicas: 3), options: windlass)
        try await bed.cluster.reconcile()
        let replicaSets = try await bed.replicaSets()
        #expect(replicaSets.count == 1)
        let rs = try #require(replicaSets.first)
        let hash = try #require(rs[path: ["metadata", "labels", "pod-template-hash"]]?.stringValue)
        #expect(rs[path: ["metadata", "name"]]?.stringValue == "web-\(hash)")
        #expect(rs[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]] == "1")
        let pods = try await bed.pods()
        #expect(pods.count == 3)
        #expect(pods.allSatisfy { $0[path: ["spec", "nodeName"]] != nil && $0[path: ["status", "phase"]] == "Pending" })
        #expect(Set(pods.compactMap { $0[path: ["spec", "nodeName"]]?.stringValue }).count == 3, "spread over the nodes")
        #expect(HealthAssessor.assess(try await bed.deployment())?.status == .progressing)

        bed.clock.advance(by: 2)
        try await bed.cluster.reconcile()
        let deployment = try await bed.deployment()
        #expect(deployment[path: ["status", "availableReplicas"]] == 3)
        #expect(HealthAssessor.assess(deployment) == Health(.healthy, "successfully rolled out"))
        #expect(deployment[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]] == "1")
        let events = try await bed.cluster.events(for: id("Deployment", "web"))
        #expect(events.contains { $0.reason == "ScalingReplicaSet" })
    }

    @Test("a rolling update keeps within maxSurge and maxUnavailable at every step (replicas 4 → surge 1, unavailable 1)")
    func rollingUpdate() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(deployment(replicas: 4), options: windlass)
        try await bed.advance(until: { try await bed.deployment()[path: ["status", "availableReplicas"]] == 4 })
        _ = try await bed.cluster.apply(deployment(replicas: 4, image: "nginx:1.26"), options: windlass)
        var sawSurge = false
        try await bed.advance(until: {
            let status = try await bed.deployment()["status"]
            return status?["updatedReplicas"] == 4 && status?["availableReplicas"] == 4 && status?["replicas"] == 4
        }, check: {
            let replicaSets = try await bed.replicaSets()
            let total = replicaSets.reduce(0) { $0 + ($1[path: ["spec", "replicas"]]?.intValue ?? 0) }
            let available = replicaSets.reduce(0) { $0 + ($1[path: ["status", "availableReplicas"]]?.intValue ?? 0) }
            #expect(total <= 5, "surge limit")
            #expect(available >= 3, "unavailable limit")
            if total == 5 { sawSurge = true }
        })
        #expect(sawSurge)
        let replicaSets = try await bed.replicaSets().sorted { ($0[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]]?.stringValue ?? "") < ($1[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]]?.stringValue ?? "") }
        #expect(replicaSets.map { $0[path: ["spec", "replicas"]] } == [0, 4])
        #expect(try await bed.deployment()[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]] == "2")
        let pods = try await bed.pods()
        #expect(pods.count == 4)
        #expect(pods.allSatisfy { $0[path: ["spec", "containers"]]?.sequenceValue?.first?["image"] == "nginx:1.26" })
        let progressing = try await bed.deployment()[path: ["status", "conditions"]]?.sequenceValue?.first { $0["type"] == "Progressing" }
        #expect(progressing?["reason"] == "NewReplicaSetAvailable")

        // Rolling back to the first template reuses its ReplicaSet as revision 3.
        _ = try await bed.cluster.apply(deployment(replicas: 4), options: windlass)
        try await bed.advance(until: {
            let updated = try await bed.deployment()[path: ["status", "updatedReplicas"]]
            let pods = try await bed.pods().count
            return updated == 4 && pods == 4
        })
        #expect(try await bed.replicaSets().count == 2)
        #expect(try await bed.deployment()[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]] == "3")
    }

    @Test("Recreate stops every old pod before starting new ones")
    func recreate() async throws {
        let bed = try await Bed()
        var manifest = try deployment(replicas: 2)
        manifest.set(["type": "Recreate"], at: ["spec", "strategy"])
        _ = try await bed.cluster.apply(manifest, options: windlass)
        try await bed.advance(until: { try await bed.deployment()[path: ["status", "availableReplicas"]] == 2 })
        var updated = try deployment(replicas: 2, image: "nginx:1.26")
        updated.set(["type": "Recreate"], at: ["spec", "strategy"])
        _ = try await bed.cluster.apply(updated, options: windlass)
        try await bed.advance(until: {
            let status = try await bed.deployment()["status"]
            return status?["updatedReplicas"] == 2 && status?["availableReplicas"] == 2
        }, check: {
            let images = Set(try await bed.pods().compactMap { $0[path: ["spec", "containers"]]?.sequenceValue?.first?["image"]?.stringValue })
            #expect(images.count <= 1, "old and new pods never run together: \(images)")
        })
    }

    @Test("pods that never become ready exceed the progress deadline: Degraded")
    func progressDeadline() async throws {
        let bed = try await Bed()
        var manifest = try deployment(replicas: 2)
        manifest.set(30, at: ["spec", "progressDeadlineSeconds"])
        manifest.set(["sim.windlass.dev/never-ready": "true"], at: ["spec", "template", "metadata", "annotations"])
        _ = try await bed.cluster.apply(manifest, options: windlass)
        try await bed.advance(until: { HealthAssessor.assess(try await bed.deployment())?.status == .degraded }, limit: 60)
        #expect(bed.clock.now() - 1_800_000_000 > 30)
        #expect(HealthAssessor.assess(try await bed.deployment())?.message == "Deployment \"web\" exceeded its progress deadline")
    }

    @Test("a pod that fits no node stays Pending with the scheduler's reason")
    func unschedulable() async throws {
        let bed = try await Bed(nodes: 2, cpu: "1", memory: "1Gi")
        var manifest = try deployment(replicas: 1)
        manifest.set([["name": "web", "image": "nginx:1.25", "resources": ["requests": ["cpu": "2", "memory": "128Mi"]]]], at: ["spec", "template", "spec", "containers"])
        _ = try await bed.cluster.apply(manifest, options: windlass)
        try await bed.cluster.reconcile()
        let pod = try #require(try await bed.pods().first)
        #expect(pod[path: ["spec", "nodeName"]] == nil)
        let scheduled = pod[path: ["status", "conditions"]]?.sequenceValue?.first { $0["type"] == "PodScheduled" }
        #expect(scheduled?["reason"] == "Unschedulable")
        #expect(scheduled?["message"] == "0/2 nodes are available: 2 Insufficient cpu.")
        let events = try await bed.cluster.events(for: ResourceID(object: pod))
        #expect(events.map(\.reason) == ["FailedScheduling"])
    }

    @Test("scaling down removes pods; state survives a restart mid-rollout")
    func scaleAndRestart() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(deployment(replicas: 5), options: windlass)
        try await bed.advance(until: { try await bed.deployment()[path: ["status", "availableReplicas"]] == 5 })
        _ = try await bed.cluster.apply(deployment(replicas: 2), options: windlass)
        try await bed.cluster.reconcile()
        #expect(try await bed.pods().count == 2)
        #expect(try await bed.deployment()[path: ["status", "replicas"]] == 2)
        let killing = try await bed.cluster.events(for: nil).filter { $0.reason == "Killing" }
        #expect(killing.count == 3)
    }
}

@Suite("Scheduling with anti-affinity")
struct AntiAffinityTests {
    @Test("required anti-affinity on hostname puts each replica on its own node; a fourth cannot be placed on three nodes")
    func oneReplicaPerNode() async throws {
        let bed = try await Bed(nodes: 3)
        var manifest = try deployment(replicas: 4)
        manifest.set([
            "podAntiAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [
                ["labelSelector": ["matchLabels": ["app": "web"]], "topologyKey": "kubernetes.io/hostname"],
            ]],
        ], at: ["spec", "template", "spec", "affinity"])
        _ = try await bed.cluster.apply(manifest, options: windlass)
        try await bed.cluster.reconcile()
        let pods = try await bed.pods()
        let placed = pods.compactMap { $0[path: ["spec", "nodeName"]]?.stringValue }
        #expect(placed.count == 3)
        #expect(Set(placed).count == 3)
        let pending = try #require(pods.first { $0[path: ["spec", "nodeName"]] == nil })
        let reason = pending[path: ["status", "conditions"]]?.sequenceValue?.first?["message"]?.stringValue
        #expect(reason == "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.")
    }
}

@Suite("Paused Deployments and manual VMs")
struct PauseAndManualTests {
    @Test("a paused Deployment does not roll out a new template until resumed, and is Suspended")
    func pause() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(deployment(replicas: 2), options: windlass)
        try await bed.advance(until: { try await bed.deployment()[path: ["status", "availableReplicas"]] == 2 })
        var paused = try deployment(replicas: 2, image: "nginx:1.26")
        paused.set(true, at: ["spec", "paused"])
        _ = try await bed.cluster.apply(paused, options: windlass)
        bed.clock.advance(by: 5)
        try await bed.cluster.reconcile()
        #expect(try await bed.replicaSets().count == 1)
        #expect(HealthAssessor.assess(try await bed.deployment())?.status == .suspended)
        _ = try await bed.cluster.apply(deployment(replicas: 2, image: "nginx:1.26"), options: windlass)
        try await bed.advance(until: { HealthAssessor.assess(try await bed.deployment())?.status == .healthy })
        #expect(try await bed.replicaSets().count == 2)
        #expect(try await bed.pods().allSatisfy { $0[path: ["spec", "containers"]]?.sequenceValue?.first?["image"] == "nginx:1.26" })
    }

    @Test("runStrategy Manual starts nothing by itself; RerunOnFailure starts the instance like Always")
    func manualAndRerun() async throws {
        let bed = try await Bed()
        for (name, strategy) in [("manual", "Manual"), ("rerun", "RerunOnFailure")] {
            _ = try await bed.cluster.apply(object("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata: {name: \(name), namespace: shop}
                spec: {runStrategy: \(strategy), template: {spec: {domain: {resources: {requests: {memory: 1Gi}}}}}}
                """), options: windlass)
        }
        try await bed.advance(until: { try await bed.get("kubevirt.io", "VirtualMachine", "rerun")[path: ["status", "ready"]] == true })
        let manual = try await bed.get("kubevirt.io", "VirtualMachine", "manual")
        #expect(manual[path: ["status", "printableStatus"]] == "Stopped")
        #expect(HealthAssessor.assess(manual)?.status == .suspended)
        #expect(try await bed.list("kubevirt.io", "VirtualMachineInstance").map { $0[path: ["metadata", "name"]] } == ["rerun"])
    }
}

/// The incremental controllers: what they remember between reconciles (the change log's
/// version, timers, pods that fitted nowhere) must not make them miss work.
@Suite("Incremental controllers")
struct IncrementalControllerTests {
    func ready(_ pods: [Value]) -> Int {
        pods.filter { ($0[path: ["status", "conditions"]]?.sequenceValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" } }.count
    }

    @Test("timed work set in one reconcile is done in a later one with no write in between; the next wake-up says when")
    func timersSurviveReconciles() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(deployment(replicas: 2), options: windlass)
        let due = try #require(try await bed.cluster.reconcile(), "the pods' start delay is timed work")
        #expect(ready(try await bed.pods()) == 0)
        // Nothing due yet: nothing changes, and the same wake-up is reported.
        #expect(try await bed.cluster.reconcile() == due)
        bed.clock.advance(by: due - bed.clock.now())
        try await bed.cluster.reconcile()
        #expect(ready(try await bed.pods()) == 2)
        #expect(try await bed.deployment()[path: ["status", "availableReplicas"]] == 2)
    }

    @Test("a status written by someone else is put right by the controllers: a controller skips only its own writes")
    func foreignStatusWritesAreCorrected() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(deployment(replicas: 3), options: windlass)
        try await bed.advance(until: { try await bed.deployment()[path: ["status", "availableReplicas"]] == 3 })
        let replicaSet = try #require(try await bed.replicaSets().first)
        let pod = try #require(try await bed.pods().first)
        let rsID = try #require(ResourceID(object: replicaSet))
        let podID = try #require(ResourceID(object: pod))
        _ = try await bed.cluster.updateStatus(rsID, status: ["replicas": 99, "readyReplicas": 99])
        _ = try await bed.cluster.updateStatus(id("Deployment", "web"), status: ["replicas": 42])
        try await bed.cluster.reconcile()
        #expect(try await bed.cluster.get(rsID)[path: ["status", "readyReplicas"]] == 3)
        #expect(try await bed.cluster.get(rsID)[path: ["status", "replicas"]] == 3)
        #expect(try await bed.deployment()[path: ["status", "replicas"]] == 3)
        // A pod's phase set back by hand: the kubelet reports it as it is.
        var status = try #require(pod["status"])
        status.set("Pending", at: ["phase"])
        _ = try await bed.cluster.updateStatus(podID, status: status)
        try await bed.cluster.reconcile()
        #expect(try await bed.cluster.get(podID)[path: ["status", "phase"]] == "Running")
        #expect(try await bed.cluster.get(rsID)[path: ["status", "readyReplicas"]] == 3)
    }

    @Test("the requests of bound pods, read between reconciles, equal a count over every pod at each step of a rolling update")
    func requestedFollowsChanges() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(try asking("web", cpu: "100m", replicas: 4), options: windlass)
        func counted() async throws -> Int64 {
            try await bed.pods().filter { $0[path: ["spec", "nodeName"]] != nil && $0[path: ["status", "phase"]] != "Succeeded" }
                .reduce(0) { $0 + ($1[path: ["spec", "containers"]]?.sequenceValue?.first?[path: ["resources", "requests", "cpu"]].flatMap(Quantity.init)?.milli ?? 0) }
        }
        try await bed.advance(until: { try await bed.deployment()[path: ["status", "availableReplicas"]] == 4 })
        #expect(try await bed.cluster.requested().cpu.milli == 400)
        _ = try await bed.cluster.apply(try asking("web", cpu: "300m", replicas: 4), options: windlass)
        var peak: Int64 = 0
        try await bed.advance(until: {
            let updated = try await bed.deployment()[path: ["status", "updatedReplicas"]] == 4
            let pods = try await bed.pods().count
            return updated && pods == 4
        }, check: {
            // A write after the scheduler's run (the kubelet's, or one made here) is counted too.
            let requested = try await bed.cluster.requested().cpu.milli
            let expected = try await counted()
            #expect(requested == expected)
            peak = max(peak, requested)
        })
        #expect(peak > 400)
        #expect(try await bed.cluster.requested().cpu.milli == 1200)
    }

    @Test("a twin keeps no events; a cluster does")
    func twinsKeepNoEvents() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(deployment(replicas: 2), options: windlass)
        try await bed.advance(until: { try await bed.deployment()[path: ["status", "availableReplicas"]] == 2 })
        var objects: [Value] = []
        for kind in [GroupKind(group: "", kind: "Namespace"), GroupKind(group: "", kind: "Node"), GroupKind(group: "", kind: "Pod"),
                     GroupKind(group: "apps", kind: "ReplicaSet"), GroupKind(group: "apps", kind: "Deployment")] {
            objects += try await bed.cluster.list(kind, namespace: nil, selector: .everything).items
        }
        #expect(try await bed.cluster.events(for: id("Deployment", "web")).contains { $0.reason == "ScalingReplicaSet" })
        let twin = EmbeddedCluster(memoryWith: objects, clock: ManualClock(bed.clock.now()))
        _ = try await twin.apply(deployment(replicas: 3), options: windlass)
        _ = try await twin.advance(by: 30)
        #expect(try await twin.get(id("Deployment", "web"))[path: ["status", "availableReplicas"]] == 3)
        #expect(try await twin.events(for: nil).isEmpty)
    }

    func asking(_ name: String, cpu: String, replicas: Int = 1) throws -> Value {
        try object("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: \(name), namespace: shop}
            spec:
              replicas: \(replicas)
              selector: {matchLabels: {app: \(name)}}
              template:
                metadata: {labels: {app: \(name)}}
                spec:
                  containers: [{name: web, image: "nginx:1.25", resources: {requests: {cpu: \(cpu)}}}]
            """)
    }

    @Test("a pod that fitted nowhere is placed once room is freed: by a deletion, or by a scale-down")
    func unscheduledPodsAreRetried() async throws {
        let bed = try await Bed(nodes: 1, cpu: "1")
        func unbound() async throws -> [String] {
            try await bed.pods().filter { $0[path: ["spec", "nodeName"]] == nil }.compactMap { $0[path: ["metadata", "name"]]?.stringValue }
        }
        _ = try await bed.cluster.apply(try asking("big", cpu: "800m"), options: windlass)
        try await bed.cluster.reconcile()
        _ = try await bed.cluster.apply(try asking("late", cpu: "500m"), options: windlass)
        try await bed.cluster.reconcile()
        let waiting = try await unbound()
        #expect(waiting.count == 1 && waiting.allSatisfy { $0.hasPrefix("late-") }, "\(waiting)")
        try await bed.cluster.reconcile()
        #expect(try await unbound().count == 1, "nothing changed: it still fits nowhere")
        try await bed.cluster.delete(id("Deployment", "big"), propagation: .background, dryRun: false)
        try await bed.cluster.reconcile()
        #expect(try await unbound().isEmpty, "the room big left is taken")

        _ = try await bed.cluster.apply(try asking("other", cpu: "600m"), options: windlass)
        try await bed.cluster.reconcile()
        #expect(try await unbound().count == 1, "other's pod does not fit beside late")
        _ = try await bed.cluster.apply(try asking("late", cpu: "500m", replicas: 0), options: windlass)
        try await bed.cluster.reconcile()
        #expect(try await unbound().isEmpty, "late scaled to 0 frees the room for other")
    }
}
