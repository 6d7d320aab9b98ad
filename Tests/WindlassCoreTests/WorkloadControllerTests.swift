import Foundation
import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassTesting

extension Bed {
    func list(_ group: String, _ kind: String, namespace: String? = "shop") async throws -> [Value] {
        try await cluster.list(GroupKind(group: group, kind: kind), namespace: namespace, selector: .everything).items
    }

    func get(_ group: String, _ kind: String, _ name: String, namespace: String? = "shop") async throws -> Value {
        try await cluster.get(ResourceID(group: group, version: "v1", kind: kind, namespace: namespace, name: name))
    }
}

@Suite("Controllers: StatefulSets, DaemonSets, claims, endpoints, virtual machines")
struct WorkloadControllerTests {
    let statefulSet = """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db, namespace: shop}
        spec:
          serviceName: db
          replicas: 3
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}, annotations: {sim.windlass.dev/start-seconds: "2"}}
            spec: {containers: [{name: db, image: "mariadb:10.11"}]}
          volumeClaimTemplates:
            - metadata: {name: data}
              spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
        """

    @Test("a StatefulSet starts its pods in order, each with its bound claim, and is Healthy when all are ready")
    func orderedStart() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(object(statefulSet), options: windlass)
        try await bed.cluster.reconcile()
        #expect(try await bed.pods().map { $0[path: ["metadata", "name"]] } == ["db-0"])
        var order: [String] = []
        try await bed.advance(until: { try await bed.get("apps", "StatefulSet", "db")[path: ["status", "readyReplicas"]] == 3 }, check: {
            for pod in try await bed.pods() {
                if let name = pod[path: ["metadata", "name"]]?.stringValue, !order.contains(name) { order.append(name) }
            }
        })
        #expect(order == ["db-0", "db-1", "db-2"])
        let claims = try await bed.list("", "PersistentVolumeClaim")
        #expect(claims.map { $0[path: ["metadata", "name"]] } == ["data-db-0", "data-db-1", "data-db-2"])
        #expect(claims.allSatisfy { $0[path: ["status", "phase"]] == "Bound" })
        let pod = try await bed.get("", "Pod", "db-1")
        #expect(pod[path: ["spec", "volumes"]]?.sequenceValue?.first?[path: ["persistentVolumeClaim", "claimName"]] == "data-db-1")
        #expect(HealthAssessor.assess(try await bed.get("apps", "StatefulSet", "db"))?.status == .healthy)
    }

    @Test("a StatefulSet rolling update replaces pods from the highest ordinal, stopping at the partition")
    func partitionedUpdate() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(object(statefulSet), options: windlass)
        try await bed.advance(until: { try await bed.get("apps", "StatefulSet", "db")[path: ["status", "readyReplicas"]] == 3 })
        let updated = statefulSet.replacingOccurrences(of: "mariadb:10.11", with: "mariadb:11.4")
            .replacingOccurrences(of: "  replicas: 3\n", with: "  replicas: 3\n  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1}}\n")
        _ = try await bed.cluster.apply(object(updated), options: windlass)
        try await bed.advance(until: {
            let pods = try await bed.pods()
            return pods.filter { $0[path: ["spec", "containers"]]?.sequenceValue?.first?["image"] == "mariadb:11.4" && ReplicaSetReady.isReady($0) }.count == 2
        })
        let images = try await bed.pods().sorted { ($0[path: ["metadata", "name"]]?.stringValue ?? "") < ($1[path: ["metadata", "name"]]?.stringValue ?? "") }
            .map { $0[path: ["spec", "containers"]]?.sequenceValue?.first?["image"]?.stringValue ?? "" }
        #expect(images == ["mariadb:10.11", "mariadb:11.4", "mariadb:11.4"])
        #expect(HealthAssessor.assess(try await bed.get("apps", "StatefulSet", "db"))?.status == .healthy)
    }

    @Test("a DaemonSet runs one pod on each eligible node")
    func daemonSet() async throws {
        let bed = try await Bed(nodes: 3)
        _ = try await bed.cluster.apply(object("""
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: agent, namespace: shop}
            spec:
              selector: {matchLabels: {app: agent}}
              template:
                metadata: {labels: {app: agent}}
                spec: {containers: [{name: agent, image: "agent:1"}]}
            """), options: windlass)
        try await bed.advance(until: { try await bed.get("apps", "DaemonSet", "agent")[path: ["status", "numberReady"]] == 3 })
        let nodes = Set(try await bed.pods().compactMap { $0[path: ["spec", "nodeName"]]?.stringValue })
        #expect(nodes == ["node-1", "node-2", "node-3"])
        #expect(HealthAssessor.assess(try await bed.get("apps", "DaemonSet", "agent"))?.status == .healthy)
    }

    @Test("a Service's endpoints list its ready pods")
    func endpoints() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(deployment(replicas: 2), options: windlass)
        _ = try await bed.cluster.apply(object("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}"), options: windlass)
        try await bed.cluster.reconcile()
        bed.clock.advance(by: 2)
        try await bed.cluster.reconcile()
        let endpoints = try await bed.get("", "Endpoints", "web")
        let subset = try #require(endpoints["subsets"]?.sequenceValue?.first)
        #expect(subset["addresses"]?.sequenceValue?.count == 2)
        #expect(subset["ports"] == [["port": 8080, "protocol": "TCP"]])
    }

    @Test("a VirtualMachine runs as an instance in a launcher pod; Halted stops it; Always restarts a failed one")
    func virtualMachines() async throws {
        let bed = try await Bed()
        let vm = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: vm1, namespace: shop}
            spec:
              runStrategy: STRATEGY
              template:
                metadata: {labels: {kubevirt.io/vm: vm1}}
                spec: {domain: {cpu: {cores: 2}, resources: {requests: {memory: 4Gi}}}}
            """
        _ = try await bed.cluster.apply(object(vm.replacingOccurrences(of: "STRATEGY", with: "Always")), options: windlass)
        try await bed.advance(until: { try await bed.get("kubevirt.io", "VirtualMachine", "vm1")[path: ["status", "ready"]] == true })
        let machine = try await bed.get("kubevirt.io", "VirtualMachine", "vm1")
        #expect(machine[path: ["status", "printableStatus"]] == "Running")
        #expect(HealthAssessor.assess(machine)?.status == .healthy)
        let launcher = try #require(try await bed.pods().first)
        #expect(launcher[path: ["metadata", "name"]]?.stringValue?.hasPrefix("virt-launcher-vm1-") == true)
        #expect(launcher[path: ["spec", "containers"]]?.sequenceValue?.first?[path: ["resources", "requests"]] == ["cpu": "2", "memory": "4Gi"])
        let instance = try await bed.get("kubevirt.io", "VirtualMachineInstance", "vm1")
        #expect(instance[path: ["status", "phase"]] == "Running")
        #expect(instance[path: ["status", "nodeName"]] == launcher[path: ["spec", "nodeName"]])

        _ = try await bed.cluster.apply(object(vm.replacingOccurrences(of: "STRATEGY", with: "Halted")), options: windlass)
        try await bed.cluster.reconcile()
        let halted = try await bed.get("kubevirt.io", "VirtualMachine", "vm1")
        #expect(halted[path: ["status", "printableStatus"]] == "Stopped")
        #expect(HealthAssessor.assess(halted)?.status == .suspended)
        #expect(try await bed.pods().isEmpty)
    }
}

enum ReplicaSetReady {
    static func isReady(_ pod: Value) -> Bool {
        pod[path: ["status", "conditions"]]?.sequenceValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } ?? false
    }
}

@Suite("Controllers: Jobs")
struct JobControllerTests {
    func job(_ extra: String = "", annotations: String = "") -> String {
        """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: migrate, namespace: shop}
        spec:
          completions: 3
          parallelism: 2
          \(extra)
          template:
            metadata: {annotations: {sim.windlass.dev/start-seconds: "0", sim.windlass.dev/run-seconds: "2"\(annotations)}}
            spec: {restartPolicy: Never, containers: [{name: m, image: "migrate:1"}]}
        """
    }

    @Test("a Job runs at most parallelism pods until completions have succeeded, then is Complete")
    func completes() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(object(job()), options: windlass)
        var maxActive = 0
        try await bed.advance(until: { HealthAssessor.assess(try await bed.get("batch", "Job", "migrate"))?.status == .healthy }, check: {
            let active = try await bed.get("batch", "Job", "migrate")[path: ["status", "active"]]?.intValue ?? 0
            maxActive = max(maxActive, active)
        })
        let status = try await bed.get("batch", "Job", "migrate")["status"]
        #expect(status?["succeeded"] == 3)
        #expect(status?["active"] == 0)
        #expect(status?["completionTime"] != nil)
        #expect(maxActive == 2)
        #expect(try await bed.pods().filter { $0[path: ["status", "phase"]] == "Succeeded" }.count == 3)
    }

    @Test("failing pods beyond backoffLimit fail the Job: Degraded")
    func backoffLimit() async throws {
        let bed = try await Bed()
        _ = try await bed.cluster.apply(object(job("backoffLimit: 1", annotations: ", sim.windlass.dev/fail: \"true\"")), options: windlass)
        try await bed.advance(until: { HealthAssessor.assess(try await bed.get("batch", "Job", "migrate"))?.status == .degraded })
        let job = try await bed.get("batch", "Job", "migrate")
        #expect(job[path: ["status", "failed"]]?.intValue ?? 0 >= 2)
        #expect(job[path: ["status", "conditions"]]?.sequenceValue?.first?["reason"] == "BackoffLimitExceeded")
        #expect(try await bed.pods().allSatisfy { $0[path: ["status", "phase"]] == "Failed" })
    }
}

@Suite("Simulated traffic")
struct SimulatedTrafficTests {
    @Test("ready pods serve requests at their rate, with their error share and latency, per workload")
    func traffic() async throws {
        let bed = try await Bed()
        var manifest = try deployment(replicas: 1)
        manifest.set(["sim.windlass.dev/start-seconds": "0", "sim.windlass.dev/rps": "10", "sim.windlass.dev/error-rate": "0.1", "sim.windlass.dev/latency-ms": "120"], at: ["spec", "template", "metadata", "annotations"])
        _ = try await bed.cluster.apply(manifest, options: windlass)
        try await bed.cluster.reconcile()
        bed.clock.advance(by: 10)
        let text = await bed.cluster.simulatedMetrics()
        let pod = try #require(try await bed.pods().first?[path: ["metadata", "name"]]?.stringValue)
        let labels = "namespace=\"shop\",pod=\"\(pod)\",workload=\"web\",track=\"stable\""
        #expect(text.contains("windlass_sim_http_requests_total{\(labels),code=\"200\"} 90\n"))
        #expect(text.contains("windlass_sim_http_requests_total{\(labels),code=\"500\"} 10\n"))
        #expect(text.contains("windlass_sim_http_request_duration_seconds_bucket{\(labels),le=\"0.1\"} 0\n"))
        #expect(text.contains("windlass_sim_http_request_duration_seconds_bucket{\(labels),le=\"0.25\"} 100\n"))
        #expect(text.contains("windlass_sim_http_request_duration_seconds_count{\(labels)} 100\n"))
        #expect(text.hasPrefix("# HELP windlass_sim_http_requests_total"))
    }
}
