import Foundation
import Synchronization
import Testing
import WindlassCluster
import WindlassManifest
import WindlassPipeline
import WindlassPlan
import WindlassPolicy
import WindlassRollout
import WindlassTesting

/// A clock that moves only when a sync waits: the memory cluster's controllers are instant.
final class VirtualClock: Sendable {
    private let time = Mutex(1_800_000_000.0)
    var now: Double { time.withLock { $0 } }
    func pass(_ seconds: Double) { time.withLock { $0 += max(seconds, 0.001) } }
}

/// A repository of manifests and the pipeline of its application over a ``MemoryCluster``:
/// every test here runs the pipeline over a backend that is not the embedded cluster.
struct PipelineBed {
    let repository: GitFixture
    let state: TemporaryDirectory
    let cluster = MemoryCluster()
    let clock = VirtualClock()

    init() throws {
        repository = try GitFixture()
        state = try TemporaryDirectory()
    }

    func pipeline(policies: Application.PolicySource = .none, revision: String? = nil) -> ApplicationPipeline {
        let clock = self.clock
        let connection = ClusterConnection(
            backend: cluster, driver: SyncDriver(now: { clock.now }, pass: { clock.pass($0) }), displayName: "the memory cluster")
        let application = Application(
            name: "shop", source: Application.Source(repository: repository.path, revision: revision),
            destination: Application.Destination(cluster: "memory", namespace: "shop"), policies: policies)
        return ApplicationPipeline(application: application, cluster: connection, stateDirectory: state.path, holder: "test@host")
    }

    @discardableResult
    func commit(_ files: [String: String], message: String = "change") throws -> String {
        for (path, contents) in files { _ = try repository.write(path, contents) }
        return try repository.commit(message)
    }
}

func deployment(_ name: String, image: String, replicas: Int = 2, privileged: Bool = false) -> String {
    """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: \(name), namespace: shop}
    spec:
      replicas: \(replicas)
      selector: {matchLabels: {app: \(name)}}
      template:
        metadata: {labels: {app: \(name)}}
        spec:
          containers:
            - name: \(name)
              image: \(image)
    \(privileged ? "          securityContext: {privileged: true}" : "")
    """
}

let namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"


let webID = ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web")

@Suite("The application pipeline over a second cluster backend")
struct PipelineTests {
    @Test("a forecast that cannot be made says why, and the plan still stands: no twin, no cluster (--no-live), a list RBAC refuses")
    func forecastMissing() async throws {
        let bed = try PipelineBed()
        try bed.commit(["manifests/ns.yaml": namespace, "manifests/web.yaml": deployment("web", image: "web:1")])
        var pipeline = bed.pipeline()
        let report = try await pipeline.plan()
        #expect(await pipeline.forecast(report) == .missing("this process cannot make a twin of the cluster"))

        let made = Mutex(0)
        pipeline.twinFactory = { (_: TwinState) throws(ClusterError) -> any SimulatedCluster in
            made.withLock { $0 += 1 }
            throw ClusterError(.internalError, "not to be called")
        }
        var noLive = report
        noLive.live = nil
        #expect(await pipeline.forecast(noLive) == .missing("the plan was made without a cluster (--no-live): there is nothing to copy into a twin"))

        await bed.cluster.refuseLists(of: GroupKind(group: "", kind: "Node"))
        let refused = try await pipeline.plan(forecasting: true)
        #expect(refused.plan.summary.add == 2, "the plan stands")
        #expect(
            refused.forecast
                == .missing("reading the memory cluster for its twin: nodes is forbidden: User \"ci\" cannot list resource \"nodes\" at the cluster scope"))
        #expect(made.withLock { $0 } == 0, "no twin is made from part of the cluster")
        let text = TextRenderer().render(refused)
        #expect(text.contains("\nForecast: none: reading the memory cluster for its twin: nodes is forbidden"))
        #expect(text.hasSuffix("Plan: 2 to add, 0 to change, 0 to destroy.\n"))
        let json = JSONRenderer(windlassVersion: "test").render(refused)
        #expect(json.contains(#""forecast":{"available":false,"reason":"reading the memory cluster for its twin: nodes is forbidden"#))
    }

    @Test("plan, sync, a second plan with nothing to do, drift made by another client, and the sync that heals it")
    func syncAndDrift() async throws {
        let bed = try PipelineBed()
        let sha = try bed.commit(["manifests/ns.yaml": namespace, "manifests/web.yaml": deployment("web", image: "web:1")])
        let pipeline = bed.pipeline()

        let first = try await pipeline.plan()
        #expect(first.plan.source.revision == sha)
        #expect(first.plan.summary.add == 2 && first.plan.summary.change == 0)

        let outcome = try await pipeline.sync(try await pipeline.render(), trigger: "manual")
        guard case .deployed(let revision, _) = outcome else {
            Issue.record("expected a deployed revision, got \(outcome)")
            return
        }
        #expect(revision.number == 1 && revision.commit == sha && revision.trigger == "manual")
        #expect(await bed.cluster.writes == ["apply Namespace/shop", "apply Deployment/web"])
        #expect(try await pipeline.plan().plan.summary.hasChanges == false)
        #expect(await pipeline.health() == .healthy)

        let (clean, _) = try await pipeline.drift(try await pipeline.render())
        #expect(!clean.hasDrift)

        try await bed.cluster.edit(webID) { $0.set(.int(5), at: ["spec", "replicas"]) }
        let (drifted, _) = try await pipeline.drift(try await pipeline.render(sha, fetchingMissingOnly: true))
        #expect(drifted.hasDrift)
        #expect(drifted.items.map(\.id) == [webID])

        guard case .deployed(let healed, _) = try await pipeline.sync(try await pipeline.render(), trigger: "self-heal") else {
            Issue.record("the heal should deploy a revision")
            return
        }
        #expect(healed.number == 2 && healed.trigger == "self-heal")
        #expect(try await bed.cluster.get(webID)[path: ["spec", "replicas"]]?.intValue == 2)
        #expect(try pipeline.revisions().history("shop").map(\.status) == [.superseded, .deployed])
    }

    @Test("Secret masks are keyed by the state directory: alike across plans of one installation, different in another, the key file private")
    func secretMasks() async throws {
        let bed = try PipelineBed()
        try bed.commit(["manifests/s.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\nstringData: {password: hunter2}\n"])
        func mask(_ pipeline: ApplicationPipeline) async throws -> String? {
            let report = try await pipeline.plan()
            return report.plan.changes.first?.after?[path: ["stringData", "password"]]?.stringValue
        }
        let first = try #require(try await mask(bed.pipeline()))
        #expect(first.hasPrefix("*** (hmac:") && !first.contains("hunter2"))
        #expect(try await mask(bed.pipeline()) == first, "the same installation masks alike")
        var info = stat()
        #expect(stat(bed.state.path + "/secret-mask.key", &info) == 0 && info.st_mode & 0o777 == 0o600 && info.st_size == 32)
        // Another state directory has its own key.
        var other = bed.pipeline()
        let elsewhere = try TemporaryDirectory()
        other.stateDirectory = elsewhere.path
        #expect(try await mask(other) != first)
    }

    @Test("manifests with an error stop every operation with the located error, and nothing is applied or recorded")
    func invalidManifests() async throws {
        let bed = try PipelineBed()
        try bed.commit(["manifests/web.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: [unclosed\n"])
        let pipeline = bed.pipeline()
        do {
            _ = try await pipeline.plan()
            Issue.record("the plan should stop")
        } catch {
            #expect(error.code == .manifests)
            #expect(error.diagnostics.first?.description.hasPrefix("manifests/web.yaml") == true, "\(error.diagnostics)")
            #expect(error.message == "stopped: 1 error in the manifests; nothing was compared")
        }
        await #expect(throws: PipelineError.self) { try await pipeline.sync(try await pipeline.render(), trigger: "manual") }
        #expect(await bed.cluster.writes.isEmpty)
        #expect(try pipeline.revisions().history("shop").isEmpty)
    }

    @Test("an Enforce policy refuses the sync before anything is applied; the plan carries the verdicts")
    func policyRefusal() async throws {
        let bed = try PipelineBed()
        let refused = try bed.commit([
            "manifests/ns.yaml": namespace, "manifests/web.yaml": deployment("web", image: "web:1", privileged: true), "policies/no-privileged.yaml": privilegedPolicyYAML,
        ])
        let pipeline = bed.pipeline(policies: .directory(bed.repository.path + "/policies"))
        let plan = try await pipeline.plan()
        #expect(plan.deniedByPolicy)
        #expect(plan.policies?.findings.map(\.policy) == ["no-privileged"])
        #expect(TextRenderer().render(plan).contains("A sync of this plan is refused"))
        await #expect(throws: Deployer.PolicyDenied.self) { try await pipeline.sync(try await pipeline.render(), trigger: "manual") }
        #expect(await bed.cluster.writes.isEmpty)
        #expect(try pipeline.revisions().history("shop").isEmpty)
        // Whoever syncs (the CLI here), the refused commit is recorded: auto-sync leaves it alone.
        #expect(pipeline.failedCommit() == refused)
        // A commit that syncs clears it.
        try bed.commit(["manifests/web.yaml": deployment("web", image: "web:1")])
        guard case .deployed = try await pipeline.sync(try await pipeline.render(), trigger: "manual") else {
            Issue.record("the fixed commit should deploy")
            return
        }
        #expect(pipeline.failedCommit() == nil)
    }

    @Test("an application's policies are read from its repository at the commit synced: each commit by its own; required ones must be there")
    func policiesAtTheCommit() async throws {
        let bed = try PipelineBed()
        let pipeline = bed.pipeline(policies: .repository(path: "policies", required: true))
        // The first commit has no policies/ yet: a required directory that is missing stops it.
        try bed.commit(["manifests/ns.yaml": namespace, "manifests/web.yaml": deployment("web", image: "web:1", privileged: true)])
        do {
            _ = try await pipeline.plan()
            Issue.record("a missing required policies directory must stop the plan")
        } catch {
            #expect(error.code == .policies && error.description.contains("the policies directory policies is not in"), "\(error)")
        }
        // The commit that adds the rule is judged by it; the plan says where it came from.
        let ruled = try bed.commit(["policies/no-privileged.yaml": privilegedPolicyYAML])
        let plan = try await pipeline.plan()
        #expect(plan.deniedByPolicy)
        #expect(plan.policies?.source == "policies/ at \(ruled.prefix(7))", "\(plan.policies?.source ?? "none")")
        // A later commit that loosens it is judged by the loosened rule, at that commit.
        try bed.commit(["policies/no-privileged.yaml": privilegedPolicyYAML.replacingOccurrences(of: "Enforce", with: "Audit")])
        #expect(try await pipeline.plan().deniedByPolicy == false)
        // An older commit is still judged by its own.
        #expect(try await pipeline.plan(ruled).deniedByPolicy)
    }

    @Test("a policy file with an error stops the plan with its location, before the cluster is read")
    func invalidPolicy() async throws {
        let bed = try PipelineBed()
        try bed.commit(["manifests/web.yaml": deployment("web", image: "web:1"), "policies/broken.yaml": "apiVersion: windlass.dev/v1\nkind: Policy\nmetadata: {name: broken}\nspec: {rules: 3}\n"])
        let pipeline = bed.pipeline(policies: .directory(bed.repository.path + "/policies"))
        do {
            _ = try await pipeline.plan()
            Issue.record("the plan should stop")
        } catch {
            #expect(error.code == .policies)
            #expect(error.diagnostics.contains { $0.description.contains("broken.yaml") }, "\(error.diagnostics)")
        }
    }

    @Test("a pull request is judged by its base's policies: loosening them in the same pull request does not pass")
    func pullRequestJudgedByBase() async throws {
        let bed = try PipelineBed()
        try bed.commit(["manifests/web.yaml": deployment("web", image: "web:1"), "policies/no-privileged.yaml": privilegedPolicyYAML], message: "base")
        _ = try bed.repository.git(["branch", "base"])
        try bed.commit(
            [
                "manifests/web.yaml": deployment("web", image: "web:2", privileged: true),
                "policies/no-privileged.yaml": privilegedPolicyYAML.replacingOccurrences(of: "Enforce", with: "Audit"),
            ], message: "head")
        let pipeline = bed.pipeline(policies: .convention)
        let report = try await pipeline.pullRequestPlan(base: "base", head: "HEAD")
        #expect(report.deniedByPolicy)
        #expect(report.policies?.source?.hasPrefix("policies/ at ") == true)
        #expect(report.plan.warnings.contains { $0.contains("changes 1 file under policies/") })
        #expect(report.plan.manifestChanges?.map(\.id) == [webID])
        #expect(await bed.cluster.writes.isEmpty)
    }

    @Test("a rollback applies the earlier revision as a new one and pins auto-sync at the given commit")
    func rollbackPins() async throws {
        let bed = try PipelineBed()
        try bed.commit(["manifests/ns.yaml": namespace, "manifests/web.yaml": deployment("web", image: "web:1")])
        let pipeline = bed.pipeline()
        _ = try await pipeline.sync(try await pipeline.render(), trigger: "manual")
        let head = try bed.commit(["manifests/web.yaml": deployment("web", image: "web:2")])
        _ = try await pipeline.sync(try await pipeline.render(), trigger: "auto-sync")
        let restored = try await pipeline.rollback(to: nil, pinnedAt: head)
        #expect(restored.number == 3 && restored.description == "Rollback to 1")
        let image = try await bed.cluster.get(webID)[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.first?["image"]
        #expect(image?.stringValue == "web:1")
        #expect(pipeline.pinnedCommit() == head)
        pipeline.unpin()
        #expect(pipeline.pinnedCommit() == nil)
    }

    @Test("a canary request with no rollout in progress is refused and recorded nowhere; a retry needs none")
    func rolloutRequest() async throws {
        let bed = try PipelineBed()
        try bed.commit(["manifests/ns.yaml": namespace, "manifests/web.yaml": deployment("web", image: "web:1")])
        let pipeline = bed.pipeline()
        _ = try await pipeline.sync(try await pipeline.render(), trigger: "manual")
        #expect(throws: NoRolloutInProgress.self) { try pipeline.request(.abort, for: webID) }
        #expect(try pipeline.revisions().takeRequest("shop", target: webID, revision: 1) == nil)
        #expect(try pipeline.request(.retry, for: webID) == nil)
        #expect(pipeline.canary(webID) == nil && pipeline.pendingRevision() == nil)
    }
}
