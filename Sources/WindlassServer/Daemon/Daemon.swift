import Logging
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import UnixSignals
import Synchronization
import WindlassCore
public import WindlassPipeline
import WindlassGit
public import WindlassCluster
import WindlassManifest
import WindlassPlan
import WindlassRollout

#if canImport(Glibc)
import Glibc
#endif

/// `windlass serve`: the applications' reconcilers, the embedded cluster's controllers and the
/// HTTP API under one ServiceGroup. SIGTERM or SIGINT: no new work is taken, the HTTP server
/// stops, and a sync in progress has 6 s to finish its wave before it is cancelled (its canary
/// progress is durable and the next start resumes it); the process exits 0.
public final class Daemon: Sendable {
    public struct Options: Sendable {
        public var config: DaemonConfig
        public var stateDirectory: String
        public var log: DaemonLog
        public var waveTimeout: Double = 300

        public init(config: DaemonConfig, stateDirectory: String, log: DaemonLog) {
            self.config = config
            self.stateDirectory = stateDirectory
            self.log = log
        }
    }

    let options: Options
    let cluster: DaemonCluster
    /// Where the leader's Lease is kept (nil: no election).
    let leaseCluster: (any ClusterBackend)?
    let reconcilers: [String: ApplicationReconciler]
    let metrics = DaemonMetrics()
    let apiTokens: [String]
    /// The token of this run, for the CLI on this machine (written to `<state>/daemon.json`).
    let localToken = BearerToken.make()
    let webhookSecrets: [String: String]
    let deliveries = DeliveryLogBox()
    /// What changed, for `GET /api/v1/events`.
    let events = EventHub()
    /// The web UI's sessions.
    let sessions: SessionStore
    /// The tokens and sessions the API accepts.
    let credentials: Credentials
    /// Set when SIGTERM or SIGINT arrives: canaries then take no further step.
    /// Whether the daemon is stopping.
    let stopping = OnceFlag()

    /// Resolves the secrets (a missing one is an error naming its reference) and makes each
    /// application's pipeline over `cluster`.
    /// `connect` wires a Kubernetes destination (its kubeconfig and context) once per
    /// destination; when it fails, the applications on that destination report why and the
    /// others run.
    public init(
        options: Options, cluster: DaemonCluster,
        connect: @Sendable (WindlassPipeline.Application.Destination) throws -> ClusterConnection = { destination in
            throw ClusterError(.unavailable, "no Kubernetes client is wired for \(destination.description)")
        }
    ) throws {
        self.options = options
        self.cluster = cluster
        if let election = options.config.server.leaderElection {
            let destination = WindlassPipeline.Application.Destination(cluster: "kubernetes", kubeconfig: election.kubeconfig, context: election.context)
            leaseCluster = try connect(destination).backend
        } else {
            leaseCluster = nil
        }
        apiTokens = try options.config.server.apiTokens.map { try $0.resolve() }
        let readOnlyTokens = try options.config.server.readOnlyTokens.map { try $0.resolve() }
        let accepted = Dictionary(
            (apiTokens.map { (SessionStore.digest($0), Access.write) }) + readOnlyTokens.map { (SessionStore.digest($0), Access.read) }, uniquingKeysWith: { a, _ in a })
        sessions = SessionStore(
            lifetime: options.config.server.sessionTTL, file: options.stateDirectory + "/sessions.json", stillAccepted: { accepted[$0] == $1 })
        let loopback = options.config.server.readsOpenOnLoopback && ["127.0.0.1", "::1", "localhost"].contains(options.config.server.host)
        credentials = Credentials(writeTokens: apiTokens + [localToken], readTokens: readOnlyTokens, sessions: sessions, loopbackReads: loopback)
        var secrets: [String: String] = [:]
        for (provider, reference) in options.config.server.webhooks { secrets[provider] = try reference.resolve() }
        webhookSecrets = secrets
        var reconcilers: [String: ApplicationReconciler] = [:]
        var connections: [WindlassPipeline.Application.Destination: ClusterConnection] = [:]
        for entry in options.config.applications {
            var application = entry.pipelineApplication
            application.syncOptions.waveTimeout = options.waveTimeout
            var connection = cluster.connection
            if application.destination.isKubernetes {
                var key = application.destination
                key.namespace = ""
                if let known = connections[key] {
                    connection = known
                } else {
                    do {
                        connection = try connect(application.destination)
                    } catch {
                        let message = "\(application.destination.description): \(error)"
                        options.log.event("destination unavailable", ["app": entry.name, "error": message])
                        let clock = connection.driver
                        connection = ClusterConnection(
                            backend: UnavailableCluster(ClusterError(.unavailable, message)), driver: clock, displayName: application.destination.description,
                            historyKey: "unavailable")
                    }
                    connections[key] = connection
                }
            }
            var pipeline = ApplicationPipeline(application: application, cluster: connection, stateDirectory: options.stateDirectory)
            pipeline.restrictAnalysis(to: entry.analysisHosts)
            pipeline.twinFactory = DaemonCluster.twins
            let stopping = self.stopping
            pipeline.stopRequested = { stopping.isSet }
            let events = self.events
            reconcilers[entry.name] = ApplicationReconciler(
                application: entry, pipeline: pipeline, log: options.log, metrics: metrics,
                statusChanged: { events.publish(DaemonEvent(kind: .application, application: $0)) })
        }
        self.reconcilers = reconcilers
    }

    /// Runs until SIGTERM or SIGINT, then returns.
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        var quiet = Logger(label: "windlass.lifecycle")
        quiet.logLevel = .error
        // Bind first, then start work: controllers, reconcilers and drift schedules wait until
        // the server listens, so an address in use ends the run before anything is synced.
        let gate = StartGate()
        let application = Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(address: .hostname(options.config.server.host, port: options.config.server.port), serverName: "windlass"),
            onServerRunning: { channel in
                // Listening: the work may start (a busy address fails the run before any).
                gate.open()
                let port = channel.localAddress?.port ?? 0
                let host = self.options.config.server.host
                let reachable = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
                DaemonRegistration(pid: getpid(), url: "http://\(reachable.contains(":") ? "[\(reachable)]" : reachable):\(port)", token: self.localToken)
                    .write(stateDirectory: self.options.stateDirectory)
                self.options.log.event("listening", ["address": "\(host):\(port)"])
                onListening(port)
            },
            logger: quiet)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = cluster.services.map { .init(service: GatedService(gate: gate, service: $0)) }
        // With leader election, the work waits for leadership too; the elector comes first so
        // that a graceful shutdown releases the Lease after the work has stopped.
        var work = gate
        if let leaseCluster, let election = options.config.server.leaderElection {
            let elected = StartGate()
            let elector = LeaderElector(
                backend: leaseCluster, namespace: election.namespace, name: election.name, identity: LeaderElector.makeIdentity(), log: options.log,
                elected: elected)
            services.insert(.init(service: GatedService(gate: gate, service: elector)), at: 0)
            work = StartGate.both(gate, elected)
        }
        for reconciler in reconcilers.values.sorted(by: { $0.application.name < $1.application.name }) {
            services.append(.init(service: GatedService(gate: work, service: ReconcilerService(reconciler: reconciler))))
            if let changes = reconciler.pipeline.cluster.changes {
                services.append(
                    .init(
                        service: GatedService(gate: work, service: LiveChangeService(reconciler: reconciler, changes: changes)),
                        successTerminationBehavior: .ignore))
            }
            if let schedule = reconciler.application.drift {
                services.append(
                    .init(service: GatedService(gate: work, service: DriftScheduleService(reconciler: reconciler, schedule: schedule)), successTerminationBehavior: .ignore))
            }
        }
        services.append(.init(service: GatedService(gate: gate, service: ClusterEventService(backend: cluster.connection.backend, events: events)), successTerminationBehavior: .ignore))
        services.append(.init(service: application))
        services.append(.init(service: ShutdownNotice(log: options.log, flag: stopping), successTerminationBehavior: .ignore))
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: quiet)
        configuration.maximumGracefulShutdownDuration = .seconds(6)
        // What is cancelled then (a reconcile of a large cluster, a blocking read) gets 3 s more
        // before the process gives up on it: 9 s in all, under the 10 s a supervisor waits.
        configuration.maximumCancellationDuration = .seconds(3)
        let group = ServiceGroup(configuration: configuration)
        options.log.event("started", ["applications": reconcilers.keys.sorted().joined(separator: ","), "state": options.stateDirectory])
        defer { DaemonRegistration.remove(stateDirectory: options.stateDirectory) }
        do {
            try await group.run()
        } catch let error as IOError {
            let address = "\(options.config.server.host):\(options.config.server.port)"
            let reason = error.errnoCode == EADDRINUSE ? "the address is in use (by another windlass serve?)" : String(cString: strerror(error.errnoCode))
            throw ListenError(description: "cannot listen on \(address): \(reason); nothing was synced")
        }
        options.log.event("stopped")
    }

    // MARK: HTTP

    /// The API, by concern: health and metrics, applications, rollouts, the cluster, webhooks.
    /// Tokens are checked by middleware: reads are open on loopback, writes need a token;
    /// webhooks carry signatures instead. The CLI beside the daemon uses the same routes (with
    /// this run's token from `daemon.json`) and the cluster's Kubernetes API.
    func router() -> Router<BasicRequestContext> {
        let router = Router()
        addHealthRoutes(to: router)
        addPageRoutes(to: router)
        let api = router.group("api/v1")
        addSessionRoutes(to: api)
        let reads = api.group().add(middleware: TokenAuthentication(access: .read, credentials: credentials))
        let writes = api.group().add(middleware: TokenAuthentication(access: .write, credentials: credentials))
        addApplicationRoutes(reads: reads, writes: writes)
        addResourceRoutes(reads: reads)
        addClusterRoutes(reads: reads, writes: writes)
        addEventRoutes(reads: reads)
        addRolloutRoutes(writes: writes)
        addWebhookRoutes(to: api)
        return router
    }
}

/// The server could not listen: the run ended before any work.
public struct ListenError: Error, CustomStringConvertible {
    public var description: String
}

/// Opened once the server listens; services of work wait for it.
final class StartGate: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var next: UInt64 = 0
    }
    private let state = Mutex(State())

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.isOpen = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Whether the gate opened (false: the waiting task was cancelled first).
    func wait() async -> Bool {
        let id = state.withLock { state -> UInt64 in
            state.next += 1
            return state.next
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow: Bool? = state.withLock { state in
                    if state.isOpen { return true }
                    if Task.isCancelled { return false }
                    state.waiters[id] = continuation
                    return nil
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: false)
        }
    }
}

/// A service that starts once the gate opens, and does not start at all when the group is
/// cancelled first (the server could not listen).
struct GatedService: Service {
    let gate: StartGate
    let service: any Service

    func run() async throws {
        guard await gate.wait() else { return }
        try await service.run()
    }
}

extension StartGate {
    /// A gate that opens once both have.
    static func both(_ first: StartGate, _ second: StartGate) -> StartGate {
        let combined = StartGate()
        Task {
            if await first.wait(), await second.wait() { combined.open() }
        }
        return combined
    }
}

/// Logs the start of a graceful shutdown (SIGTERM or SIGINT) and raises the stop flag.
struct ShutdownNotice: Service {
    let log: DaemonLog
    let flag: OnceFlag

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return
        }
        flag.set()
        log.event("stopping", ["reason": "a stop signal (SIGTERM or SIGINT): no new work; a sync in progress has 6 s, canaries take no further step"])
    }
}

/// The remembered webhook deliveries (by id, and by the digest of their signed body), shared by
/// the handlers.
final class DeliveryLogBox: Sendable {
    private let log = Mutex(DeliveryLog())
    private let bodies = Mutex(RecentBodies())

    func insert(_ id: String) -> Bool { log.withLock { $0.insert(id) } }

    func insert(body digest: String, now: Double) -> Bool { bodies.withLock { $0.insert(digest, now: now) } }
}


/// An application's drift schedule: a cron expression, or an interval with up to 10 % jitter so
/// many applications do not all look at once.
struct DriftScheduleService: Service {
    let reconciler: ApplicationReconciler
    let schedule: DaemonConfig.DriftSchedule

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let now = SystemClock().now()
                let next: Double
                switch schedule {
                case .cron(let cron):
                    guard let fire = cron.next(after: now) else { return }
                    next = fire
                case .interval(let seconds):
                    next = now + seconds * Double.random(in: 0.9...1.0)
                }
                reconciler.driftScheduled(at: next)
                guard (try? await Task.sleep(for: .seconds(max(0, next - now)))) != nil else { return }
                reconciler.checkDriftSoon()
            }
        }
    }
}

/// Drift checks when the cluster says one of the application's objects changed: its spec
/// (a new generation), an object without one (a ConfigMap's data), or a deletion. Changes
/// that arrive together make one check, a quarter second after the first.
struct LiveChangeService: Service {
    let reconciler: ApplicationReconciler
    let changes: @Sendable () -> AsyncStream<ClusterWatchEvent>

    func run() async throws {
        let label = SyncAnnotations.applicationLabel
        let name = reconciler.application.name
        let stream = changes()
        await cancelWhenGracefulShutdown {
            var generations: [ResourceID: Int] = [:]
            await withDiscardingTaskGroup { group in
                let (ticks, tick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                group.addTask {
                    for await _ in ticks {
                        try? await Task.sleep(for: .milliseconds(250))
                        reconciler.checkDriftSoon()
                    }
                }
                for await event in stream {
                    guard event.object[path: ["metadata", "labels", label]]?.stringValue == name, let id = ResourceID(object: event.object) else { continue }
                    let generation = event.object[path: ["metadata", "generation"]]?.intValue
                    var relevant = true
                    switch event.kind {
                    case .deleted:
                        generations.removeValue(forKey: id)
                    case .added, .modified:
                        if let generation {
                            relevant = generations[id] != generation
                            generations[id] = generation
                        }
                    case .bookmark, .error:
                        relevant = false
                    }
                    if relevant { tick.yield() }
                }
                tick.finish()
            }
        }
    }
}

/// Watches the daemon's own cluster and says `cluster` on the event stream when anything in it
/// changes (pods starting, nodes failing), so open pages refresh their trees. A cluster that
/// cannot be watched this way (all kinds at once) simply sends none.
struct ClusterEventService: Service {
    let backend: any ClusterBackend
    let events: EventHub

    func run() async throws {
        guard let stream = try? await backend.watch(nil, namespace: nil, since: "0") else { return }
        await cancelWhenGracefulShutdown {
            for await event in stream {
                if case .bookmark = event.kind { continue }
                events.publish(DaemonEvent(kind: .cluster, application: nil))
            }
        }
    }
}

/// One application's reconciler: at graceful shutdown it takes no new work and ends when its
/// current work does (the group cancels it at its deadline).
struct ReconcilerService: Service {
    let reconciler: ApplicationReconciler

    func run() async throws {
        await withGracefulShutdownHandler {
            await reconciler.run()
        } onGracefulShutdown: {
            reconciler.stopTakingWork()
        }
    }
}
