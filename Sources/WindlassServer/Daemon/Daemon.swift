import Logging
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import UnixSignals
import Synchronization
import WindlassCore
import WindlassPipeline
import WindlassGit
import WindlassCluster
import WindlassManifest
import WindlassPlan
import WindlassRollout

#if canImport(Glibc)
import Glibc
#endif

/// `windlass serve`: the applications' reconcilers, the embedded cluster's controllers and the
/// HTTP API under one ServiceGroup. SIGTERM or SIGINT: no new work is taken, the HTTP server
/// stops, and a sync in progress has 8 s to finish its wave before it is cancelled (its canary
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
    let reconcilers: [String: ApplicationReconciler]
    let metrics = DaemonMetrics()
    let apiTokens: [String]
    /// The token of this run, for the CLI on this machine (written to `<state>/daemon.json`).
    let localToken = DaemonRegistration.makeToken()
    let webhookSecrets: [String: String]
    let deliveries = DeliveryLogBox()

    /// Resolves the secrets (a missing one is an error naming its reference) and makes each
    /// application's pipeline over `cluster`.
    public init(options: Options, cluster: DaemonCluster) throws {
        self.options = options
        self.cluster = cluster
        apiTokens = try options.config.server.apiTokens.map { try $0.resolve() }
        var secrets: [String: String] = [:]
        for (provider, reference) in options.config.server.webhooks { secrets[provider] = try reference.resolve() }
        webhookSecrets = secrets
        var reconcilers: [String: ApplicationReconciler] = [:]
        for entry in options.config.applications {
            var application = entry.pipelineApplication
            application.syncOptions.waveTimeout = options.waveTimeout
            let pipeline = ApplicationPipeline(application: application, cluster: cluster.connection, stateDirectory: options.stateDirectory)
            reconcilers[entry.name] = ApplicationReconciler(application: entry, pipeline: pipeline, log: options.log, metrics: metrics)
        }
        self.reconcilers = reconcilers
    }

    /// Runs a CLI command inside the daemon (the daemon owns the state directory): its exit
    /// status and what it printed.
    public typealias CommandRunner = @Sendable ([String]) async -> (status: Int32, stdout: String, stderr: String)

    /// Runs until SIGTERM or SIGINT, then returns. `commands` runs the CLI commands forwarded
    /// to `/api/v1/cli`.
    public func run(commands: CommandRunner? = nil, onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        var quiet = Logger(label: "windlass.lifecycle")
        quiet.logLevel = .error
        let application = Application(
            router: router(commands: commands),
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(address: .hostname(options.config.server.host, port: options.config.server.port), serverName: "windlass"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let host = self.options.config.server.host
                let reachable = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
                DaemonRegistration(pid: getpid(), url: "http://\(reachable.contains(":") ? "[\(reachable)]" : reachable):\(port)", token: self.localToken)
                    .write(stateDirectory: self.options.stateDirectory)
                self.options.log.event("listening", ["address": "\(host):\(port)"])
                onListening(port)
            },
            logger: quiet)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = cluster.services.map { .init(service: $0) }
        for reconciler in reconcilers.values.sorted(by: { $0.application.name < $1.application.name }) {
            services.append(.init(service: ReconcilerService(reconciler: reconciler)))
            if let schedule = reconciler.application.drift {
                services.append(.init(service: DriftScheduleService(reconciler: reconciler, schedule: schedule), successTerminationBehavior: .ignore))
            }
        }
        services.append(.init(service: application))
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: quiet)
        configuration.maximumGracefulShutdownDuration = .seconds(8)
        configuration.maximumCancellationDuration = .seconds(1)
        let group = ServiceGroup(configuration: configuration)
        options.log.event("started", ["applications": reconcilers.keys.sorted().joined(separator: ","), "state": options.stateDirectory])
        defer { DaemonRegistration.remove(stateDirectory: options.stateDirectory) }
        try await group.run()
        options.log.event("stopped")
    }

    // MARK: HTTP

    func router(commands: CommandRunner?) -> Router<BasicRequestContext> {
        let router = Router()
        let maxBody = options.config.server.maxBodyBytes
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            for reconciler in self.reconcilers.values {
                let status = await reconciler.status
                if status.fetches == 0 && status.lastError == nil {
                    return Self.text(.serviceUnavailable, "not ready: \(reconciler.application.name) has not fetched yet\n")
                }
            }
            return Self.text(.ok, "ready\n")
        }
        router.get("/metrics") { _, _ -> Response in
            let text = self.metrics.text() + (await self.cluster.metrics())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        let api = router.group("api/v1")
        api.get("applications") { request, context -> Response in
            if let denied = self.authorize(request, context, mutating: false) { return denied }
            var items: [Value] = []
            for reconciler in self.reconcilers.values.sorted(by: { $0.application.name < $1.application.name }) {
                items.append(await Self.json(reconciler))
            }
            return Self.json(.ok, ["applications": .sequence(items)])
        }
        api.get("applications/:name") { request, context -> Response in
            if let denied = self.authorize(request, context, mutating: false) { return denied }
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            return Self.json(.ok, await Self.json(reconciler))
        }
        api.get("applications/:name/drift") { request, context -> Response in
            if let denied = self.authorize(request, context, mutating: false) { return denied }
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            guard let check = await reconciler.status.drift else {
                return Self.json(.notFound, ["error": .string("no drift check of \(reconciler.application.name) yet")])
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: check.json.hasSuffix("\n") ? check.json : check.json + "\n")))
        }
        api.post("applications/:name/sync") { request, context -> Response in
            if let denied = self.authorize(request, context, mutating: true) { return denied }
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            reconciler.syncNow()
            return Self.json(.accepted, ["application": .string(reconciler.application.name), "sync": "queued"])
        }
        api.post("applications/:name/rollback") { request, context -> Response in
            if let denied = self.authorize(request, context, mutating: true) { return denied }
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            var request = request
            let body = (try? await request.collectBody(upTo: maxBody)).flatMap { try? YAMLReader.read(Array(buffer: $0)).first?.root }
            let number = body?["revision"]?.intValue
            if let given = body?["revision"], number == nil, !given.isNull {
                return Self.json(.badRequest, ["error": "revision must be a revision number"])
            }
            reconciler.rollback(to: number)
            return Self.json(.accepted, ["application": .string(reconciler.application.name), "rollback": number.map(Value.int) ?? "previous"])
        }
        api.get("applications/:name/history") { request, context -> Response in
            if let denied = self.authorize(request, context, mutating: false) { return denied }
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            do {
                let history = try reconciler.pipeline.revisions().history(reconciler.application.name)
                return Self.json(.ok, ["application": .string(reconciler.application.name), "revisions": .sequence(history.map(\.value))])
            } catch {
                return Self.json(.internalServerError, ["error": .string("\(error)")])
            }
        }
        api.post("applications/:name/plan") { request, context -> Response in
            if let denied = self.authorize(request, context, mutating: false) { return denied }
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            var request = request
            let body = (try? await request.collectBody(upTo: maxBody)).flatMap { try? YAMLReader.read(Array(buffer: $0)).first?.root }
            let (json, error) = await reconciler.plan(ref: body?["revision"]?.stringValue)
            guard let json else { return Self.json(.unprocessableContent, ["error": .string(error ?? "the plan failed")]) }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
        }
        api.post("rollouts/:namespace/:rollout/:verb") { request, context -> Response in
            if let denied = self.authorize(request, context, mutating: true) { return denied }
            let namespace = context.parameters.get("namespace") ?? ""
            let name = context.parameters.get("rollout") ?? ""
            guard let verb = context.parameters.get("verb").flatMap(RolloutRequest.init(rawValue:)) else {
                return Self.json(.notFound, ["error": "the verbs are promote, abort and retry"])
            }
            return await self.rollout(namespace: namespace, name: name, verb)
        }
        api.post("cli") { request, context -> Response in
            // Only the CLI on this machine: the run's own token (from daemon.json), not API tokens.
            guard let token = Self.bearer(request), Self.constantTimeEqual(token, self.localToken) else {
                return Self.json(.unauthorized, ["error": "CLI commands take the token in the state directory's daemon.json"])
            }
            guard let commands else { return Self.json(.notFound, ["error": "this daemon runs no CLI commands"]) }
            var request = request
            guard let body = try? await request.collectBody(upTo: maxBody), let value = try? YAMLReader.read(Array(buffer: body)).first?.root,
                let arguments = value["arguments"]?.sequenceValue?.compactMap(\.stringValue)
            else { return Self.json(.badRequest, ["error": "expected {\"arguments\": [...]}"]) }
            self.options.log.event("cli", ["arguments": arguments.joined(separator: " ")], level: .debug)
            let result = await commands(arguments)
            return Self.json(.ok, ["status": .int(Int(result.status)), "stdout": .string(result.stdout), "stderr": .string(result.stderr)])
        }
        for provider in ["github", "gitlab", "generic"] {
            api.post("webhooks/\(provider)") { request, context -> Response in
                var request = request
                let body: ByteBuffer
                do {
                    body = try await request.collectBody(upTo: maxBody)
                } catch {
                    self.metrics.webhook(provider, outcome: "too-large")
                    return Self.json(.contentTooLarge, ["error": .string("the body is larger than \(maxBody) bytes")])
                }
                return await self.webhook(provider, request: request, body: Array(buffer: body))
            }
        }
        return router
    }

    func reconciler(_ context: BasicRequestContext) -> ApplicationReconciler? {
        context.parameters.get("name").flatMap { reconcilers[$0] }
    }

    /// Mutations need a bearer token: a configured one, or this run's (in `<state>/daemon.json`, for
    /// the CLI on this machine). Reads are open on loopback only.
    func authorize(_ request: Request, _ context: BasicRequestContext, mutating: Bool) -> Response? {
        let loopback = ["127.0.0.1", "::1", "localhost"].contains(options.config.server.host)
        if !mutating && loopback { return nil }
        guard let token = Self.bearer(request), (apiTokens + [localToken]).contains(where: { Self.constantTimeEqual($0, token) }) else {
            return Self.json(.unauthorized, ["error": "a valid bearer token is required"])
        }
        return nil
    }

    /// A push webhook: the signature (or token) checked, the delivery id remembered, the
    /// applications whose repository it names asked to fetch at once.
    func webhook(_ provider: String, request: Request, body: [UInt8]) async -> Response {
        guard let secret = webhookSecrets[provider] else {
            metrics.webhook(provider, outcome: "not-configured")
            return Self.json(.notFound, ["error": .string("no \(provider) webhook is configured")])
        }
        let verified: Bool
        let delivery: String?
        let event: String?
        switch provider {
        case "github":
            verified = HMACSHA256.verify(signature: request.headers[HTTPField.Name("X-Hub-Signature-256")!] ?? "", key: secret, message: body)
            delivery = request.headers[HTTPField.Name("X-GitHub-Delivery")!]
            event = request.headers[HTTPField.Name("X-GitHub-Event")!]
        case "gitlab":
            verified = Self.constantTimeEqual(request.headers[HTTPField.Name("X-Gitlab-Token")!] ?? "", secret)
            delivery = request.headers[HTTPField.Name("X-Gitlab-Event-UUID")!]
            event = (request.headers[HTTPField.Name("X-Gitlab-Event")!]).map { $0 == "Push Hook" || $0 == "Tag Push Hook" ? "push" : $0 }
        default:
            verified = HMACSHA256.verify(signature: request.headers[HTTPField.Name("X-Windlass-Signature-256")!] ?? "", key: secret, message: body)
            delivery = request.headers[HTTPField.Name("X-Windlass-Delivery")!]
            event = "push"
        }
        guard verified else {
            metrics.webhook(provider, outcome: "unauthorized")
            options.log.event("webhook refused", ["provider": provider, "reason": "bad signature"], level: .warning)
            return Self.json(.unauthorized, ["error": "the signature does not match"])
        }
        if event == "ping" {
            metrics.webhook(provider, outcome: "ping")
            return Self.json(.ok, ["event": "ping"])
        }
        guard event == "push" else {
            metrics.webhook(provider, outcome: "ignored")
            return Self.json(.accepted, ["ignored": .string("event \(event ?? "(none)") is not a push")])
        }
        guard let urls = WebhookPush.repositories(in: body) else {
            metrics.webhook(provider, outcome: "malformed")
            return Self.json(.badRequest, ["error": "the body is not JSON"])
        }
        if let delivery, !deliveries.insert(delivery) {
            metrics.webhook(provider, outcome: "replayed")
            return Self.json(.ok, ["replayed": .string(delivery), "triggered": []])
        }
        let wanted = Set(urls.map(WebhookPush.normalize))
        var triggered: [Value] = []
        for reconciler in reconcilers.values.sorted(by: { $0.application.name < $1.application.name })
        where wanted.isEmpty || wanted.contains(WebhookPush.normalize(reconciler.application.repository)) {
            reconciler.trigger()
            triggered.append(.string(reconciler.application.name))
        }
        metrics.webhook(provider, outcome: triggered.isEmpty ? "unmatched" : "triggered")
        options.log.event("webhook", ["provider": provider, "delivery": delivery ?? "", "triggered": triggered.compactMap(\.stringValue).joined(separator: ",")])
        return Self.json(.accepted, ["triggered": .sequence(triggered)])
    }

    /// A rollout verb for the canary of workload `namespace/name`: recorded for the application
    /// that manages the workload, whose sync takes it (resuming a paused sync).
    func rollout(namespace: String, name: String, _ verb: RolloutRequest) async -> Response {
        for kind in ["Deployment", "StatefulSet"] {
            let id = ResourceID(group: "apps", version: "v1", kind: kind, namespace: namespace, name: name)
            guard let object = try? await cluster.connection.backend.get(id) else { continue }
            let owner = object[path: ["metadata", "labels", SyncAnnotations.applicationLabel]]?.stringValue
            guard let owner, let reconciler = reconcilers[owner] else {
                return Self.json(.conflict, ["error": .string("\(id) is not managed by an application of this daemon")])
            }
            do {
                try reconciler.pipeline.revisions().request(owner, target: id, verb)
            } catch {
                return Self.json(.internalServerError, ["error": .string("\(error)")])
            }
            reconciler.trigger()
            options.log.event("rollout request", ["application": owner, "target": id.description, "request": verb.rawValue])
            return Self.json(.accepted, ["application": .string(owner), "target": .string(id.description), "request": .string(verb.rawValue)])
        }
        return Self.json(.notFound, ["error": .string("no Deployment or StatefulSet \(namespace)/\(name)")])
    }

    static func json(_ reconciler: ApplicationReconciler) async -> Value {
        let status = await reconciler.status
        let app = reconciler.application
        var lastSync: Value = .null
        if let last = status.lastSync {
            lastSync = [
                "revision": last.revision.map(Value.string) ?? .null, "number": last.number.map(Value.int) ?? .null,
                "outcome": .string(last.outcome.rawValue), "message": .string(last.message),
                "startedAt": .string(Timestamp.rfc3339(last.startedAt)), "finishedAt": .string(Timestamp.rfc3339(last.finishedAt)),
            ]
        }
        return [
            "name": .string(app.name),
            "source": ["repo": .string((try? RemoteURL(app.repository))?.description ?? app.repository), "ref": .string(app.ref), "path": .string(app.path)],
            "destination": ["cluster": .string(app.cluster), "namespace": .string(app.namespace)],
            "syncedRevision": status.syncedRevision.map(Value.string) ?? .null,
            "headRevision": status.headRevision.map(Value.string) ?? .null,
            "syncStatus": .string(status.syncStatus.rawValue),
            "health": .string(status.health.rawValue),
            "lastSync": lastSync,
            "lastError": status.lastError.map(Value.string) ?? .null,
            "rollout": status.rollout.map(Value.string) ?? .null,
            "fetches": .int(status.fetches),
        ]
    }

    static func json(_ status: HTTPResponse.Status, _ value: Value) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: JSONWriter(pretty: true).write(value) + "\n")))
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func notFound(_ context: BasicRequestContext) -> Response {
        json(.notFound, ["error": .string("no application \(context.parameters.get("name") ?? "")")])
    }

    /// The token of an `Authorization: Bearer …` header.
    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        return String(header.dropFirst(7))
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0
    }
}

/// The remembered webhook deliveries, shared by the handlers.
final class DeliveryLogBox: Sendable {
    private let log = Mutex(DeliveryLog())

    func insert(_ id: String) -> Bool { log.withLock { $0.insert(id) } }
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
                guard (try? await Task.sleep(for: .seconds(max(0, next - now)))) != nil else { return }
                reconciler.checkDriftSoon()
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
