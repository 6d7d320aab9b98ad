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
}

/// Watches a branch or tag of a mirrored remote: polls at an interval with jitter, reports a new
/// revision only when the ref moves, keeps the last good revision through fetch failures
/// (backing off exponentially up to a cap), recognises force-pushes, and fetches at once on
/// ``trigger()`` (for webhooks), coalescing concurrent triggers.
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

        public init(
            interval: Duration = .seconds(180),
            jitter: Double = 0.3,
            backoffBase: Duration = .seconds(2),
            backoffCap: Duration = .seconds(300)
        ) {
            self.interval = interval
            self.jitter = jitter
            self.backoffBase = backoffBase
            self.backoffCap = backoffCap
        }
    }

    public let mirror: GitMirror
    public let ref: String
    public let configuration: Configuration
    private let credentials: GitCredentials
    /// Events, in order; the stream ends when the watcher is released.
    public nonisolated let events: AsyncStream<WatchEvent>
    private let continuation: AsyncStream<WatchEvent>.Continuation

    /// The last commit the ref was seen at; kept through failures.
    public private(set) var lastGood: GitCommit?
    public private(set) var consecutiveFailures = 0
    /// How many fetches ran (a measure of coalescing).
    public private(set) var fetchCount = 0

    private var inFlight: Task<Void, Never>?
    private var rerunRequested = false

    public init(
        mirror: GitMirror,
        ref: String,
        credentials: GitCredentials = .none,
        lastGood: GitCommit? = nil,
        configuration: Configuration = Configuration()
    ) {
        self.mirror = mirror
        self.ref = ref
        self.credentials = credentials
        self.lastGood = lastGood
        self.configuration = configuration
        (events, continuation) = AsyncStream.makeStream(of: WatchEvent.self)
    }

    deinit {
        continuation.finish()
    }

    /// Polls until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            await trigger()
            do {
                try await Task.sleep(for: nextDelay())
            } catch {
                return
            }
        }
    }

    /// Fetches now and returns when the ref's state is known. A trigger that arrives while a
    /// fetch runs waits for one more fetch after it (shared by every trigger that arrived
    /// meanwhile), so a webhook's commit is never missed and never fetched twice.
    public func trigger() async {
        if let running = inFlight {
            rerunRequested = true
            await running.value
            return
        }
        let task = Task {
            repeat {
                rerunRequested = false
                await poll()
            } while rerunRequested
            // Cleared in the same turn as the last check, so no trigger can slip in between.
            inFlight = nil
        }
        inFlight = task
        await task.value
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

    private func poll() async {
        fetchCount += 1
        let mirror = self.mirror
        let ref = self.ref
        let credentials = self.credentials
        let previous = lastGood
        do {
            let (commit, descends) = try await GitRepository.offloaded { () throws(GitError) -> (GitCommit, Bool) in
                _ = try mirror.fetch(credentials: credentials)
                let commit = try mirror.repository.resolve(ref)
                guard let previous, previous.sha != commit.sha else { return (commit, true) }
                // A previous commit gone from the mirror was rewritten away, too.
                let descends = (try? mirror.repository.isAncestor(previous.sha, of: commit.sha)) ?? false
                return (commit, descends)
            }
            if consecutiveFailures > 0 {
                continuation.yield(.recovered(afterFailures: consecutiveFailures))
                consecutiveFailures = 0
            }
            guard commit.sha != previous?.sha else { return }
            lastGood = commit
            if let previous, !descends {
                continuation.yield(.forcePush(commit, previous: previous))
            } else {
                continuation.yield(.revision(commit, previous: previous))
            }
        } catch {
            consecutiveFailures += 1
            let delay = Self.backoff(failures: consecutiveFailures, base: configuration.backoffBase, cap: configuration.backoffCap)
            continuation.yield(.fetchFailed(error, consecutiveFailures: consecutiveFailures, retryIn: delay))
        }
    }
}
