import Foundation
import Logging
public import ServiceLifecycle
import Synchronization
public import WindlassCluster
import WindlassManifest

/// Leader election among replicas of the daemon, with controller-runtime's semantics: a
/// `coordination.k8s.io/v1` Lease names the holder; the holder renews it every `retryPeriod`
/// and gives up leading when it could not renew for `renewDeadline`; another replica takes it
/// once it has seen no renewal for `leaseDuration` (timed by its own clock from when it last
/// saw the Lease change, so clocks need not agree). Writes carry the resourceVersion read, so
/// two replicas can never both win. Losing the lease ends the process: nothing is applied by a
/// replica that is not sure it leads.
public final class LeaderElector: Service, Sendable {
    public struct Timing: Sendable, Hashable {
        public var leaseDuration: Double = 15
        public var renewDeadline: Double = 10
        public var retryPeriod: Double = 2

        public init() {}
    }

    public struct Lost: Error, CustomStringConvertible {
        public var description: String
    }

    let backend: any ClusterBackend
    let lease: ResourceID
    let identity: String
    let timing: Timing
    let log: DaemonLog
    let elected: StartGate
    private let leading = Atomic<Bool>(false)

    init(backend: any ClusterBackend, namespace: String, name: String, identity: String, timing: Timing = Timing(), log: DaemonLog, elected: StartGate) {
        self.backend = backend
        lease = ResourceID(group: "coordination.k8s.io", version: "v1", kind: "Lease", namespace: namespace, name: name)
        self.identity = identity
        self.timing = timing
        self.log = log
        self.elected = elected
    }

    /// Whether this replica leads now.
    public var isLeader: Bool { leading.load(ordering: .relaxed) }

    /// `host_pid_random`: unique per process, readable in `kubectl get lease`.
    public static func makeIdentity() -> String {
        "\(ProcessInfo.processInfo.hostName)_\(getpid())_\(UInt32.random(in: 0...UInt32.max) % 100_000)"
    }

    /// What was last seen of the Lease, and when (by this process's clock).
    private struct Observed: Sendable {
        var holder: String
        var renewTime: String
        var resourceVersion: String
        var seenAt: ContinuousClock.Instant
    }

    public func run() async throws {
        var observed: Observed?
        let clock = ContinuousClock()
        log.event("leader election", ["lease": "\(lease.namespace ?? "")/\(lease.name)", "identity": identity])
        // Acquire.
        while !Task.isCancelled {
            if case .some(true) = try? await attempt(&observed, clock: clock) { break }
            if (try? await Task.sleep(for: .milliseconds(Int(timing.retryPeriod * 1000 * Double.random(in: 1...1.2))))) == nil { return }
        }
        if Task.isCancelled { return }
        leading.store(true, ordering: .relaxed)
        log.event("leader elected", ["identity": identity])
        elected.open()
        // Renew until the process stops or renewing fails for longer than the deadline. The
        // daemon lists this service first, so a graceful shutdown reaches it last: the lease is
        // released only once the work has stopped.
        let start = observed
        let lost = await cancelWhenGracefulShutdown { await self.renew(from: start, clock: clock) }
        leading.store(false, ordering: .relaxed)
        if !lost {
            // Stopping: let the next replica take over at once.
            await release()
            return
        }
        log.event("leader election lost", ["identity": identity], level: .error)
        throw Lost(description: "leader election lost: the Lease \(lease.namespace ?? "")/\(lease.name) could not be renewed for \(Int(timing.renewDeadline)) s")
    }

    /// Renews every retry period; true when renewing failed for longer than the deadline.
    private func renew(from start: Observed?, clock: ContinuousClock) async -> Bool {
        var observed = start
        var lastRenewed = clock.now
        while !Task.isCancelled {
            guard (try? await Task.sleep(for: .milliseconds(Int(timing.retryPeriod * 1000)))) != nil else { return false }
            if case .some(true) = try? await attempt(&observed, clock: clock) {
                lastRenewed = clock.now
            } else if clock.now - lastRenewed > .milliseconds(Int(timing.renewDeadline * 1000)) {
                return true
            }
        }
        return false
    }

    /// One try to take or renew the Lease: true when this replica holds it afterwards.
    private func attempt(_ observed: inout Observed?, clock: ContinuousClock) async throws(ClusterError) -> Bool {
        let now = Timestamp.rfc3339Micro(Date().timeIntervalSince1970)
        let current: Value
        do throws(ClusterError) {
            current = try await backend.get(lease)
        } catch where error.code == .notFound {
            let made: Value = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": ["name": .string(lease.name), "namespace": .string(lease.namespace ?? "default")],
                "spec": [
                    "holderIdentity": .string(identity), "leaseDurationSeconds": .int(Int(timing.leaseDuration)), "acquireTime": .string(now),
                    "renewTime": .string(now), "leaseTransitions": 0,
                ],
            ]
            let created = try await backend.create(made, options: WriteOptions(fieldManager: "windlass"))
            observed = Observed(holder: identity, renewTime: now, resourceVersion: Self.version(created), seenAt: clock.now)
            return true
        }
        let spec = current["spec"]
        let holder = spec?["holderIdentity"]?.stringValue ?? ""
        let renewTime = spec?["renewTime"]?.stringValue ?? ""
        let version = Self.version(current)
        if observed == nil || observed!.holder != holder || observed!.renewTime != renewTime || observed!.resourceVersion != version {
            observed = Observed(holder: holder, renewTime: renewTime, resourceVersion: version, seenAt: clock.now)
        }
        let duration = Double(spec?["leaseDurationSeconds"]?.intValue ?? Int(timing.leaseDuration))
        let expired = clock.now - observed!.seenAt > .milliseconds(Int(duration * 1000))
        guard holder.isEmpty || holder == identity || expired else { return false }
        var updated = current
        updated.set(.string(identity), at: ["spec", "holderIdentity"])
        updated.set(.int(Int(timing.leaseDuration)), at: ["spec", "leaseDurationSeconds"])
        updated.set(.string(now), at: ["spec", "renewTime"])
        if holder != identity {
            updated.set(.string(now), at: ["spec", "acquireTime"])
            updated.set(.int((spec?["leaseTransitions"]?.intValue ?? 0) + 1), at: ["spec", "leaseTransitions"])
        }
        // Optimistic: the resourceVersion read is in `updated`, so a replica that wrote since wins.
        let written = try await backend.update(updated, options: WriteOptions(fieldManager: "windlass"))
        observed = Observed(holder: identity, renewTime: now, resourceVersion: Self.version(written), seenAt: clock.now)
        return true
    }

    /// Gives the Lease up (its holder emptied), so another replica need not wait it out.
    private func release() async {
        guard var current = try? await backend.get(lease), current["spec"]?["holderIdentity"]?.stringValue == identity else { return }
        current.set(.string(""), at: ["spec", "holderIdentity"])
        current.set(.int(1), at: ["spec", "leaseDurationSeconds"])
        _ = try? await backend.update(current, options: WriteOptions(fieldManager: "windlass"))
        log.event("leader lease released", ["identity": identity])
    }

    static func version(_ object: Value) -> String {
        object["metadata"]?["resourceVersion"]?.stringValue ?? ""
    }
}
