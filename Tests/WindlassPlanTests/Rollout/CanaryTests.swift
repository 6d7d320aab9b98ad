import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassPlan
import WindlassRollout

/// A test double for an analysis provider, standing in for a metrics backend in the tests of
/// the analysis rules themselves (Prometheus itself is exercised in PrometheusTests): it
/// returns the scripted answers in turn, the last one repeated.
final class ScriptedProvider: MetricProvider, @unchecked Sendable {
    enum Answer {
        case values([Double])
        case error(String)
    }

    var answers: [Answer]
    var calls = 0

    init(_ answers: [Answer]) {
        self.answers = answers
    }

    func measure(_ metric: Metric, arguments: [String: String]) async throws -> [Double] {
        let answer = answers[min(calls, answers.count - 1)]
        calls += 1
        switch answer {
        case .values(let values): return values
        case .error(let message): throw ProviderError(message)
        }
    }
}

func strategy(_ steps: String, target: String = "web") -> Value {
    let yaml = """
        apiVersion: windlass.dev/v1
        kind: RolloutStrategy
        metadata: {name: \(target), namespace: shop}
        spec:
          targetRef: {kind: Deployment, name: \(target)}
          canary:
            steps:
        \(steps)
        """
    return try! YAMLReader.read(yaml).first!.root
}

func template(_ metric: String) -> Value {
    let yaml = """
        apiVersion: windlass.dev/v1
        kind: AnalysisTemplate
        metadata: {name: gate, namespace: shop}
        spec:
          metrics:
        \(metric)
        """
    return try! YAMLReader.read(yaml).first!.root
}

let healthGate = """
        - name: ready
          interval: 2s
          count: 2
          successCondition: result[0] == 1 && result[1] == 0
          failureCondition: result[1] > 0
          provider: {health: {}}
    """

let scriptedGate = """
        - name: rate
          interval: 1s
          count: 3
          successCondition: result[0] >= 0.99
          failureCondition: result[0] < 0.9
          provider: {prometheus: {address: "http://127.0.0.1:1", query: "rate"}}
    """

extension PlanBed {
    func deployer(providers: [String: any MetricProvider]) throws -> Deployer {
        var deployer = try deployer()
        deployer.providers = providers
        return deployer
    }
}

/// Collects canary lines from sync events.
final class CanaryLog: @unchecked Sendable {
    var lines: [String] = []
    func record(_ event: SyncEvent) {
        guard case .canary(let progress) = event else { return }
        let line = "step \(progress.step) \(progress.phase.rawValue) weight \(progress.weight)"
        if lines.last != line { lines.append(line) }
    }
}

@Suite("Canaries on the embedded core")
struct CanaryTests {
    /// Syncs version 1 (a first deploy: no steps), then returns the bed and a deployer.
    func deployedV1(_ extra: [Value], providers: [String: any MetricProvider] = [:]) async throws -> (PlanBed, Deployer) {
        let bed = try await PlanBed()
        let deployer = try bed.deployer(providers: providers)
        let outcome = try await deployer.sync(try bed.load([shop, web(replicas: 3, image: "registry.example/web:1")] + extra), source: source, live: bed.liveReader, trigger: "manual")
        guard case .deployed = outcome else { throw ProviderError("v1 did not deploy: \(outcome)") }
        return (bed, deployer)
    }

    @Test("a passing canary goes through its steps and is promoted; the canary workload is removed")
    func passing() async throws {
        let steps = "      - setWeight: 34\n      - pause: {duration: 10s}\n      - analysis: {templates: [{templateName: gate}]}\n      - setWeight: 67"
        let extra = [strategy(steps), template(healthGate)]
        let bed = try await PlanBed()
        let local = try bed.deployer(providers: ["health": HealthProvider(backend: bed.cluster)])
        _ = try await local.sync(try bed.load([shop, web(replicas: 3, image: "registry.example/web:1")] + extra), source: source, live: bed.liveReader, trigger: "manual")
        let v2 = try bed.load([shop, web(replicas: 3, image: "registry.example/web:2")] + extra)
        #expect(try await bed.plan(v2).rollouts.first?.summary == "canary of 3 pods (web): setWeight 34 (1 canary, 2 stable) → pause 10s → analysis gate → setWeight 67 (2 canary, 1 stable) → promote")
        let log = CanaryLog()
        let outcome = try await local.sync(v2, source: source, live: bed.liveReader, trigger: "manual") { log.record($0) }
        guard case .deployed(let revision, let result) = outcome else {
            Issue.record("the canary should be promoted: \(outcome)")
            return
        }
        #expect(revision.number == 2)
        #expect(result.resources.contains { $0.status == "promoted" })
        #expect(log.lines.first == "step 0 Progressing weight 0")
        #expect(log.lines.contains("step 0 Progressing weight 34"))
        #expect(log.lines.contains("step 3 Progressing weight 67"))
        #expect(log.lines.last == "step 4 Promoted weight 100")
        #expect(try await bed.image() == "registry.example/web:2")
        let deployment = try await bed.cluster.get(ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web"))
        #expect(deployment[path: ["spec", "replicas"]] == 3)
        await #expect(throws: ClusterError.self) { try await bed.cluster.get(ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web-canary")) }
        #expect(!(try await bed.plan(v2)).summary.hasChanges, "after promotion the plan is empty")
    }

    @Test("a crash-looping canary fails its health gate: aborted, stable restored, the revision rolled back on its own")
    func failing() async throws {
        let steps = "      - setWeight: 34\n      - analysis: {templates: [{templateName: gate}]}"
        let extra = [strategy(steps), template(healthGate)]
        let bed = try await PlanBed()
        let deployer = try bed.deployer(providers: ["health": HealthProvider(backend: bed.cluster)])
        _ = try await deployer.sync(try bed.load([shop, web(replicas: 3, image: "registry.example/web:1")] + extra), source: source, live: bed.liveReader, trigger: "manual")
        var broken = web(replicas: 3, image: "registry.example/web:2")
        broken.set(["sim.windlass.dev/crash-loop": "true"], at: ["spec", "template", "metadata", "annotations"])
        let outcome = try await deployer.sync(try bed.load([shop, broken] + extra), source: source, live: bed.liveReader, trigger: "manual")
        guard case .failed(let revision, _, let rollback?) = outcome else {
            Issue.record("the canary should fail and roll back: \(outcome)")
            return
        }
        #expect(revision.message?.contains("canary of apps/Deployment/shop/web aborted, stable version restored: ") == true, "\(revision.message ?? "")")
        #expect(rollback.description == "Rollback to 1" && rollback.trigger == "canary aborted")
        #expect(try await bed.image() == "registry.example/web:1")
        let deployment = try await bed.cluster.get(ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web"))
        #expect(deployment[path: ["spec", "replicas"]] == 3)
        await #expect(throws: ClusterError.self) { try await bed.cluster.get(ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web-canary")) }
        #expect(try deployer.store.history("default").map(\.status) == [.superseded, .rolledBack, .deployed])
    }

    @Test("pause without a duration: the sync stops, the revision stays pending, promote resumes it")
    func pauseUntilPromoted() async throws {
        let steps = "      - setWeight: 50\n      - pause: {}"
        let extra = [strategy(steps)]
        let (bed, deployer) = try await deployedV1(extra)
        let v2 = try bed.load([shop, web(replicas: 4, image: "registry.example/web:2")] + extra)
        guard case .paused(let revision, _) = try await deployer.sync(v2, source: source, live: bed.liveReader, trigger: "manual") else {
            Issue.record("the sync should pause")
            return
        }
        #expect(try deployer.store.revision("default", revision.number)?.status == .pending)
        let canary = try await bed.cluster.get(ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web-canary"))
        #expect(canary[path: ["spec", "replicas"]] == 2)
        // A sync now would only pause again; a promote lets it through.
        guard case .paused = try await deployer.sync(v2, source: source, live: bed.liveReader, trigger: "manual") else {
            Issue.record("still paused")
            return
        }
        try deployer.store.request("default", target: ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web"), .promote, revision: revision.number)
        guard case .deployed(let done, _) = try await deployer.sync(v2, source: source, live: bed.liveReader, trigger: "manual") else {
            Issue.record("promoted")
            return
        }
        #expect(done.number == revision.number, "the paused revision is the one deployed")
        #expect(try await bed.image() == "registry.example/web:2")
    }

    @Test("a resumed canary continues at its step, with its step start and measurements")
    func resume() async throws {
        let steps = "      - setWeight: 25\n      - pause: {duration: 60s}\n      - analysis: {templates: [{templateName: gate}]}"
        let extra = [strategy(steps), template(scriptedGate)]
        let provider = ScriptedProvider([.values([0.995])])
        let (bed, deployer) = try await deployedV1(extra, providers: ["prometheus": provider])
        let v2 = try bed.load([shop, web(replicas: 4, image: "registry.example/web:2")] + extra)
        // A sync that died during the analysis, after one measurement, its lease expired.
        let plan = try await bed.plan(v2)
        let store = deployer.store
        let pending = try store.begin(
            Revision(application: "default", number: 0, status: .pending, commit: nil, source: "test", path: "manifests", digest: ManifestArchive.digest(v2.resources), trigger: "manual", description: plan.summary.line(), startedAt: bed.clock.now()),
            manifests: ManifestArchive.encode(v2.resources))
        var progress = CanaryProgress(target: ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web"), stepCount: 3, now: bed.clock.now() - 5)
        progress.step = 2
        progress.weight = 25
        progress.measurements = [AnalysisMeasurement(metric: "rate", at: bed.clock.now() - 1, phase: .successful, values: [0.995], message: "")]
        _ = try store.acquire("default", holder: "dead@host", revision: pending.number, now: bed.clock.now() - 60, seconds: 30)
        try store.checkpoint("default", holder: "dead@host", now: bed.clock.now() - 60, seconds: 30, state: "{\"revision\":\(pending.number),\"canaries\":[\(JSONWriter().write(progress.value))]}", revision: pending.number)

        let log = CanaryLog()
        let outcome = try await deployer.sync(v2, source: source, live: bed.liveReader, trigger: "manual") { log.record($0) }
        guard case .deployed(let revision, _) = outcome else {
            Issue.record("the resumed canary should finish: \(outcome)")
            return
        }
        #expect(revision.number == pending.number)
        #expect(log.lines.first == "step 2 Progressing weight 25", "no step before the analysis is run again: \(log.lines)")
        #expect(provider.calls == 2, "the analysis needed 3 measurements and had 1")
    }

    @Test("analysis rules: inconclusive pauses, no data follows noData, errors beyond the limit fail", arguments: [
        ([ScriptedProvider.Answer.values([0.95])], "inconclusive", "inconclusive"),
        ([.values([])], "inconclusive", "inconclusive"),
        ([.values([])], "fail", "failed"),
        ([.values([])], "pass", "successful"),
        ([.values([0.5])], "inconclusive", "failed"),
        ([.error("connection refused")], "inconclusive", "failed"),
        ([.error("timeout"), .values([0.999])], "inconclusive", "successful"),
    ] as [([ScriptedProvider.Answer], String, String)])
    func rules(_ answers: [ScriptedProvider.Answer], _ noData: String, _ expected: String) async throws {
        let gate = scriptedGate + "\n      noData: \(noData)\n      consecutiveErrorLimit: 2"
        let set = set([template(gate), strategy("      - analysis: {templates: [{templateName: gate}]}"), web()])
        let strategy = try #require(CanaryStrategies.read(set).strategies.values.first)
        guard case .analysis(let templates, _) = strategy.steps[0] else { return }
        let clock = ManualClock()
        let driver = SyncDriver(now: { clock.now() }, pass: { clock.advance(by: max($0, 0.01)) })
        let runner = AnalysisRunner(providers: ["prometheus": ScriptedProvider(answers)], driver: driver)
        let outcome = try await runner.run(templates[0].metrics)
        switch (outcome, expected) {
        case (.successful, "successful"), (.failed, "failed"), (.inconclusive, "inconclusive"): break
        default: Issue.record("\(answers) with noData \(noData): \(outcome), expected \(expected)")
        }
    }
}

@Suite("Canaries: inconclusive gates, StatefulSets, web gates")
struct MoreCanaryTests {
    @Test("an inconclusive analysis pauses the canary for a person; promote lets it through")
    func inconclusive() async throws {
        let steps = "      - setWeight: 50\n      - analysis: {templates: [{templateName: gate}]}"
        let extra = [strategy(steps), template(scriptedGate)]
        let bed = try await PlanBed()
        let deployer = try bed.deployer(providers: ["prometheus": ScriptedProvider([.values([0.95])])])
        _ = try await deployer.sync(try bed.load([shop, web(replicas: 2, image: "registry.example/web:1")] + extra), source: source, live: bed.liveReader, trigger: "manual")
        let v2 = try bed.load([shop, web(replicas: 2, image: "registry.example/web:2")] + extra)
        guard case .paused(let paused, let result) = try await deployer.sync(v2, source: source, live: bed.liveReader, trigger: "manual") else {
            Issue.record("0.95 is neither ≥ 0.99 nor < 0.9: the canary waits")
            return
        }
        #expect(result.outcome == .paused("canary of apps/Deployment/shop/web analysis inconclusive at step 2: metric rate was inconclusive 3 times (inconclusiveLimit 0); promote or abort"))
        try deployer.store.request("default", target: ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web"), .promote, revision: paused.number)
        guard case .deployed = try await deployer.sync(v2, source: source, live: bed.liveReader, trigger: "manual") else {
            Issue.record("promoted past the inconclusive analysis")
            return
        }
        #expect(try await bed.image() == "registry.example/web:2")
    }

    @Test("a StatefulSet's canary: a second StatefulSet beside it, promoted into the stable one")
    func statefulSet() async throws {
        func database(_ image: String) -> Value {
            var object = web(replicas: 3, image: image)
            object.set("StatefulSet", at: ["kind"])
            object.set("db", at: ["metadata", "name"])
            object.set("db", at: ["spec", "serviceName"])
            return object
        }
        let steps = "      - setWeight: 34\n      - pause: {duration: 5s}"
        var sts = strategy(steps)
        sts.set(["kind": "StatefulSet", "name": "db"], at: ["spec", "targetRef"])
        sts.set("db", at: ["metadata", "name"])
        let bed = try await PlanBed()
        let deployer = try bed.deployer()
        _ = try await deployer.sync(try bed.load([shop, database("registry.example/db:1"), sts]), source: source, live: bed.liveReader, trigger: "manual")
        let log = CanaryLog()
        let outcome = try await deployer.sync(try bed.load([shop, database("registry.example/db:2"), sts]), source: source, live: bed.liveReader, trigger: "manual") {
            log.record($0)
        }
        guard case .deployed = outcome else {
            Issue.record("promoted: \(outcome)")
            return
        }
        #expect(log.lines.contains("step 0 Progressing weight 34"))
        let db = try await bed.cluster.get(ResourceID(group: "apps", version: "v1", kind: "StatefulSet", namespace: "shop", name: "db"))
        #expect(db[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.first?["image"] == "registry.example/db:2")
        #expect(db[path: ["spec", "replicas"]] == 3)
        await #expect(throws: ClusterError.self) { try await bed.cluster.get(ResourceID(group: "apps", version: "v1", kind: "StatefulSet", namespace: "shop", name: "db-canary")) }
    }
}

extension CanaryTests {
    static let webID = ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web")
    static let canaryID = ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web-canary")

    @Test("abort while a canary waits at a weight step for pods that never get ready: aborted at once, not at the wave timeout")
    func abortAtWeightStep() async throws {
        let steps = "      - setWeight: 34\n      - pause: {}"
        let extra = [strategy(steps)]
        let (bed, deployer) = try await deployedV1(extra)
        var stuck = web(replicas: 3, image: "registry.example/web:2")
        stuck.set(["sim.windlass.dev/never-ready": "true"], at: ["spec", "template", "metadata", "annotations"])
        let store = deployer.store
        let started = bed.clock.now()
        let outcome = try await deployer.sync(try bed.load([shop, stuck] + extra), source: source, live: bed.liveReader, trigger: "manual") { event in
            // The request arrives while the step waits for the canary's pods.
            if case .canary(let progress) = event, progress.weight == 34, let operation = try? store.operation("default") {
                try? store.request("default", target: Self.webID, RolloutRequest.abort, revision: operation.revision)
            }
        }
        guard case .failed(let revision, _, _) = outcome else {
            Issue.record("the abort should end the canary: \(outcome)")
            return
        }
        #expect(revision.message?.contains("aborted by request") == true, "\(revision.message ?? "")")
        #expect(bed.clock.now() - started < 30, "aborted \(bed.clock.now() - started) s (virtual) after the release began; the wave timeout is 300 s")
        await #expect(throws: ClusterError.self) { try await bed.cluster.get(Self.canaryID) }
    }

    @Test("canary pods in CrashLoopBackOff or ImagePullBackOff fail the canary at the weight step, with the reason")
    func crashLoopAtWeightStep() async throws {
        for annotation in ["sim.windlass.dev/crash-loop", "sim.windlass.dev/image-pull-error"] {
            let extra = [strategy("      - setWeight: 34\n      - pause: {}")]
            let (bed, deployer) = try await deployedV1(extra)
            var broken = web(replicas: 3, image: "registry.example/web:2")
            broken.set("true", at: ["spec", "template", "metadata", "annotations", annotation])
            let started = bed.clock.now()
            let outcome = try await deployer.sync(try bed.load([shop, broken] + extra), source: source, live: bed.liveReader, trigger: "manual")
            guard case .failed(let revision, _, let rollback) = outcome else {
                Issue.record("\(annotation): the canary should fail: \(outcome)")
                continue
            }
            #expect(revision.message?.contains("canary pod web-canary-") == true && revision.message?.contains("will not start") == true, "\(revision.message ?? "")")
            #expect(rollback != nil)
            #expect(bed.clock.now() - started < 60, "\(annotation): failed \(bed.clock.now() - started) s (virtual) after the release began")
            #expect(try await bed.image() == "registry.example/web:1")
        }
    }

    @Test("a request belongs to its revision: a release superseding a paused canary is not aborted by the old request, and the old canary workload goes")
    func requestsEndWithTheirRevision() async throws {
        let extra = [strategy("      - setWeight: 34\n      - pause: {}")]
        let (bed, deployer) = try await deployedV1(extra)
        guard case .paused(let paused, _) = try await deployer.sync(
            try bed.load([shop, web(replicas: 3, image: "registry.example/web:2")] + extra), source: source, live: bed.liveReader, trigger: "manual")
        else {
            Issue.record("v2 should pause")
            return
        }
        #expect(try await bed.cluster.get(Self.canaryID)[path: ["spec", "replicas"]] == 1)
        try deployer.store.request("default", target: Self.webID, .abort, revision: paused.number)
        // Another commit supersedes the paused revision before its sync takes the request.
        let outcome = try await deployer.sync(
            try bed.load([shop, web(replicas: 3, image: "registry.example/web:3")] + extra), source: source, live: bed.liveReader, trigger: "manual")
        guard case .paused(let next, _) = outcome else {
            Issue.record("v3's canary should pause as its strategy says, not be aborted by v2's request: \(outcome)")
            return
        }
        #expect(next.number == paused.number + 1)
        let old = try deployer.store.revision("default", paused.number)
        #expect(old?.status == .failed && old?.message?.contains("superseded") == true && old?.message?.contains("canary workloads were removed") == true, "\(old?.message ?? "")")
        #expect(try deployer.store.takeRequest("default", target: Self.webID, revision: next.number) == nil)

        // A plain release (no strategy) supersedes v3's paused canary: no canary workload is left.
        let plain = try await deployer.sync(
            try bed.load([shop, web(replicas: 3, image: "registry.example/web:4")]), source: source, live: bed.liveReader, trigger: "manual")
        guard case .deployed = plain else {
            Issue.record("the plain release should deploy: \(plain)")
            return
        }
        await #expect(throws: ClusterError.self) { try await bed.cluster.get(Self.canaryID) }
        #expect(try await bed.image() == "registry.example/web:4")
        #expect(try await bed.cluster.get(Self.webID)[path: ["spec", "replicas"]] == 3)
    }
}
