import Foundation

/// A token bucket: `qps` requests a second on average, `burst` at once, as client-go's
/// `flowcontrol` limiter. Waiters are served in the order they came.
actor RateLimiter {
    let qps: Double
    let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(qps: Double, burst: Int) {
        self.qps = qps
        self.burst = Double(max(burst, 1))
        tokens = self.burst
        last = .now
    }

    /// Waits until a request may go.
    func acquire() async throws {
        guard qps > 0 else { return }
        let now = ContinuousClock.now
        tokens = min(burst, tokens + Double((now - last).components.seconds) * qps + Double((now - last).components.attoseconds) / 1e18 * qps)
        last = now
        tokens -= 1
        if tokens >= 0 { return }
        // In debt: this request's turn comes when the bucket has refilled to zero.
        let wait = -tokens / qps
        try await Task.sleep(for: .milliseconds(Int(wait * 1000)))
    }
}
