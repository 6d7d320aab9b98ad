import Foundation
import Logging
import Testing
import WindlassCore
import WindlassGit
import WindlassPipeline
import WindlassTesting
@testable import WindlassServer

@Suite("The daemon's polling", .serialized)
struct PollingTests {
    @Test("drift checks more frequent than polls do not hold polling back: a new commit is seen on the next poll")
    func driftDoesNotStarvePolling() async throws {
        let state = try TemporaryDirectory()
        let repository = try GitFixture()
        _ = try repository.write("manifests/cm.yaml", configMapYAML("settings"))
        _ = try repository.commit("one")
        let cluster = try EmbeddedCluster(stateDirectory: state.path + "/state")
        var config = DaemonConfig()
        config.server.port = 0
        var application = DaemonConfig.Application(name: "app", repository: repository.path)
        application.interval = 1
        application.drift = .interval(seconds: 0.25)
        config.applications = [application]
        let daemon = try Daemon(
            options: Daemon.Options(config: config, stateDirectory: state.path + "/state", log: DaemonLog(format: .text, level: .error)),
            cluster: .embedded(cluster))
        let running = Task { try await daemon.run() }
        defer { running.cancel() }
        let reconciler = try #require(daemon.reconcilers["app"])
        let first = ContinuousClock.now
        while await reconciler.status.syncedRevision == nil {
            #expect(ContinuousClock.now - first < .seconds(300))
            try await Task.sleep(for: .milliseconds(50))
        }
        // The watcher's own count: the reconciler may be busy with drift checks on a loaded machine.
        let before = await reconciler.watcher.fetchCount
        try await Task.sleep(for: .seconds(5))
        let fetches = await reconciler.watcher.fetchCount - before
        // Every 1 s (+ up to 10 %) after the last fetch: four polls in 5 s, whatever the drift
        // checks do (polling used to stop altogether).
        #expect(fetches >= 2, "\(fetches) polls in 5 s with an interval of 1 s")
        #expect(await reconciler.status.drift != nil)

        _ = try repository.write("manifests/cm.yaml", configMapYAML("settings", data: "changed"))
        let second = try repository.commit("two")
        let pushed = ContinuousClock.now
        while await reconciler.status.syncedRevision != second {
            if ContinuousClock.now - pushed > .seconds(30) {
                Issue.record("the new commit was not synced within 30 s of the push")
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        running.cancel()
        _ = await running.result
    }

    @Test("without automated sync, polls only report the head as out of sync; a manual sync syncs it")
    func manualSyncWithoutAutomation() async throws {
        let state = try TemporaryDirectory()
        let repository = try GitFixture()
        _ = try repository.write("manifests/cm.yaml", configMapYAML("settings"))
        let head = try repository.commit("one")
        let cluster = try EmbeddedCluster(stateDirectory: state.path + "/state")
        var config = DaemonConfig()
        config.server.port = 0
        var application = DaemonConfig.Application(name: "app", repository: repository.path)
        application.automated = false
        application.interval = 0.2
        config.applications = [application]
        let daemon = try Daemon(
            options: Daemon.Options(config: config, stateDirectory: state.path + "/state", log: DaemonLog(format: .text, level: .error)),
            cluster: .embedded(cluster))
        let running = Task { try await daemon.run() }
        defer { running.cancel() }
        let reconciler = try #require(daemon.reconcilers["app"])
        let started = ContinuousClock.now
        while await reconciler.status.fetches < 3 {
            #expect(ContinuousClock.now - started < .seconds(30))
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(await reconciler.status.syncStatus == .outOfSync)
        #expect(await reconciler.status.lastSync == nil, "a poll never syncs an application without automated sync")

        reconciler.syncNow()
        while await reconciler.status.lastSync == nil {
            #expect(ContinuousClock.now - started < .seconds(60))
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(await reconciler.status.lastSync?.outcome == .synced)
        #expect(await reconciler.status.syncedRevision == head)
        running.cancel()
        _ = await running.result
    }
}
