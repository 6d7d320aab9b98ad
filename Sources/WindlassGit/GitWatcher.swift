/// What a ``GitWatcher`` reports.
public enum WatchEvent: Sendable, Equatable {
    /// The ref points at a new commit: the first one seen, or a descendant of the last.
    case revision(GitCommit, previous: GitCommit?)
    /// The ref moved to a commit that does not descend from the last one (history rewritten).
    case forcePush(GitCommit, previous: GitCommit)
    /// A fetch failed. The last good revision stays current; the next attempt comes after
    /// `retryIn` (exponential backoff up to a cap).
    case fetchFailed(GitError, consecutiveFailures: Int, retryIn: Duration)
    /// Fetching works again after `failures` failed attempts.
    case recovered(afterFailures: Int)
    /// A poll found the ref where it was (nil: a directory, which has no revision). Reported
    /// for every such poll, so a watcher's owner can do its per-poll work (a self-heal check).
    case unchanged(GitCommit?)
}

/// What a ``GitWatcher`` polls: a remote's mirror (fetched, then read), a repository on this
/// machine (read: it changes on its own), or a plain directory (no revision to follow).
public struct WatchedSource: Sendable {
    /// The source as shown to the user (credentials redacted).
    public let display: String
    /// Brings the source up to date and returns the commit the ref is at (nil for a directory)
    /// and whether it descends from `previous`. Blocks.
    let poll: @Sendable (_ previous: GitCommit?) throws(GitError) -> (commit: GitCommit?, descends: Bool)

    /// A remote's mirror: fetched with `credentials`, then `ref` read from it.
    public static func mirror(_ mirror: GitMirror, ref: String, credentials: GitCredentials = .none) -> WatchedSource {
        WatchedSource(display: mirror.url.description) { (previous) throws(GitError) in
            _ = try mirror.fetch(credentials: credentials)
            return try read(mirror.repository, ref: ref, previous: previous)
        }
    }

    /// A repository on this machine: `ref` read from it as it is now (nothing to fetch).
    public static func repository(at path: String, ref: String) -> WatchedSource {
        WatchedSource(display: path) { (previous) throws(GitError) in
            try read(try GitRepository(path: path), ref: ref, previous: previous)
        }
    }

    /// A plain directory: every poll finds it unchanged (it has no revision); its owner reads it.
    public static func directory(_ path: String) -> WatchedSource {
        WatchedSource(display: path) { (_) throws(GitError) in (nil, true) }
    }

    /// The watched form of a command's source, decided at each poll as ``SourceResolver`` reads
    /// it: a remote through its mirror under the state directory (credentials from the
    /// environment), a local repository, or a directory. A source that cannot be opened (a bad
    /// URL, a mirror that cannot be created) is a failed poll, retried with backoff.
    public static func resolving(_ options: SourceOptions) -> WatchedSource {
        let ref = options.ref ?? "HEAD"
        let display = (try? RemoteURL(options.source))?.description ?? options.source
        return WatchedSource(display: display) { (previous) throws(GitError) in
            let url = try RemoteURL(options.source)
            if url.isRemote {
                let mirror = try GitMirror(url: url, stateDirectory: options.stateDirectory)
                return try WatchedSource.mirror(mirror, ref: ref, credentials: GitCredentials.fromEnvironment(for: url, environment: options.environment))
                    .poll(previous)
            }
            if GitRepository.isRepository(options.source) { return try read(try GitRepository(path: options.source), ref: ref, previous: previous) }
            return (nil, true)
        }
    }

    private static func read(_ repository: GitRepository, ref: String, previous: GitCommit?) throws(GitError) -> (commit: GitCommit?, descends: Bool) {
        let commit = try repository.resolve(ref)
        guard let previous, previous.sha != commit.sha else { return (commit, true) }
        // A previous commit gone from the repository was rewritten away, too.
        return (commit, (try? repository.isAncestor(previous.sha, of: commit.sha)) ?? false)
    }
}

/// Watches a branch or tag of a source (a mirrored remote, a local repository, or a directory):
/// polls at an interval with jitter, reports a new revision only when the ref moves (and every
/// other poll as ``WatchEvent/unchanged(_:)``), keeps the last good revision through fetch
/// failures (backing off exponentially up to a cap), recognises force-pushes, and fetches at
/// once on ``trigger()`` (for webhooks), coalescing concurrent triggers. The fetches run off the
/// cooperative pool. This is the daemon's one polling loop.
public actor GitWatcher {
    public struct Configuration: Sendable {
        /// Time between polls (Argo CD polls every 3 minutes too).
        public var interval: Duration
        /// Up to this fraction of the interval is added at random to each wait, so that many
        /// watchers do not fetch in step.
        public var jitter: Double
        /// The first retry delay after a failure; it doubles with each further failure…
        public var backoffBase: Duration
        /// …up to this cap.
        public var backoffCap: Duration
        /// The wait before the fetch that triggers during a fetch share: a storm of webhooks
        /// costs a few fetches a second, not one after another (the first one is not delayed).
        public var rerunGap: Duration

        public init(
            interval: Duration = .seconds(180),
            jitter: Double = 0.3,
            backoffBase: Duration = .seconds(2),
            backoffCap: Duration = .seconds(300),
            rerunGap: Duration = .milliseconds(200)
        ) {
            self.interval = interval
            self.jitter = jitter
            self.backoffBase = backoffBase
            self.backoffCap = backoffCap
            self.rerunGap = rerunGap
        }
    }

    public let source: WatchedSource
    public let configuration: Configuration
    /// Events, in order; the stream ends when the watcher is released.
    public nonisolated let events: AsyncStream<WatchEvent>
    private let continuation: AsyncStream<WatchEvent>.Continuation

    /// The last commit the ref was seen at; kept through failures.
    public private(set) var lastGood: GitCommit?
    public private(set) var consecutiveFailures = 0
    /// How many fetches ran (a measure of coalescing).
    public private(set) var fetchCount = 0

    private var inFlight: Task<WatchEvent, Never>?
    private var rerunRequested = false
    /// Told how long each fetch took and whether it failed (for metrics).
    private let onFetch: @Sendable (_ seconds: Double, _ failed: Bool) -> Void

    public init(
        source: WatchedSource, lastGood: GitCommit? = nil, configuration: Configuration = Configuration(),
        onFetch: @escaping @Sendable (_ seconds: Double, _ failed: Bool) -> Void = { _, _ in }
    ) {
        self.source = source
        self.lastGood = lastGood
        self.configuration = configuration
        self.onFetch = onFetch
        (events, continuation) = AsyncStream.makeStream(of: WatchEvent.self)
    }

    /// Watches `ref` of a remote's mirror.
    public init(
        mirror: GitMirror,
        ref: String,
        credentials: GitCredentials = .none,
        lastGood: GitCommit? = nil,
        configuration: Configuration = Configuration()
    ) {
        self.init(source: .mirror(mirror, ref: ref, credentials: credentials), lastGood: lastGood, configuration: configuration)
    }

    deinit {
        continuation.finish()
    }

    /// When the last fetch finished: a poll is due an interval (or a backoff) after it, however
    /// it was started.
    public private(set) var lastPoll: ContinuousClock.Instant?
    /// The delay before the next poll, drawn once per poll (so triggers do not redraw the jitter).
    private var delay: Duration = .zero

    /// Polls until the task is cancelled: at once, then an interval (plus jitter) after each
    /// fetch, however it was started, so a webhook's fetch moves the next poll back instead of
    /// adding one right after it. Other work never holds the timer back.
    public func run() async {
        while !Task.isCancelled {
            if let lastPoll {
                let due = lastPoll + delay
                guard (try? await Task.sleep(until: due, clock: .continuous)) != nil else { return }
                // A trigger meanwhile moved the deadline: wait for the new one.
                if let latest = self.lastPoll, latest + delay > due { continue }
            }
            await trigger()
        }
    }

    /// Fetches now and returns when the ref's state is known: the last poll's outcome (also
    /// reported on ``events``). A trigger that arrives while a fetch runs waits for one more
    /// fetch after it (shared by every trigger that arrived meanwhile), so a webhook's commit is
    /// never missed and never fetched twice.
    @discardableResult
    public func trigger() async -> WatchEvent {
        if let running = inFlight {
            rerunRequested = true
            return await running.value
        }
        let task = Task {
            // Initialized before the loop: a `var` first assigned inside a repeat loop crashed
            // the release build (Swift 6.3.1 destroyed an uninitialized WatchEvent).
            rerunRequested = false
            var outcome = await poll()
            while rerunRequested {
                // Triggers arriving meanwhile join this fetch too.
                try? await Task.sleep(for: configuration.rerunGap)
                rerunRequested = false
                outcome = await poll()
            }
            // Cleared in the same turn as the last check, so no trigger can slip in between.
            inFlight = nil
            return outcome
        }
        inFlight = task
        return await task.value
    }

    /// The wait before the next poll: the interval plus jitter, or the backoff after failures.
    public func nextDelay() -> Duration {
        if consecutiveFailures > 0 {
            return Self.backoff(failures: consecutiveFailures, base: configuration.backoffBase, cap: configuration.backoffCap)
        }
        let extra = configuration.interval * Double.random(in: 0...max(0, configuration.jitter))
        return configuration.interval + extra
    }

    /// `base × 2^(failures − 1)`, at most `cap`.
    public static func backoff(failures: Int, base: Duration, cap: Duration) -> Duration {
        var delay = base
        for _ in 1..<max(1, failures) {
            delay = delay * 2
            if delay >= cap { return cap }
        }
        return min(delay, cap)
    }

    /// One fetch; its outcome, also yielded on ``events``.
    private func poll() async -> WatchEvent {
        fetchCount += 1
        let source = self.source
        let previous = lastGood
        let started = ContinuousClock.now
        let outcome: WatchEvent
        do {
            let (commit, descends) = try await GitRepository.offloaded { () throws(GitError) in try source.poll(previous) }
            onFetch(Self.seconds(since: started), false)
            if consecutiveFailures > 0 {
                continuation.yield(.recovered(afterFailures: consecutiveFailures))
                consecutiveFailures = 0
            }
            if let commit, commit.sha != previous?.sha {
                lastGood = commit
                if let previous, !descends {
                    outcome = .forcePush(commit, previous: previous)
                } else {
                    outcome = .revision(commit, previous: previous)
                }
            } else {
                outcome = .unchanged(commit)
            }
        } catch {
            onFetch(Self.seconds(since: started), true)
            consecutiveFailures += 1
            let delay = Self.backoff(failures: consecutiveFailures, base: configuration.backoffBase, cap: configuration.backoffCap)
            outcome = .fetchFailed(error, consecutiveFailures: consecutiveFailures, retryIn: delay)
        }
        lastPoll = .now
        delay = nextDelay()
        continuation.yield(outcome)
        return outcome
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
