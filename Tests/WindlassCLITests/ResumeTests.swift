import Foundation
import Testing
import WindlassTesting

/// A `windlass sync` running in the background, its output going to a file.
final class RunningSync: @unchecked Sendable {
    let process = Process()
    let output: String

    /// Runs in `directory`, as a team runs it in its repository (no policies/ there).
    init(_ arguments: [String], output: String, in directory: String) throws {
        self.output = output
        FileManager.default.createFile(atPath: output, contents: nil)
        process.executableURL = URL(fileURLWithPath: CLI.executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle(forWritingAtPath: output)
        process.standardError = FileHandle(forWritingAtPath: output + ".err")
        try process.run()
    }

    var text: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A repository with one Deployment and a canary strategy, version 1 synced.
struct CanaryRepository {
    let repository: GitFixture
    let state: TemporaryDirectory

    static func manifests(image: String, steps: String, template: String = "") -> String {
        """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: web, image: "\(image)"}]}
        ---
        apiVersion: windlass.dev/v1
        kind: RolloutStrategy
        metadata: {name: web, namespace: shop}
        spec:
          targetRef: {kind: Deployment, name: web}
          canary:
            steps:
        \(steps)
        \(template)
        """
    }

    init(steps: String, template: String = "", application: String = "default") throws {
        repository = try GitFixture()
        state = try TemporaryDirectory()
        try repository.write("manifests/app.yaml", Self.manifests(image: "registry.example/web:1", steps: steps, template: template))
        try repository.commit("v1")
        try repository.write("manifests/app.yaml", Self.manifests(image: "registry.example/web:2", steps: steps, template: template))
        try repository.commit("v2")
        #expect(try CLI.run(["cluster", "init", "--state-dir", state.path]).status == 0)
        #expect(try windlass(["sync", "--ref", "HEAD~1", "--app", application]).status == 0)
    }

    func windlass(_ arguments: [String]) throws -> CommandResult {
        // Run where a team runs it: in its repository, which has no policies/ (the pack is judged elsewhere).
        try CLI.run(arguments + ["--source", repository.path, "--state-dir", state.path], in: repository.path)
    }

    func status() throws -> String {
        try CLI.run(["rollout", "status", "web", "-n", "shop", "--state-dir", state.path]).stdout
    }

    func startSync() throws -> RunningSync {
        try RunningSync(["sync", "--source", repository.path, "--state-dir", state.path], output: state.path + "/sync-\(UUID().uuidString).log", in: repository.path)
    }

    /// Polls `rollout status` until `condition` holds (up to 60 s); returns the last status.
    func waitForStatus(_ condition: (String) -> Bool) throws -> String {
        for _ in 0..<600 {
            let text = try status()
            if condition(text) { return text }
            usleep(100_000)
        }
        Issue.record("rollout status never matched; last:\n\(try status())")
        return try status()
    }
}

func line(_ prefix: String, in text: String) -> String? {
    text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
}

@Suite("kill -9 during a canary, then an exact resume")
struct ResumeTests {
    @Test("killed during a pause: the resumed sync continues the same step with the same start time, in the same revision")
    func pause() throws {
        let repo = try CanaryRepository(steps: "      - setWeight: 50\n      - pause: {duration: 8s}\n      - setWeight: 100")
        let first = try repo.startSync()
        let before = try repo.waitForStatus { $0.contains("Step:         2/3") }
        let started = try #require(line("Step started:", in: before))
        first.kill9()
        usleep(1_000_000)

        let second = try repo.startSync()
        let during = try repo.waitForStatus { $0.contains("Step:         3/3") || $0.contains("Step:         2/3") && $0.contains("Revision:") }
        if during.contains("Step:         2/3") {
            #expect(line("Step started:", in: during) == started, "the pause keeps its start time")
        }
        #expect(second.wait() == 0, "\(second.text)")
        let resumed = second.text
        #expect(!resumed.contains("step 1/3"), "step 1 is not run again:\n\(resumed)")
        #expect(resumed.contains("canary deployment.apps/web: step 2/3, weight 50%, Progressing"), "\(resumed)")
        #expect(resumed.contains("synced: revision 2 deployed"), "the same revision, resumed:\n\(resumed)")
        let history = try CLI.run(["history", "--state-dir", repo.state.path]).stdout
        #expect(history.split(separator: "\n").count == 3, "two revisions, no third:\n\(history)")
    }

    @Test("killed during an analysis: the measurements already taken count; only the missing ones are taken")
    func analysis() throws {
        let template = """
            ---
            apiVersion: windlass.dev/v1
            kind: AnalysisTemplate
            metadata: {name: ready, namespace: shop}
            spec:
              metrics:
                - name: ready
                  interval: 2s
                  count: 3
                  successCondition: result[0] == 1
                  provider: {health: {}}
            """
        let repo = try CanaryRepository(steps: "      - setWeight: 50\n      - analysis: {templates: [{templateName: ready}]}", template: template)
        let first = try repo.startSync()
        let before = try repo.waitForStatus { $0.components(separatedBy: " ready  Successful").count == 2 }
        first.kill9()
        #expect(before.contains("Step:         2/2"))

        let second = try repo.startSync()
        #expect(second.wait() == 0, "\(second.text)")
        let resumed = second.text
        #expect(resumed.components(separatedBy: "    ready: Successful").count - 1 == 2, "3 measurements in all, 1 before the kill:\n\(resumed)")
        #expect(!resumed.contains("step 1/2"), "\(resumed)")
        #expect(resumed.contains("synced: revision 2 deployed"), "\(resumed)")
    }

    @Test("killed while the canary's pods start: the resumed sync redoes that step's scaling (idempotent) and goes on")
    func setWeight() throws {
        let repo = try CanaryRepository(steps: "      - setWeight: 50\n      - pause: {duration: 1s}\n      - setWeight: 100")
        let first = try repo.startSync()
        _ = try repo.waitForStatus { $0.contains("Step:         1/3") && $0.contains("Weight:       50%") }
        first.kill9()
        let second = try repo.startSync()
        #expect(second.wait() == 0, "\(second.text)")
        let resumed = second.text
        #expect(resumed.contains("canary deployment.apps/web: step 1/3, weight 50%, Progressing"), "\(resumed)")
        #expect(!resumed.contains("weight 0%"), "the canary is not started from scratch:\n\(resumed)")
        #expect(resumed.contains("synced: revision 2 deployed"), "\(resumed)")
        let deployment = try CLI.run(["cluster", "get", "deployment", "web", "-n", "shop", "-o", "yaml", "--state-dir", repo.state.path]).stdout
        #expect(deployment.contains("image: registry.example/web:2") && deployment.contains("replicas: 2"))
        let canary = try CLI.run(["cluster", "get", "deployment", "web-canary", "-n", "shop", "--state-dir", repo.state.path])
        #expect(canary.status != 0, "the canary workload is gone after promotion")
    }
}

@Suite("windlass rollout verbs, and strategies refused at plan time")
struct RolloutVerbTests {
    @Test("pause until promoted: sync stops paused, status says so, promote resumes; abort rolls the release back")
    func promoteAndAbort() throws {
        let repo = try CanaryRepository(steps: "      - setWeight: 50\n      - pause: {}")
        let paused = try repo.windlass(["sync"])
        #expect(paused.status == 0, "\(paused.stderr)")
        #expect(paused.stdout.contains("paused (revision 2 pending): canary of apps/Deployment/shop/web paused at step 2 of 2 until promoted"), "\(paused.stdout)")
        let status = try repo.status()
        #expect(status.contains("Status:       Paused: paused at step 2 of 2 until promoted"))
        #expect(status.contains("Weight:       50%"))

        let promoted = try CLI.run(["rollout", "promote", "web", "-n", "shop", "--source", repo.repository.path, "--state-dir", repo.state.path], in: repo.repository.path)
        #expect(promoted.status == 0, "\(promoted.stdout)\(promoted.stderr)")
        #expect(promoted.stdout.contains("promote requested for deployment.apps/web; resuming the sync"))
        #expect(promoted.stdout.contains("synced: revision 2 deployed"), "\(promoted.stdout)")

        // v3 pauses too; abort: the canary goes and the release is rolled back to revision 2.
        try repo.repository.write("manifests/app.yaml", CanaryRepository.manifests(image: "registry.example/web:3", steps: "      - setWeight: 50\n      - pause: {}"))
        try repo.repository.commit("v3")
        #expect(try repo.windlass(["sync"]).stdout.contains("paused (revision 3 pending)"))
        let aborted = try CLI.run(["rollout", "abort", "web", "-n", "shop", "--source", repo.repository.path, "--state-dir", repo.state.path], in: repo.repository.path)
        #expect(aborted.status == 1)
        #expect(aborted.stderr.contains("canary of apps/Deployment/shop/web aborted, stable version restored: aborted by request"), "\(aborted.stderr)")
        #expect(aborted.stderr.contains("revision 4 deployed (Rollback to 2)"))
        let deployment = try CLI.run(["cluster", "get", "deployment", "web", "-n", "shop", "-o", "yaml", "--state-dir", repo.state.path]).stdout
        #expect(deployment.contains("image: registry.example/web:2"))
    }

    @Test("the verbs find the application whose sync runs the canary: no --app, no --source, from anywhere; with none in progress they say so and record nothing")
    func withoutApp() throws {
        let repo = try CanaryRepository(steps: "      - setWeight: 50\n      - pause: {}", application: "storefront")
        let elsewhere = try TemporaryDirectory()
        let noRollout = try CLI.run(["rollout", "abort", "web", "-n", "shop", "--state-dir", repo.state.path], in: elsewhere.path)
        #expect(noRollout.status != 0 && noRollout.stderr.contains("no rollout of application \"default\" is in progress"), "\(noRollout.stderr)")

        let paused = try repo.windlass(["sync", "--app", "storefront"])
        #expect(paused.stdout.contains("paused (revision 2 pending)"), "\(paused.stdout)\(paused.stderr)")
        let status = try CLI.run(["rollout", "status", "web", "-n", "shop", "--state-dir", repo.state.path], in: elsewhere.path).stdout
        #expect(status.contains("Status:       Paused: paused at step 2 of 2 until promoted"), "\(status)")
        // The revision's own source at its commit is resumed, not the working directory's manifests/.
        let promoted = try CLI.run(["rollout", "promote", "web", "-n", "shop", "--state-dir", repo.state.path], in: elsewhere.path)
        #expect(promoted.status == 0, "\(promoted.stdout)\(promoted.stderr)")
        #expect(promoted.stdout.contains("synced: revision 2 deployed"), "\(promoted.stdout)")
        let history = try CLI.run(["history", "--app", "default", "--state-dir", repo.state.path], in: elsewhere.path)
        #expect(!history.stdout.contains("REVISION"), "nothing recorded under \"default\": \(history.stdout)")
        let mine = try CLI.run(["history", "--app", "storefront", "--state-dir", repo.state.path], in: elsewhere.path)
        #expect(mine.stdout.split(separator: "\n").count == 3, "\(mine.stdout)")
    }

    @Test("an invalid strategy stops the sync with located errors, and nothing is applied")
    func invalid() throws {
        let repo = try CanaryRepository(steps: "      - setWeight: 50")
        try repo.repository.write("manifests/app.yaml", CanaryRepository.manifests(image: "registry.example/web:9", steps: "      - setWeight: 150\n      - wait: 5s"))
        try repo.repository.commit("broken strategy")
        let result = try repo.windlass(["sync"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("manifests/app.yaml@"), "\(result.stderr)")
        #expect(result.stderr.contains(": error: windlass.dev/RolloutStrategy/shop/web: setWeight must be a whole number from 0 to 100"))
        #expect(result.stderr.contains(": error: windlass.dev/RolloutStrategy/shop/web: unknown step \"wait\""))
        let deployment = try CLI.run(["cluster", "get", "deployment", "web", "-n", "shop", "-o", "yaml", "--state-dir", repo.state.path]).stdout
        #expect(deployment.contains("image: registry.example/web:1"), "nothing applied")
        let validate = try repo.windlass(["validate"])
        #expect(validate.status == 1 && validate.stdout.contains("setWeight must be a whole number from 0 to 100"))
    }
}

@Suite("kill -9 during a plain sync")
struct PlainResumeTests {
    @Test("killed between waves: the next sync finishes the same revision; nothing is applied twice")
    func betweenWaves() throws {
        let repo = try PullRequestRepository()
        #expect(try CLI.run(["cluster", "init", "--state-dir", repo.state.path]).status == 0)
        // Wave 1 (the Deployment) waits for its pods; kill the sync once wave 0 is done.
        let first = try RunningSync(["sync", "--ref", "main", "--source", repo.repository.path, "--state-dir", repo.state.path], output: repo.state.path + "/first.log", in: repo.repository.path)
        for _ in 0..<300 where !first.text.contains("Sync wave 0 healthy") { usleep(20_000) }
        first.kill9()
        #expect(first.text.contains("Sync wave 0 healthy"), "\(first.text)")
        let resumed = try repo.windlass(["sync", "--ref", "main"])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("synced: revision 1 deployed"), "the same revision:\n\(resumed.stdout)")
        #expect(!resumed.stdout.contains("created"), "nothing is applied twice:\n\(resumed.stdout)")
        let deployment = try CLI.run(["cluster", "get", "deployment", "web", "-n", "shop", "--state-dir", repo.state.path]).stdout
        #expect(deployment.contains(" 3/3 "), "the resumed sync waited for what the killed one applied:\n\(deployment)")
        #expect(try repo.windlass(["plan", "--ref", "main", "--detailed-exitcode"]).status == 0)
    }
}
