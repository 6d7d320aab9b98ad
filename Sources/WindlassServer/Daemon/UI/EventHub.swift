import Foundation
import Synchronization
import WindlassManifest

/// What happened in the daemon, for `GET /api/v1/events` (server-sent events): an
/// application's status changed (a fetch, a sync's progress, a canary step, health, a drift
/// check), or objects it manages changed in the cluster. Events name what changed; a client
/// reads the documented endpoints for the rest, so an event stream that lost an event (a slow
/// reader) is repaired by the next one.
struct DaemonEvent: Sendable, Hashable {
    enum Kind: String, Sendable {
        /// `GET /api/v1/applications/{name}` has changed.
        case application
        /// The embedded cluster's nodes or their pods changed (`GET /api/v1/cluster`).
        case cluster
    }

    var kind: Kind
    var application: String?

    /// The event as the stream sends it: `event: KIND` and a JSON `data:` line.
    var text: String {
        let data: Value = application.map { ["application": .string($0)] } ?? [:]
        return "event: \(kind.rawValue)\ndata: \(JSONWriter().write(data))\n\n"
    }
}

/// Hands each event to every open stream. A stream that does not keep up keeps only its newest
/// 256 events; nothing waits for it.
final class EventHub: Sendable {
    private struct State {
        var next = 0
        var subscribers: [Int: AsyncStream<DaemonEvent>.Continuation] = [:]
    }

    private let state = Mutex(State())
    private let clusterChanges = Atomic<Int>(0)

    /// How many changes the daemon's cluster has reported: what the resource tree was read
    /// at is still current while this has not moved.
    var clusterChangeCount: Int { clusterChanges.load(ordering: .acquiring) }

    func publish(_ event: DaemonEvent) {
        if event.kind == .cluster { clusterChanges.add(1, ordering: .releasing) }
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    /// A stream of the events from now on; it ends when the caller stops iterating it.
    func subscribe() -> AsyncStream<DaemonEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: DaemonEvent.self, bufferingPolicy: .bufferingNewest(256))
        let id = state.withLock { state -> Int in
            state.next += 1
            state.subscribers[state.next] = continuation
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }
}
