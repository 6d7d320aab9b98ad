import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import WindlassCluster
import WindlassCore
import WindlassKube
import WindlassManifest
import WindlassRollout
import WindlassServer

/// The embedded cluster of a state directory as a command reaches it: opened in this process,
/// or, while `windlass serve` owns the directory, the same cluster through that daemon: its
/// Kubernetes API (`<state>/kubeconfig`) for objects, its HTTP API for what only the embedded
/// cluster does (failing and recovering nodes, uncordoning, simulated traffic). Either way the
/// command runs here and prints here; the daemon runs no CLI code.
struct StateCluster: ClusterBackend {
    enum Reach: Sendable {
        case local(EmbeddedCluster)
        case daemon(KubeCluster, DaemonRegistration)
    }

    let reach: Reach
    let stateDirectory: String

    /// Opens the cluster in `path`: through its daemon when one owns it, else in this process,
    /// brought up to date (controllers run until quiescent).
    static func open(_ path: String) async throws -> StateCluster {
        if let daemon = StateOwner.owner(of: path) {
            return StateCluster(reach: .daemon(try await Self.kubernetes(of: path, daemon: daemon), daemon), stateDirectory: path)
        }
        return StateCluster(reach: .local(try await Self.openEmbedded(path)), stateDirectory: path)
    }

    /// The embedded cluster in `path`, opened by this process and brought up to date.
    static func openEmbedded(_ path: String) async throws -> EmbeddedCluster {
        do {
            let cluster = try EmbeddedCluster(stateDirectory: path)
            try await cluster.reconcile()
            return cluster
        } catch {
            throw CommandFailure(message: error.description)
        }
    }

    /// A client of the daemon's Kubernetes API, from the kubeconfig it writes once it listens
    /// (waited for a few seconds while the daemon starts).
    static func kubernetes(of stateDirectory: String, daemon: DaemonRegistration) async throws -> KubeCluster {
        let path = stateDirectory + "/kubeconfig"
        let deadline = Date().addingTimeInterval(15)
        while !FileManager.default.fileExists(atPath: path) {
            guard Date() < deadline, kill(daemon.pid, 0) == 0 else {
                throw CommandFailure(
                    message: "windlass serve (pid \(daemon.pid)) owns \(stateDirectory), but has not written \(path) for its Kubernetes API: is it still starting?")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        do {
            return try KubeCluster(try Kubeconfig.load(explicitPath: path).select(), cache: nil)
        } catch {
            throw CommandFailure(message: "windlass serve (pid \(daemon.pid)) owns \(stateDirectory): \(error)")
        }
    }

    var backend: any ClusterBackend {
        switch reach {
        case .local(let cluster): cluster
        case .daemon(let cluster, _): cluster
        }
    }

    /// The embedded cluster's clock here; real time through a daemon.
    var clock: any ClusterClock {
        switch reach {
        case .local(let cluster): cluster.clock
        case .daemon: SystemClock()
        }
    }

    /// Runs the controllers until quiescent (in this process); through a daemon, its own
    /// controllers do.
    func reconcile(budget: Double? = nil) async throws(ClusterError) {
        if case .local(let cluster) = reach { _ = try await cluster.reconcile(budget: budget) }
    }

    /// Real time passing through the controllers, for waits.
    var driver: SyncDriver {
        switch reach {
        case .local(let cluster):
            return Wiring.driver(cluster)
        case .daemon:
            let clock = SystemClock()
            return .realTime(now: { clock.now() }, reconcile: {})
        }
    }

    func createNodes(count: Int, cpu: String, memory: String, labels: [String: String]) async throws {
        switch reach {
        case .local(let cluster):
            do {
                try await cluster.createNodes(count: count, cpu: cpu, memory: memory, labels: labels)
                try await cluster.reconcile()
            } catch {
                throw CommandFailure(message: error.description)
            }
        case .daemon(_, let daemon):
            throw CommandFailure(message: "windlass serve (pid \(daemon.pid)) owns \(stateDirectory) and created its nodes when it started")
        }
    }

    func failNode(_ name: String, graceSeconds: Double?) async throws {
        switch reach {
        case .local(let cluster):
            do { try await cluster.failNode(name, graceSeconds: graceSeconds) } catch { throw CommandFailure(message: error.description) }
        case .daemon(_, let daemon):
            let body: Value = graceSeconds.map { ["gracePeriod": .double($0)] } ?? [:]
            _ = try await Self.call(daemon, .POST, "cluster/nodes/\(name)/fail", body: body)
        }
    }

    func recoverNode(_ name: String) async throws {
        switch reach {
        case .local(let cluster):
            do { try await cluster.recoverNode(name) } catch { throw CommandFailure(message: error.description) }
        case .daemon(_, let daemon):
            _ = try await Self.call(daemon, .POST, "cluster/nodes/\(name)/recover")
        }
    }

    func uncordon(_ name: String) async throws {
        switch reach {
        case .local(let cluster):
            do { try await cluster.uncordon(name) } catch { throw CommandFailure(message: error.description) }
        case .daemon(_, let daemon):
            _ = try await Self.call(daemon, .POST, "cluster/nodes/\(name)/uncordon")
        }
    }

    func simulatedMetrics() async throws -> String {
        switch reach {
        case .local(let cluster): await cluster.simulatedMetrics()
        case .daemon(_, let daemon): try await Self.call(daemon, .GET, "cluster/metrics")
        }
    }

    /// A request to the daemon's HTTP API with its run's token; the answer's body, or the
    /// daemon's error as the command's failure.
    static func call(_ daemon: DaemonRegistration, _ method: HTTPMethod, _ path: String, body: Value? = nil) async throws -> String {
        var request = HTTPClientRequest(url: daemon.url + "/api/v1/" + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(daemon.token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: JSONWriter().write(body)))
        }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            let text = String(buffer: try await response.body.collect(upTo: 64 << 20))
            guard (200..<300).contains(Int(response.status.code)) else {
                let message = (try? YAMLReader.read(text).first?.root)?["error"]?.stringValue ?? text
                throw CommandFailure(message: message)
            }
            return text
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(message: "windlass serve (pid \(daemon.pid)) owns the state directory, but \(daemon.url) did not answer: \(error)")
        }
    }

    // MARK: - ClusterBackend, through whichever reach

    func discovery() async throws(ClusterError) -> RESTMapping { try await backend.discovery() }
    func list(_ kind: GroupKind, namespace: String?, options: ListOptions) async throws(ClusterError) -> ObjectList {
        try await backend.list(kind, namespace: namespace, options: options)
    }
    func get(_ id: ResourceID) async throws(ClusterError) -> Value { try await backend.get(id) }
    func create(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value { try await backend.create(object, options: options) }
    func update(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value { try await backend.update(object, options: options) }
    func updateStatus(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        try await backend.updateStatus(object, options: options)
    }
    func patch(_ id: ResourceID, _ patch: Patch, options: PatchOptions) async throws(ClusterError) -> Value {
        try await backend.patch(id, patch, options: options)
    }
    func delete(_ id: ResourceID, options: DeleteOptions) async throws(ClusterError) { try await backend.delete(id, options: options) }
    func evict(_ pod: ResourceID) async throws(ClusterError) { try await backend.evict(pod) }
    func watch(_ kind: GroupKind?, namespace: String?, since resourceVersion: String) async throws(ClusterError) -> AsyncStream<ClusterWatchEvent> {
        try await backend.watch(kind, namespace: namespace, since: resourceVersion)
    }
    func events(for id: ResourceID?) async throws(ClusterError) -> [ClusterEvent] { try await backend.events(for: id) }
    func logs(of pod: ResourceID, container: String?) async throws(ClusterError) -> [String] { try await backend.logs(of: pod, container: container) }
}
