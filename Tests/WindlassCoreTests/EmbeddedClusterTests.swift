import Foundation
import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassTesting

@Suite("The embedded cluster, durable in SQLite")
struct EmbeddedClusterTests {
    @Test("objects and the resourceVersion survive closing and reopening")
    func reopen() async throws {
        let state = try TemporaryDirectory()
        var cluster: EmbeddedCluster? = try EmbeddedCluster(stateDirectory: state.path, clock: ManualClock())
        _ = try await cluster!.apply(namespace("shop"), options: windlass)
        let applied = try await cluster!.apply(deployment(), options: windlass)
        _ = try await cluster!.apply(object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone, namespace: shop}"), options: windlass)
        try await cluster!.delete(id("ConfigMap", "gone", group: ""), propagation: .background, dryRun: false)
        let version = await cluster!.resourceVersion
        cluster = nil

        let reopened = try EmbeddedCluster(stateDirectory: state.path, clock: ManualClock())
        #expect(try await reopened.get(id("Deployment", "web")) == applied)
        #expect(await reopened.resourceVersion == version)
        await #expect(throws: ClusterError.self) { try await reopened.get(id("ConfigMap", "gone", group: "")) }
        // Managers survived too: the autoscaler's field still conflicts after the restart.
        var scaled = applied
        scaled.set(7, at: ["spec", "replicas"])
        _ = try await reopened.update(scaled, manager: "autoscaler")
        let next = try await reopened.apply(deployment(replicas: 7), options: windlass)
        #expect(Int(next[path: ["metadata", "resourceVersion"]]?.stringValue ?? "") ?? 0 > version)
        let original = try deployment(replicas: 3)
        do {
            _ = try await reopened.apply(original, options: windlass)
            Issue.record("expected a conflict")
        } catch {
            #expect(error.code == .conflict)
        }
    }

    @Test("a second owner of the state directory is refused, naming the owner's pid")
    func lock() async throws {
        let state = try TemporaryDirectory()
        let first = try EmbeddedCluster(stateDirectory: state.path)
        do {
            _ = try EmbeddedCluster(stateDirectory: state.path)
            Issue.record("expected the directory to be locked")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message == "the state directory \(state.path) is in use by process \(getpid()); stop it, or use another --state-dir")
        }
        _ = first
    }

    @Test("a corrupt state database is a clear error")
    func corrupt() throws {
        let state = try TemporaryDirectory()
        try state.write("cluster.sqlite", String(repeating: "not a database ", count: 400))
        do {
            _ = try EmbeddedCluster(stateDirectory: state.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("state database \(state.path)/cluster.sqlite is corrupt"), "\(error.message)")
        }
    }

    @Test("an empty (truncated) state database is an error naming it, never a fresh cluster; the state is private")
    func truncated() async throws {
        let parent = try TemporaryDirectory()
        let state = parent.path + "/state"
        do {
            let cluster = try EmbeddedCluster(stateDirectory: state, clock: ManualClock())
            _ = try await cluster.apply(namespace("shop"), options: windlass)
        }
        var info = stat()
        #expect(stat(state, &info) == 0 && info.st_mode & 0o777 == 0o700)
        #expect(stat(state + "/cluster.sqlite", &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(stat(state + "/lock", &info) == 0 && info.st_mode & 0o777 == 0o600)
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: state).filter { $0.contains(".new-") }.isEmpty)

        #expect(truncate(state + "/cluster.sqlite", 0) == 0)
        do {
            _ = try EmbeddedCluster(stateDirectory: state, clock: ManualClock())
            Issue.record("expected an error")
        } catch {
            #expect(error.message.hasPrefix("the state database \(state)/cluster.sqlite is empty (0 bytes)"), "\(error.message)")
        }
        // Still empty: nothing was created in its place.
        #expect(stat(state + "/cluster.sqlite", &info) == 0 && info.st_size == 0)
    }

    @Test("a state database truncated or replaced while the cluster runs: writes fail naming it, nothing is recreated")
    func truncatedWhileOpen() async throws {
        for damage in ["truncated to 0 bytes", "replaced by another file"] {
            let state = try TemporaryDirectory()
            let path = state.path + "/cluster.sqlite"
            let cluster = try EmbeddedCluster(stateDirectory: state.path, clock: ManualClock())
            _ = try await cluster.apply(namespace("shop"), options: windlass)
            if damage.hasPrefix("truncated") {
                #expect(truncate(path, 0) == 0)
            } else {
                #expect(rename(path, path + ".moved") == 0)
                #expect(FileManager.default.createFile(atPath: path, contents: Data("not this one".utf8)))
            }
            var info = stat()
            let sizeBefore = stat(path, &info) == 0 ? info.st_size : -1
            do {
                _ = try await cluster.apply(namespace("other"), options: windlass)
                Issue.record("expected the write to fail (\(damage))")
            } catch {
                #expect("\(error)" == "the state database \(path) was \(damage) while in use; nothing was written (restore it, then restart, which reads it again)")
            }
            // Nothing was written into the damaged file, and no fresh cluster was made in it.
            #expect(stat(path, &info) == 0 && info.st_size == sizeBefore, "\(damage)")
        }
    }

    @Test("a reconcile with a spent budget stops between rounds and says the rest is due now")
    func reconcileBudget() async throws {
        let state = try TemporaryDirectory()
        let clock = ManualClock()
        let cluster = try EmbeddedCluster(stateDirectory: state.path, clock: clock)
        try await cluster.createNodes(count: 2, cpu: "8", memory: "32Gi")
        _ = try await cluster.apply(namespace("shop"), options: windlass)
        _ = try await cluster.apply(deployment(replicas: 4), options: windlass)
        let cut = try #require(try await cluster.reconcile(budget: 0))
        #expect(cut <= clock.now(), "work is left, due at once")
        // Unbounded, it goes on until only timed work (pods starting) is left.
        let due = try await cluster.reconcile()
        #expect(due.map { $0 > clock.now() } ?? true)
        #expect(try await cluster.list(GroupKind(group: "", kind: "Pod"), namespace: "shop", selector: LabelSelector()).items.count == 4)
    }

    @Test("watches see every change in order, filtered by kind and namespace, from a resourceVersion")
    func watches() async throws {
        let state = try TemporaryDirectory()
        let cluster = try EmbeddedCluster(stateDirectory: state.path, clock: ManualClock())
        _ = try await cluster.apply(namespace("shop"), options: windlass)
        let start = await cluster.resourceVersion
        _ = try await cluster.apply(deployment("early"), options: windlass)
        let stream = try await cluster.watch(GroupKind(group: "apps", kind: "Deployment"), namespace: "shop", since: String(start))
        _ = try await cluster.apply(object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}"), options: windlass)
        _ = try await cluster.apply(deployment("late"), options: windlass)
        _ = try await cluster.apply(deployment("late", replicas: 1), options: windlass)
        try await cluster.delete(id("Deployment", "early"), propagation: .background, dryRun: false)
        var seen: [(ClusterWatchEvent.Kind, String)] = []
        for await event in stream {
            seen.append((event.kind, event.object[path: ["metadata", "name"]]?.stringValue ?? ""))
            if seen.count == 4 { break }
        }
        #expect(seen.map(\.0) == [.added, .added, .modified, .deleted])
        #expect(seen.map(\.1) == ["early", "late", "late", "early"])
    }
}

@Suite("Re-applying after a restart")
struct ReapplyAfterRestartTests {
    @Test("the same apply after reopening the state changes nothing")
    func idempotentAcrossRestart() async throws {
        let state = try TemporaryDirectory()
        let clock = ManualClock()
        var cluster: EmbeddedCluster? = try EmbeddedCluster(stateDirectory: state.path, clock: clock)
        try await cluster!.createNodes(count: 1, cpu: "4", memory: "8Gi")
        _ = try await cluster!.apply(namespace("shop"), options: windlass)
        _ = try await cluster!.apply(deployment(), options: windlass)
        try await cluster!.reconcile()
        let before = try await cluster!.get(id("Deployment", "web"))
        cluster = nil
        let reopened = try EmbeddedCluster(stateDirectory: state.path, clock: clock)
        let after = try await reopened.apply(deployment(), options: windlass)
        #expect(after[path: ["metadata", "resourceVersion"]] == before[path: ["metadata", "resourceVersion"]])
    }
}
