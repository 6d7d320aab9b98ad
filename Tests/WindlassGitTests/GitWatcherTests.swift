import Foundation
import Testing
import WindlassGit
import WindlassManifest
import WindlassTesting

/// Collects a watcher's events as they come.
actor EventLog {
    private(set) var events: [WatchEvent] = []
    private var task: Task<Void, Never>?

    func follow(_ watcher: GitWatcher) {
        let stream = watcher.events
        task = Task {
            for await event in stream { self.append(event) }
        }
    }

    /// Every poll's outcome but "unchanged": what the ref did.
    private func append(_ event: WatchEvent) {
        if case .unchanged = event { polls += 1 } else { events.append(event) }
    }

    /// How many polls found the ref where it was.
    private(set) var polls = 0

    /// Waits until `predicate` holds for the events so far (or fails after `timeout` seconds).
    func wait(timeout: Double = 10, until predicate: ([WatchEvent]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(events) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return predicate(events)
    }

    func stop() { task?.cancel() }
}

@Suite("The git watcher, against a real git daemon", .serialized)
struct GitWatcherTests {
    static let quick = GitWatcher.Configuration(
        interval: .milliseconds(100),
        jitter: 0,
        backoffBase: .milliseconds(100),
        backoffCap: .milliseconds(400)
    )

    @Test("backoff doubles from the base up to the cap")
    func backoff() {
        let delays = (1...8).map { GitWatcher.backoff(failures: $0, base: .seconds(2), cap: .seconds(60)) }
        #expect(delays == [.seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(32), .seconds(60), .seconds(60), .seconds(60)])
    }

    @Test("jitter stays within the configured fraction of the interval")
    func jitter() async throws {
        let state = try TemporaryDirectory()
        let remote = try Remote()
        let mirror = try GitMirror(url: RemoteURL("file://" + remote.bare), stateDirectory: state.path)
        let watcher = GitWatcher(mirror: mirror, ref: "main", configuration: .init(interval: .seconds(120), jitter: 0.5))
        for _ in 0..<50 {
            let delay = await watcher.nextDelay()
            #expect(delay >= .seconds(120) && delay <= .seconds(180))
        }
    }

    @Test("a new revision only when the ref moves; force-push reported as such")
    func revisions() async throws {
        let remote = try Remote()
        let first = try remote.push("one", files: ["manifests/a.yaml": configMapYAML("a")])
        let daemon = try GitDaemon(base: remote.served.path)
        defer { daemon.stop() }
        let state = try TemporaryDirectory()
        let mirror = try GitMirror(url: RemoteURL(daemon.url(remote.name)), stateDirectory: state.path)
        let watcher = GitWatcher(mirror: mirror, ref: "main", configuration: Self.quick)
        let log = EventLog()
        await log.follow(watcher)

        await watcher.trigger()
        await watcher.trigger()
        #expect(await log.wait { $0.count == 1 })
        #expect(await log.events.first == .revision(try mirror.repository.resolve(first), previous: nil))

        let second = try remote.push("two", files: ["manifests/b.yaml": configMapYAML("b")])
        await watcher.trigger()
        #expect(await log.wait { $0.count == 2 })
        guard case .revision(let commit, let previous)? = await log.events.last else {
            Issue.record("expected a revision")
            return
        }
        #expect(commit.sha == second)
        #expect(previous?.sha == first)

        try remote.work.git(["reset", "-q", "--hard", first])
        let rewritten = try remote.push("rewritten", files: ["manifests/c.yaml": configMapYAML("c")], force: true)
        await watcher.trigger()
        #expect(await log.wait { $0.count == 3 })
        guard case .forcePush(let forced, let before)? = await log.events.last else {
            Issue.record("expected a force-push, got \(await log.events)")
            return
        }
        #expect(forced.sha == rewritten)
        #expect(before.sha == second)
        #expect(await watcher.lastGood?.sha == rewritten)
        await log.stop()
    }

    @Test("concurrent triggers coalesce into one fetch (plus at most one after it)")
    func coalescing() async throws {
        let remote = try Remote()
        try remote.push("one", files: ["manifests/a.yaml": configMapYAML("a")])
        let state = try TemporaryDirectory()
        let mirror = try GitMirror(url: RemoteURL("file://" + remote.bare), stateDirectory: state.path)
        let watcher = GitWatcher(mirror: mirror, ref: "main", configuration: Self.quick)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask { await watcher.trigger() }
            }
        }
        let fetches = await watcher.fetchCount
        #expect(fetches >= 1 && fetches <= 2, "\(fetches) fetches for 20 triggers")
        #expect(await watcher.lastGood != nil)
    }

    @Test("the watcher survives a remote that goes away, backs off, and recovers when it returns")
    func survivesOutage() async throws {
        let remote = try Remote()
        let first = try remote.push("one", files: ["manifests/a.yaml": configMapYAML("a")])
        var daemon = try GitDaemon(base: remote.served.path)
        let port = daemon.port
        let state = try TemporaryDirectory()
        let mirror = try GitMirror(url: RemoteURL(daemon.url(remote.name)), stateDirectory: state.path)
        let watcher = GitWatcher(mirror: mirror, ref: "main", configuration: Self.quick)
        let log = EventLog()
        await log.follow(watcher)
        let running = Task { await watcher.run() }
        defer { running.cancel() }
        #expect(await log.wait { $0.count >= 1 })

        daemon.stop()
        let second = try remote.push("two while down", files: ["manifests/b.yaml": configMapYAML("b")])
        #expect(await log.wait { events in events.filter { if case .fetchFailed = $0 { true } else { false } }.count >= 3 })
        #expect(await watcher.lastGood?.sha == first)
        let failures = await log.events.compactMap { event -> (Int, Duration)? in
            if case .fetchFailed(let error, let n, let delay) = event {
                #expect(error.code == .network)
                #expect(error.description.hasPrefix("fetch git://127.0.0.1:\(port)/cloud.git: "))
                return (n, delay)
            }
            return nil
        }
        #expect(failures.prefix(3).map(\.0) == [1, 2, 3])
        #expect(failures.prefix(3).map(\.1) == [.milliseconds(100), .milliseconds(200), .milliseconds(400)])

        daemon = try GitDaemon(base: remote.served.path, port: port)
        defer { daemon.stop() }
        #expect(await log.wait { events in events.contains { if case .revision(let c, _) = $0 { c.sha == second } else { false } } })
        #expect(await log.events.contains { if case .recovered = $0 { true } else { false } })
        #expect(await watcher.consecutiveFailures == 0)
        await log.stop()
    }
}

@Suite("The git watcher through bad refs", .serialized)
struct GitWatcherFaultTests {
    @Test("a ref that does not exist yet is a failure the watcher survives; it reports the branch once pushed")
    func unknownRefThenCreated() async throws {
        let remote = try Remote()
        try remote.push("one", files: ["manifests/a.yaml": configMapYAML("a")])
        let state = try TemporaryDirectory()
        let mirror = try GitMirror(url: RemoteURL("file://" + remote.bare), stateDirectory: state.path)
        let watcher = GitWatcher(mirror: mirror, ref: "release", configuration: GitWatcherTests.quick)
        let log = EventLog()
        await log.follow(watcher)
        await watcher.trigger()
        #expect(await log.wait { $0.count == 1 })
        guard case .fetchFailed(let error, 1, _)? = await log.events.first else {
            Issue.record("expected a failure, got \(await log.events)")
            return
        }
        #expect(error.code == .notFound)
        #expect(error.ref == "release")
        let sha = try remote.push("release", files: ["manifests/r.yaml": configMapYAML("r")], branch: "release")
        await watcher.trigger()
        #expect(await log.wait { $0.count == 3 })
        #expect(await log.events[1] == .recovered(afterFailures: 1))
        guard case .revision(let commit, nil)? = await log.events.last else {
            Issue.record("expected a revision")
            return
        }
        #expect(commit.sha == sha)
        await log.stop()
    }
}

@Suite("The git watcher over every kind of source", .serialized)
struct GitWatcherSourceTests {
    @Test("a local repository: each poll reads the ref as it is now; a new commit is a revision, the rest unchanged")
    func localRepository() async throws {
        let repository = try GitFixture()
        _ = try repository.write("manifests/a.yaml", configMapYAML("a"))
        let first = try repository.commit("one")
        let state = try TemporaryDirectory()
        let watcher = GitWatcher(source: .resolving(SourceOptions(source: repository.path, ref: "main", stateDirectory: state.path)))
        #expect(await watcher.trigger() == .revision(try GitRepository(path: repository.path).resolve(first), previous: nil))
        guard case .unchanged(let same?) = await watcher.trigger() else {
            Issue.record("a second poll of the same commit should be unchanged")
            return
        }
        #expect(same.sha == first)
        _ = try repository.write("manifests/b.yaml", configMapYAML("b"))
        let second = try repository.commit("two")
        guard case .revision(let commit, let previous) = await watcher.trigger() else {
            Issue.record("a new commit should be a revision")
            return
        }
        #expect(commit.sha == second && previous?.sha == first)
        // Nothing was mirrored: a local repository is read where it is.
        #expect(!FileManager.default.fileExists(atPath: state.path + "/repos"))
    }

    @Test("a directory has no revision: every poll is unchanged, with no commit")
    func directory() async throws {
        let directory = try TemporaryDirectory()
        _ = try directory.write("manifests/a.yaml", configMapYAML("a"))
        let watcher = GitWatcher(source: .resolving(SourceOptions(source: directory.path)))
        #expect(await watcher.trigger() == .unchanged(nil))
        #expect(await watcher.trigger() == .unchanged(nil))
        #expect(await watcher.lastGood == nil)
    }

    @Test("a source that cannot be opened is a failed poll, retried with backoff, not a crash")
    func badSource() async throws {
        let state = try TemporaryDirectory()
        let watcher = GitWatcher(source: .resolving(SourceOptions(source: "https://user:hunter2@127.0.0.1:1/nothing.git", stateDirectory: state.path)))
        guard case .fetchFailed(let error, 1, let retry) = await watcher.trigger() else {
            Issue.record("expected a failed poll")
            return
        }
        #expect(retry == GitWatcher.Configuration().backoffBase)
        #expect(!error.description.contains("hunter2"), "\(error)")
    }

    @Test("a webhook's fetch moves the next poll back an interval instead of adding one right after it")
    func triggerMovesThePoll() async throws {
        let repository = try GitFixture()
        _ = try repository.write("manifests/a.yaml", configMapYAML("a"))
        try repository.commit("one")
        let watcher = GitWatcher(
            source: .resolving(SourceOptions(source: repository.path)), configuration: .init(interval: .seconds(2), jitter: 0))
        let running = Task { await watcher.run() }
        defer { running.cancel() }
        let start = ContinuousClock.now
        while await watcher.lastPoll == nil { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(until: start + .seconds(1), clock: .continuous)
        await watcher.trigger()
        // Times are the watcher's own (when each fetch finished), so a loaded machine that wakes
        // this test late cannot fail it: whenever the trigger lands, the poll after it comes an
        // interval after the last fetch, not at the deadline the first poll had set.
        guard let triggered = await watcher.lastPoll else {
            Issue.record("the trigger recorded no fetch")
            return
        }
        var next = triggered
        while next == triggered {
            guard ContinuousClock.now - start < .seconds(60) else {
                Issue.record("no poll within 60 s")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
            next = await watcher.lastPoll ?? triggered
        }
        #expect(next - triggered >= .seconds(2), "the poll after the trigger came \(next - triggered) after it")
    }
}
