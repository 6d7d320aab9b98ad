import Foundation
import Logging
import Synchronization
import HTTPTypes
import Hummingbird
import NIOCore
import WindlassCluster
import WindlassManifest
import WindlassPipeline
import WindlassPlan

extension Daemon {
    /// What every page of the UI is sent with: scripts and styles from the daemon only (no
    /// inline script runs, whatever a manifest or commit message holds), no framing, no referrer.
    static let pageHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        .init("X-Content-Type-Options")!: "nosniff",
        .init("Referrer-Policy")!: "no-referrer",
        .init("X-Frame-Options")!: "DENY",
        .cacheControl: "no-cache",
    ]

    /// `/` and `/ui/FILE`: the web UI, from the files compiled into the binary.
    func addPageRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in Self.asset("index.html") }
        router.get("/ui/:file") { _, context in Self.asset(context.parameters.get("file") ?? "") }
    }

    static func asset(_ name: String) -> Response {
        guard let file = UIAssets.files[name] else { return text(.notFound, "no such file\n") }
        var headers = pageHeaders
        headers[.contentType] = file.contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: file.text)))
    }

    /// `/api/v1/session`: a token exchanged for a session (POST), the session's access and
    /// CSRF token (GET), logout (DELETE).
    func addSessionRoutes(to api: RouterGroup<BasicRequestContext>) {
        let maxBody = options.config.server.maxBodyBytes
        let bodyTimeout = options.config.server.bodyTimeout
        api.post("session") { request, _ -> Response in
            var request = request
            let body: ByteBuffer
            switch await API.body(of: &request, limit: maxBody, timeout: bodyTimeout) {
            case .read(let read): body = read
            case .refused(let response): return response
            }
            guard let login = API.decode(API.LoginRequest.self, from: body, empty: API.LoginRequest(token: "")), !login.token.isEmpty else {
                return API.error(.badRequest, "expected {\"token\": \"…\"}")
            }
            // One answer for every refusal: nothing says whether a token is near one.
            guard let access = self.credentials.access(of: login.token) else {
                self.options.log.event("login refused", [:], level: .warning)
                return API.error(.unauthorized, "the token was not accepted")
            }
            let session = self.sessions.open(access: access, token: login.token)
            self.options.log.event("login", ["access": access.rawValue])
            var response = API.response(.ok, Self.sessionView(session))
            response.setCookie(Self.cookie(session.id, maxAge: Int(self.sessions.lifetime), request: request))
            return response
        }
        api.get("session") { request, _ -> Response in
            guard let id = request.cookies[SessionStore.cookieName]?.value, let session = self.sessions.session(id) else {
                return API.error(.unauthorized, "no session: log in")
            }
            return API.response(.ok, Self.sessionView(session))
        }
        api.delete("session") { request, _ -> Response in
            guard let id = request.cookies[SessionStore.cookieName]?.value, self.sessions.session(id) != nil else {
                return API.error(.unauthorized, "no session: log in")
            }
            if case .refused(let response) = self.credentials.check(request) { return response }
            self.sessions.close(id)
            var response = API.response(.ok, API.LoggedOut(loggedOut: true))
            response.setCookie(Self.cookie("", maxAge: 0, request: request))
            return response
        }
    }

    static func sessionView(_ session: SessionStore.Session) -> API.SessionView {
        API.SessionView(access: session.access.rawValue, csrfToken: session.csrf, expiresAt: Timestamp.rfc3339(session.expires))
    }

    /// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page
    /// sends it), Secure when the request came over TLS (a TLS-terminating proxy says so).
    static func cookie(_ value: String, maxAge: Int, request: Request) -> Cookie {
        let secure = request.headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https"
        return Cookie(name: SessionStore.cookieName, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// `GET /api/v1/events`: server-sent events naming what changed (see ``DaemonEvent``).
    /// Events that come together (a sync's many status changes) are sent together, at most
    /// every 100 ms, once each; a comment every 15 s keeps proxies from closing the stream.
    func addEventRoutes(reads: RouterGroup<BasicRequestContext>) {
        reads.get("events") { _, _ -> Response in
            let stream = self.events.subscribe()
            var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
            headers[.init("X-Accel-Buffering")!] = "no"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "retry: 1000\nevent: hello\ndata: {}\n\n"))
                    let (ticks, tick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                    let pending = PendingEvents()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await event in stream {
                                pending.add(event)
                                tick.yield()
                            }
                            tick.finish()
                        }
                        group.addTask {
                            while !Task.isCancelled {
                                try await Task.sleep(for: .seconds(15))
                                pending.keepAlive()
                                tick.yield()
                            }
                        }
                        for await _ in ticks {
                            try await Task.sleep(for: .milliseconds(100))
                            let text = pending.take()
                            if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                            if self.stopping.isSet { break }
                        }
                        group.cancelAll()
                    }
                    try await writer.finish(nil)
                })
        }
    }

    /// `/api/v1/applications/{name}/resources` (the tree) and `…/resources/object?kind=&…`
    /// (one object: live, desired, diff, events), from a plan of the head the daemon last
    /// fetched against the cluster as it is.
    func addResourceRoutes(reads: RouterGroup<BasicRequestContext>) {
        reads.get("applications/:name/resources") { _, context -> Response in
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            do {
                let (report, nodes) = try await self.currentTree(reconciler)
                let status = await reconciler.status
                return API.response(
                    .ok,
                    API.ResourceTree(
                        application: reconciler.application.name, revision: report.plan.source.revision, syncStatus: status.syncStatus.rawValue,
                        health: status.health.rawValue, resources: nodes), pretty: false)
            } catch {
                return API.error(.unprocessableContent, "\(error)")
            }
        }
        reads.get("applications/:name/resources/object") { request, context -> Response in
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            let query = request.uri.queryParameters
            guard let kind = query["kind"].map(String.init), let name = query["name"].map(String.init), !kind.isEmpty, !name.isEmpty else {
                return API.error(.badRequest, "name the object: ?group=&version=&kind=&namespace=&name=")
            }
            let namespace = query["namespace"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            let id = ResourceID(
                group: query["group"].map(String.init) ?? "", version: query["version"].map(String.init) ?? "v1", kind: kind, namespace: namespace, name: name)
            do {
                let (report, _) = try await self.currentTree(reconciler)
                let detail = await reconciler.pipeline.resourceDetail(report, id: id)
                guard detail.live != nil || detail.desired != nil else { return API.error(.notFound, "\(id) is neither in git nor in the cluster") }
                return API.response(.ok, detail)
            } catch {
                return API.error(.unprocessableContent, "\(error)")
            }
        }
    }
}

extension Daemon {
    /// The plan of the application's head against the cluster, and its resource tree. For an
    /// application on the daemon's own cluster it is kept until the revision, the application's
    /// status or the cluster changes (a page of 10,000 resources is then answered without a
    /// plan); on a Kubernetes destination it is made for each request.
    func currentTree(_ reconciler: ApplicationReconciler) async throws -> (PlanReport, [ResourceNode]) {
        let cacheable = !reconciler.pipeline.application.destination.isKubernetes
        let key = "\(events.clusterChangeCount) \(await reconciler.treeKey)"
        if cacheable, let cached = reconciler.treeCache.withLock({ $0?.key == key ? $0 : nil }) {
            return (cached.report, cached.nodes)
        }
        let report = try await reconciler.currentPlan()
        let nodes = try await reconciler.pipeline.resourceTree(report)
        if cacheable { reconciler.treeCache.withLock { $0 = .init(key: key, report: report, nodes: nodes) } }
        return (report, nodes)
    }
}

/// Events waiting to be sent on one stream, each once.
final class PendingEvents: Sendable {
    private struct State {
        var events: [DaemonEvent] = []
        var keepAlive = false
    }

    private let state = Mutex(State())

    func add(_ event: DaemonEvent) {
        state.withLock { if !$0.events.contains(event) { $0.events.append(event) } }
    }

    func keepAlive() { state.withLock { $0.keepAlive = true } }

    /// What to write now: the events, or a keep-alive comment when there are none.
    func take() -> String {
        state.withLock { state in
            defer { state = State() }
            if state.events.isEmpty { return state.keepAlive ? ": keep-alive\n\n" : "" }
            return state.events.map(\.text).joined()
        }
    }
}

extension Daemon {
    /// `GET /api/v1/cluster`: the daemon's cluster's nodes, each with its readiness and the pods
    /// and virtual machine instances placed on it.
    func addClusterRoutes(reads: RouterGroup<BasicRequestContext>, writes: RouterGroup<BasicRequestContext>) {
        // The embedded cluster's own operations, for the CLI beside the daemon (and scripts).
        reads.get("cluster/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: await self.cluster.metrics())))
        }
        writes.post("cluster/nodes/:node/:verb") { request, context -> Response in
            guard let nodes = self.cluster.nodes else {
                return API.error(.notFound, "\(self.cluster.connection.displayName) runs its own nodes: fail, recover and uncordon them there")
            }
            let node = context.parameters.get("node") ?? ""
            let verb = context.parameters.get("verb") ?? ""
            var request = request
            let body: ByteBuffer
            switch await API.body(of: &request, limit: 4096, timeout: self.options.config.server.bodyTimeout) {
            case .read(let read): body = read
            case .refused(let response): return response
            }
            do throws(ClusterError) {
                switch verb {
                case "fail":
                    guard let failing = API.decode(API.FailNodeRequest.self, from: body, empty: API.FailNodeRequest()) else {
                        return API.error(.badRequest, "expected {\"gracePeriod\": SECONDS}")
                    }
                    try await nodes.fail(node, failing.gracePeriod)
                case "recover": try await nodes.recover(node)
                case "uncordon": try await nodes.uncordon(node)
                default: return API.error(.notFound, "the node verbs are fail, recover and uncordon")
                }
            } catch {
                return API.error(error.code == .notFound ? .notFound : .unprocessableContent, error.description)
            }
            self.options.log.event("node \(verb)", ["node": node])
            return API.response(.ok, API.NodeChanged(node: node, verb: verb))
        }
        reads.get("cluster") { _, _ -> Response in
            let backend = self.cluster.connection.backend
            do {
                let known = Set(try await backend.kinds())
                let nodes = try await backend.list(GroupKind(group: "", kind: "Node"), namespace: nil, options: ListOptions()).items
                let pods = try await backend.list(GroupKind(group: "", kind: "Pod"), namespace: nil, options: ListOptions()).items
                let vmKind = GroupKind(group: "kubevirt.io", kind: "VirtualMachineInstance")
                let instances = known.contains(vmKind) ? try await backend.list(vmKind, namespace: nil, options: ListOptions()).items : []
                var views: [API.NodeView] = []
                for node in nodes {
                    let name = node[path: ["metadata", "name"]]?.stringValue ?? ""
                    let ready = (node[path: ["status", "conditions"]]?.sequenceValue ?? []).first { $0["type"]?.stringValue == "Ready" }
                    func placed(_ objects: [Value], _ path: [String]) -> [API.PlacedObject] {
                        objects.filter { $0[path: path]?.stringValue == name }.map { object in
                            let health = HealthAssessor.assess(object)
                            return API.PlacedObject(
                                namespace: object[path: ["metadata", "namespace"]]?.stringValue ?? "", name: object[path: ["metadata", "name"]]?.stringValue ?? "",
                                phase: object[path: ["status", "phase"]]?.stringValue ?? "", health: health?.status.rawValue)
                        }.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
                    }
                    views.append(
                        API.NodeView(
                            name: name, ready: ready?["status"]?.stringValue == "True", reason: ready?["reason"]?.stringValue,
                            unschedulable: node[path: ["spec", "unschedulable"]]?.boolValue ?? false,
                            cpu: node[path: ["status", "allocatable", "cpu"]].map(DaemonConfig.Reader.written),
                            memory: node[path: ["status", "allocatable", "memory"]].map(DaemonConfig.Reader.written),
                            pods: placed(pods, ["spec", "nodeName"]), virtualMachines: placed(instances, ["status", "nodeName"])))
                }
                return API.response(.ok, API.ClusterView(cluster: self.cluster.connection.displayName, nodes: views.sorted { $0.name < $1.name }))
            } catch {
                return API.error(.serviceUnavailable, "\(error)")
            }
        }
    }
}
