import Testing
import WindlassCluster
import WindlassManifest

func object(_ text: String) throws -> Value {
    try YAMLReader.read(text).first?.root ?? .null
}

@Suite("Health per kind (Argo CD's rules)")
struct HealthTests {
    func deployment(spec: String = "replicas: 3", status: String, generation: Int = 2) throws -> Health? {
        HealthAssessor.assess(try object("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, generation: \(generation)}
            spec: {\(spec)}
            status: {\(status)}
            """))
    }

    @Test("Deployment follows kubectl rollout status")
    func deployments() throws {
        #expect(try deployment(status: "observedGeneration: 1") == Health(.progressing, "Waiting for rollout to finish: observed deployment generation less than desired generation"))
        #expect(try deployment(status: "observedGeneration: 2, updatedReplicas: 1, replicas: 4, availableReplicas: 3") == Health(.progressing, "Waiting for rollout to finish: 1 out of 3 new replicas have been updated..."))
        #expect(try deployment(status: "observedGeneration: 2, updatedReplicas: 3, replicas: 4, availableReplicas: 3") == Health(.progressing, "Waiting for rollout to finish: 1 old replicas are pending termination..."))
        #expect(try deployment(status: "observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 2") == Health(.progressing, "Waiting for rollout to finish: 2 of 3 updated replicas are available..."))
        #expect(try deployment(status: "observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3")?.status == .healthy)
        #expect(try deployment(spec: "replicas: 3, paused: true", status: "observedGeneration: 1")?.status == .suspended)
        let deadline = "observedGeneration: 2, conditions: [{type: Progressing, status: 'False', reason: ProgressDeadlineExceeded}]"
        #expect(try deployment(status: deadline) == Health(.degraded, "Deployment \"web\" exceeded its progress deadline"))
    }

    @Test("StatefulSet, DaemonSet, Pod, Job, Service, PVC and VirtualMachine", arguments: [
        ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {generation: 1}\nspec: {replicas: 3}\nstatus: {observedGeneration: 1, readyReplicas: 2}", HealthStatus.progressing),
        ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {generation: 1}\nspec: {replicas: 3}\nstatus: {observedGeneration: 1, readyReplicas: 3, updatedReplicas: 3, currentRevision: a, updateRevision: a}", .healthy),
        ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {generation: 1}\nspec: {replicas: 3}\nstatus: {observedGeneration: 1, readyReplicas: 3, currentRevision: a, updateRevision: b}", .progressing),
        ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {generation: 1}\nspec: {replicas: 3, updateStrategy: {rollingUpdate: {partition: 2}}}\nstatus: {observedGeneration: 1, readyReplicas: 3, updatedReplicas: 1}", .healthy),
        ("apiVersion: apps/v1\nkind: DaemonSet\nstatus: {desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2}", .progressing),
        ("apiVersion: apps/v1\nkind: DaemonSet\nstatus: {desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3}", .healthy),
        ("apiVersion: v1\nkind: Pod\nspec: {restartPolicy: Always}\nstatus: {phase: Running, conditions: [{type: Ready, status: 'True'}]}", .healthy),
        ("apiVersion: v1\nkind: Pod\nspec: {}\nstatus: {phase: Running, conditions: [{type: Ready, status: 'False'}]}", .progressing),
        ("apiVersion: v1\nkind: Pod\nstatus: {phase: Running, containerStatuses: [{state: {waiting: {reason: CrashLoopBackOff}}}]}", .degraded),
        ("apiVersion: v1\nkind: Pod\nstatus: {phase: Pending, containerStatuses: [{state: {waiting: {reason: ImagePullBackOff}}}]}", .degraded),
        ("apiVersion: v1\nkind: Pod\nstatus: {phase: Failed}", .degraded),
        ("apiVersion: batch/v1\nkind: Job\nstatus: {conditions: [{type: Complete, status: 'True'}]}", .healthy),
        ("apiVersion: batch/v1\nkind: Job\nstatus: {conditions: [{type: Failed, status: 'True', message: BackoffLimitExceeded}]}", .degraded),
        ("apiVersion: batch/v1\nkind: Job\nspec: {suspend: true}", .suspended),
        ("apiVersion: v1\nkind: Service\nspec: {type: LoadBalancer}", .progressing),
        ("apiVersion: v1\nkind: Service\nspec: {type: LoadBalancer}\nstatus: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}", .healthy),
        ("apiVersion: v1\nkind: Service\nspec: {type: ClusterIP}", .healthy),
        ("apiVersion: v1\nkind: PersistentVolumeClaim\nstatus: {phase: Pending}", .progressing),
        ("apiVersion: v1\nkind: PersistentVolumeClaim\nstatus: {phase: Bound}", .healthy),
        ("apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nspec: {runStrategy: Always}\nstatus: {printableStatus: Running, ready: true}", .healthy),
        ("apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nspec: {runStrategy: Always}\nstatus: {printableStatus: Starting}", .progressing),
        ("apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nspec: {runStrategy: Halted}\nstatus: {printableStatus: Stopped}", .suspended),
        ("apiVersion: kubevirt.io/v1\nkind: VirtualMachine\nspec: {runStrategy: Always}\nstatus: {printableStatus: ErrorUnschedulable}", .degraded),
    ])
    func kinds(yaml: String, expected: HealthStatus) throws {
        #expect(HealthAssessor.assess(try object(yaml))?.status == expected, "\(yaml)")
    }

    @Test("kinds without a health check are not assessed")
    func unassessed() throws {
        #expect(HealthAssessor.assess(try object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}")) == nil)
    }

    @Test("an application is as healthy as its least healthy resource")
    func aggregate() {
        #expect(Health.aggregate([Health(.healthy), Health(.progressing, "p"), Health(.suspended)]) == Health(.progressing, "p"))
        #expect(Health.aggregate([Health(.healthy), Health(.degraded, "d"), Health(.missing)]).status == .degraded)
        #expect(Health.aggregate([]).status == .healthy)
        #expect(HealthStatus.allCases.sorted() == [.healthy, .suspended, .progressing, .missing, .degraded, .unknown])
    }
}
