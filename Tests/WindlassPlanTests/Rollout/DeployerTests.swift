import Testing
import WindlassTesting
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassPlan
import WindlassRollout

extension PlanBed {
    func deployer(holder: String = "test@host") throws -> Deployer {
        Deployer(store: try RevisionStore(stateDirectory: state.path), executor: executor, planner: planner, holder: holder)
    }

    var liveReader: (ManifestSet) async throws -> LiveSnapshot {
        { set in try await snapshot(set) }
    }

    func image(_ name: String = "web") async throws -> String? {
        let deployment = try await cluster.get(ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: name))
        return deployment[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.first?["image"]?.stringValue
    }
}

let source = Plan.Source(location: "test", path: "manifests", revision: "0123456789abcdef0123456789abcdef01234567")

@Suite("Revisions, history and rollback")
struct DeployerTests {
    @Test("each sync that changes the cluster is a revision; the previous deployed one is superseded; no change, no revision")
    func revisions() async throws {
        let bed = try await PlanBed()
        let deployer = try bed.deployer()
        let v1 = try bed.load([shop, web(image: "registry.example/web:1")])
        guard case .deployed(let first, _) = try await deployer.sync(v1, source: source, live: bed.liveReader, trigger: "manual") else {
            Issue.record("the first sync should deploy")
            return
        }
        #expect(first.number == 1 && first.status == .deployed && first.commit == source.revision)
        #expect(first.digest.hasPrefix("sha256:") && first.description == "Plan: 2 to add, 0 to change, 0 to destroy.")
        guard case .inSync = try await deployer.sync(v1, source: source, live: bed.liveReader, trigger: "manual") else {
            Issue.record("nothing changed")
            return
        }
        let v2 = try bed.load([shop, web(image: "registry.example/web:2")])
        _ = try await deployer.sync(v2, source: source, live: bed.liveReader, trigger: "auto")
        let history = try deployer.store.history("default")
        #expect(history.map(\.number) == [1, 2])
        #expect(history.map(\.status) == [.superseded, .deployed])
        #expect(history[1].trigger == "auto")
        #expect(history[1].results.contains("apps/Deployment/shop/web synced"))
        #expect(history[0].digest != history[1].digest)
    }

    @Test("rollback re-applies an earlier revision's manifests as a new revision; the default is the one before the deployed")
    func rollback() async throws {
        let bed = try await PlanBed()
        let deployer = try bed.deployer()
        for version in 1...3 {
            _ = try await deployer.sync(try bed.load([shop, web(image: "registry.example/web:\(version)")]), source: source, live: bed.liveReader, trigger: "manual")
        }
        #expect(try await bed.image() == "registry.example/web:3")
        let back = try await deployer.rollback(to: nil, live: bed.liveReader)
        #expect(back.number == 4 && back.description == "Rollback to 2" && back.trigger == "rollback")
        #expect(try await bed.image() == "registry.example/web:2")
        let first = try await deployer.rollback(to: 1, live: bed.liveReader)
        #expect(first.description == "Rollback to 1")
        #expect(try await bed.image() == "registry.example/web:1")
        await #expect(throws: Deployer.RollbackError.self) { try await deployer.rollback(to: 42, live: bed.liveReader) }
        #expect(try deployer.store.history("default").filter { $0.status == .deployed }.map(\.number) == [5])
    }

    @Test("a failed sync is a failed revision; --atomic restores the revision deployed before it")
    func atomic() async throws {
        let bed = try await PlanBed()
        let deployer = try bed.deployer()
        _ = try await deployer.sync(try bed.load([shop, web(replicas: 2, image: "registry.example/web:1")]), source: source, live: bed.liveReader, trigger: "manual")
        var broken = web(replicas: 2, image: "registry.example/web:2")
        broken.set(["sim.windlass.dev/never-ready": "true"], at: ["spec", "template", "metadata", "annotations"])
        let outcome = try await deployer.sync(try bed.load([shop, broken]), source: source, live: bed.liveReader, trigger: "manual", atomic: true)
        guard case .failed(let failed, _, let rollback?) = outcome else {
            Issue.record("the sync should fail and roll back: \(outcome)")
            return
        }
        #expect(failed.number == 2 && failed.status == .rolledBack)
        #expect(failed.message?.contains("did not become healthy") == true)
        #expect(rollback.number == 3 && rollback.description == "Rollback to 1" && rollback.trigger == "atomic")
        #expect(try await bed.image() == "registry.example/web:1")
        let statuses = try deployer.store.history("default").map { "\($0.number) \($0.status.rawValue)" }
        #expect(statuses == ["1 superseded", "2 rolled-back", "3 deployed"])
    }

    @Test("a live lease blocks a second sync; an expired one (a crashed sync) is taken over")
    func lease() async throws {
        let bed = try await PlanBed()
        let store = try RevisionStore(stateDirectory: bed.state.path)
        let now = bed.clock.now()
        #expect(try store.acquire("default", holder: "crashed@host", revision: 7, now: now, seconds: 30).acquired)
        let deployer = try bed.deployer()
        let set = try bed.load([shop, web()])
        await #expect(throws: Deployer.Busy.self) { try await deployer.sync(set, source: source, live: bed.liveReader, trigger: "manual") }
        bed.clock.advance(by: 31)
        guard case .deployed = try await deployer.sync(set, source: source, live: bed.liveReader, trigger: "manual") else {
            Issue.record("the expired lease should be taken over")
            return
        }
        #expect(try store.operation("default") == nil, "released when done")
    }

    @Test("history keeps the last N revisions and never drops the deployed one")
    func trimming() throws {
        let state = try TemporaryDirectory()
        let store = try RevisionStore(stateDirectory: state.path, historyLimit: 3)
        func record(_ status: Revision.Status) throws {
            let revision = try store.begin(
                Revision(application: "a", number: 0, status: .pending, commit: nil, source: "s", path: "p", digest: "d", trigger: "manual", description: "x", startedAt: 0),
                manifests: "")
            var done = revision
            done.status = status
            try store.finish(done)
        }
        try record(.deployed)
        for _ in 0..<5 { try record(.failed) }
        #expect(try store.history("a").map(\.number) == [1, 5, 6])
        #expect(try store.deployed("a")?.number == 1)
    }
}
