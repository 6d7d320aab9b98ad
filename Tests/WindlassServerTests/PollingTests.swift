import Foundation
import Testing
import WindlassGit
import WindlassPipeline
import WindlassTesting
@testable import WindlassServer

@Suite("The daemon's polling", .serialized)
struct PollingTests {
    @Test("drift checks more frequent than polls do not hold polling back: a new commit is seen on the next poll")
    func driftDoesNotStarvePolling() async throws {
        let bed = try await InProcessDaemon(files: ["manifests/cm.yaml": configMapYAML("settings")]) {
            $0.interval = 1
            $0.drift = .interval(seconds: 0.25)
        }
        defer { Task { await bed.stop() } }
        try await bed.wait("the first sync", timeout: 300) { $0.syncedRevision != nil }
        // The watcher's own count: the reconciler may be busy with drift checks on a loaded machine.
        let before = await bed.reconciler.watcher.fetchCount
        try await Task.sleep(for: .seconds(5))
        let fetches = await bed.reconciler.watcher.fetchCount - before
        // Every 1 s (+ up to 10 %) after the last fetch: four polls in 5 s, whatever the drift
        // checks do (polling used to stop altogether).
        #expect(fetches >= 2, "\(fetches) polls in 5 s with an interval of 1 s")
        #expect(await bed.reconciler.status.drift != nil)

        let second = try bed.commit(["manifests/cm.yaml": configMapYAML("settings", data: "changed")], message: "two")
        try await bed.wait("the new commit synced", timeout: 30) { $0.syncedRevision == second }
        await bed.stop()
    }

    @Test("without automated sync, polls only report the head as out of sync; a manual sync syncs it")
    func manualSyncWithoutAutomation() async throws {
        let bed = try await InProcessDaemon(files: ["manifests/cm.yaml": configMapYAML("settings")]) {
            $0.automated = false
            $0.interval = 0.2
        }
        defer { Task { await bed.stop() } }
        let head = try bed.repository.git(["rev-parse", "HEAD"])
        try await bed.wait("three polls") { $0.fetches >= 3 }
        #expect(await bed.reconciler.status.syncStatus == .outOfSync)
        #expect(await bed.reconciler.status.lastSync == nil, "a poll never syncs an application without automated sync")

        bed.reconciler.syncNow()
        let synced = try await bed.wait("the manual sync") { $0.lastSync != nil }
        #expect(synced.lastSync?.outcome == .synced)
        #expect(synced.syncedRevision == head)
        await bed.stop()
    }
}
