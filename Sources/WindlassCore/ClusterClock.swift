import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where the embedded cluster reads the time: the real clock in the CLI and the daemon, a
/// manual one in tests, so that rollouts and grace periods are tested without sleeping.
public protocol ClusterClock: Sendable {
    /// Seconds since 1970.
    func now() -> Double
}

/// The system's wall clock.
public struct SystemClock: ClusterClock {
    public init() {}

    public func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A clock that moves only when told to.
public final class ManualClock: ClusterClock {
    private let current: Mutex<Double>

    public init(_ start: Double = 1_800_000_000) {
        current = Mutex(start)
    }

    public func now() -> Double { current.withLock { $0 } }

    public func advance(by seconds: Double) {
        current.withLock { $0 += seconds }
    }

    /// Moves the clock to `time`, never backwards.
    public func set(to time: Double) {
        current.withLock { $0 = max($0, time) }
    }
}
