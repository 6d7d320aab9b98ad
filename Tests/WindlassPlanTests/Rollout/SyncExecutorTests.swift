import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassPlan
import WindlassRollout

/// Collects events (the executor calls back synchronously).
final class EventLog: @unchecked Sendable {
    var lines: [String] = []

    func record(_ event: SyncEvent) {
        switch event {
        case .stageStarted(let stage, _): lines.append("start \(stage)")
        case .applied(let id, let action): lines.append("\(action.rawValue) \(id)")
        case .stageFinished(let stage): lines.append("done \(stage)")
        case .hookFinished(let id, let succeeded, _): lines.append("hook \(id) \(succeeded ? "succeeded" : "failed")")
        case .waiting, .retrying, .canary: break
        }
    }
}

func job(_ name: String, hook: String, deletePolicy: String? = nil, fail: Bool = false) -> Value {
    var annotations: [String: String] = ["windlass.dev/hook": hook]
    if let deletePolicy { annotations["windlass.dev/hook-delete-policy"] = deletePolicy }
    var object = object("Job", name, apiVersion: "batch/v1", annotations: annotations)
    var template: Value = ["spec": ["restartPolicy": "Never", "containers": [["name": "run", "image": "registry.example/tools:1"]]]]
    if fail { template.set(["sim.windlass.dev/fail": "true"], at: ["metadata", "annotations"]) }
    object.set(["backoffLimit": 0, "template": template], at: ["spec"])
    return object
}

extension PlanBed {
    var executor: SyncExecutor {
        let clock = self.clock
        let cluster = self.cluster
        return SyncExecutor(
            backend: cluster,
            driver: SyncDriver(
                now: { clock.now() },
                pass: { seconds in
                    clock.advance(by: max(seconds, 0))
                    try await cluster.reconcile()
                }),
            options: SyncOptions(waveTimeout: 30, pollInterval: 0.5))
    }
}

@Suite("Sync: stages, health, hooks, prune")
struct SyncExecutorTests {
    @Test("hooks run in their phases and are waited on; HookSucceeded removes the hook; the plan is then empty")
    func hooks() async throws {
        let bed = try await PlanBed()
        let set = try bed.load([shop, job("migrate", hook: "PreSync", deletePolicy: "HookSucceeded"), web(replicas: 2), job("smoke", hook: "PostSync")])
        let log = EventLog()
        let result = await bed.executor.run(try await bed.plan(set)) { log.record($0) }
        #expect(result.succeeded, "\(result.outcome)")
        #expect(
            log.lines == [
                "start PreSync wave 0", "create Namespace/shop", "create batch/Job/shop/migrate", "hook batch/Job/shop/migrate succeeded", "done PreSync wave 0",
                "start Sync wave 0", "create apps/Deployment/shop/web", "done Sync wave 0",
                "start PostSync wave 0", "create batch/Job/shop/smoke", "hook batch/Job/shop/smoke succeeded", "done PostSync wave 0",
            ])
        let migrate = ResourceID(group: "batch", version: "v1", kind: "Job", namespace: "shop", name: "migrate")
        await #expect(throws: ClusterError.self) { try await bed.cluster.get(migrate) }
        let smoke = try await bed.cluster.get(ResourceID(group: "batch", version: "v1", kind: "Job", namespace: "shop", name: "smoke"))
        #expect(HealthAssessor.assess(smoke)?.status == .healthy)
        #expect(!(try await bed.plan(set)).summary.hasChanges)
    }

    @Test("a failed PreSync hook stops the sync before anything else is applied, and SyncFail hooks run")
    func failedHook() async throws {
        let bed = try await PlanBed()
        let set = try bed.load([shop, job("migrate", hook: "PreSync", fail: true), web(), job("page-oncall", hook: "SyncFail")])
        let result = await bed.executor.run(try await bed.plan(set))
        guard case .failed(let reason) = result.outcome else {
            Issue.record("the sync should fail")
            return
        }
        #expect(reason.hasPrefix("PreSync hook batch/Job/shop/migrate failed"))
        await #expect(throws: ClusterError.self) { try await bed.cluster.get(ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web")) }
        _ = try await bed.cluster.get(ResourceID(group: "batch", version: "v1", kind: "Job", namespace: "shop", name: "page-oncall"))
    }

    @Test("a wave that never becomes healthy fails at the wave timeout, naming what it waited for")
    func timeout() async throws {
        let bed = try await PlanBed()
        var stuck = web(replicas: 2)
        stuck.set(["sim.windlass.dev/never-ready": "true"], at: ["spec", "template", "metadata", "annotations"])
        let set = try bed.load([shop, stuck])
        let result = await bed.executor.run(try await bed.plan(set))
        guard case .failed(let reason) = result.outcome else {
            Issue.record("the sync should fail")
            return
        }
        #expect(reason.hasPrefix("Sync wave 0 did not become healthy within 30 s: apps/Deployment/shop/web (Progressing"), "\(reason)")
    }

    @Test("objects gone from git are pruned after the applies; untracked ones stay")
    func prune() async throws {
        let bed = try await PlanBed()
        let first = try bed.load([shop, web(), object("ConfigMap", "old")])
        #expect(await bed.executor.run(try await bed.plan(first)).succeeded)
        _ = try await bed.cluster.apply(object("ConfigMap", "handmade"), options: ApplyOptions(fieldManager: "kubectl"))

        let second = try bed.load([shop, web(), object("ConfigMap", "new")])
        let log = EventLog()
        let result = await bed.executor.run(try await bed.plan(second)) { log.record($0) }
        #expect(result.succeeded)
        #expect(log.lines == ["start Sync wave 0", "create ConfigMap/shop/new", "done Sync wave 0", "start Prune wave 0", "delete ConfigMap/shop/old", "done Prune wave 0"])
        #expect(result.resources.contains { $0.id.name == "old" && $0.status == "pruned" })
        _ = try await bed.cluster.get(ResourceID(group: "", version: "v1", kind: "ConfigMap", namespace: "shop", name: "handmade"))
    }
}

/// A test double for what cannot run here: an API server that is briefly unavailable. It wraps
/// the embedded cluster and refuses the first `failures` writes with 503.
final class FlakyBackend: ClusterBackend, @unchecked Sendable {
    let inner: EmbeddedCluster
    var failures: Int
    var refused = 0

    init(_ inner: EmbeddedCluster, failures: Int) {
        self.inner = inner
        self.failures = failures
    }

    func discovery() async throws(ClusterError) -> RESTMapping { try await inner.discovery() }
    func list(_ kind: GroupKind, namespace: String?, options: ListOptions) async throws(ClusterError) -> ObjectList {
        try await inner.list(kind, namespace: namespace, options: options)
    }
    func get(_ id: ResourceID) async throws(ClusterError) -> Value { try await inner.get(id) }
    func create(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value { try await inner.create(object, options: options) }
    func update(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value { try await inner.update(object, options: options) }
    func updateStatus(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        try await inner.updateStatus(object, options: options)
    }
    func patch(_ id: ResourceID, _ patch: Patch, options: PatchOptions) async throws(ClusterError) -> Value {
        if refused < failures {
            refused += 1
            throw ClusterError(.unavailable, "the server is currently unable to handle the request")
        }
        return try await inner.patch(id, patch, options: options)
    }
    func delete(_ id: ResourceID, options: DeleteOptions) async throws(ClusterError) { try await inner.delete(id, options: options) }
    func evict(_ pod: ResourceID) async throws(ClusterError) { try await inner.evict(pod) }
    func watch(_ kind: GroupKind?, namespace: String?, since resourceVersion: String) async throws(ClusterError) -> AsyncStream<ClusterWatchEvent> {
        try await inner.watch(kind, namespace: namespace, since: resourceVersion)
    }
    func events(for id: ResourceID?) async throws(ClusterError) -> [ClusterEvent] { try await inner.events(for: id) }
}

@Suite("Sync: transient errors")
struct TransientErrorTests {
    @Test("a write refused as unavailable is retried with backoff; past the attempts, the sync fails naming the object")
    func retries() async throws {
        let bed = try await PlanBed()
        let set = try bed.load([shop, object("ConfigMap", "conf")])
        let plan = try await bed.plan(set)
        let clock = bed.clock
        let cluster = bed.cluster
        let driver = SyncDriver(now: { clock.now() }, pass: { seconds in
            clock.advance(by: max(seconds, 0))
            try await cluster.reconcile()
        })
        let log = EventLog()
        let flaky = FlakyBackend(bed.cluster, failures: 2)
        let before = clock.now()
        let result = await SyncExecutor(backend: flaky, driver: driver).run(plan) { event in
            if case .retrying(let id, let attempt, _) = event { log.lines.append("retry \(id) \(attempt)") }
        }
        #expect(result.succeeded, "\(result.outcome)")
        #expect(log.lines == ["retry Namespace/shop 1", "retry Namespace/shop 2"])
        #expect(clock.now() - before >= 3, "backoff 1 s then 2 s")

        let hopeless = FlakyBackend(bed.cluster, failures: 100)
        let failed = await SyncExecutor(backend: hopeless, driver: driver).run(try await bed.plan(try bed.load([shop, object("ConfigMap", "other")])))
        #expect(failed.outcome == .failed("ConfigMap/shop/other: the server is currently unable to handle the request"))
        #expect(hopeless.refused == 4, "four attempts")
    }
}
