import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import Synchronization
import WindlassCluster
import WindlassManifest
import WindlassPipeline
@testable import WindlassPlan
import WindlassRollout
import WindlassTesting
@testable import WindlassServer

/// The web UI's server side through the router: its pages, sessions, CSRF and read-only access.
/// The browser scenario (Tests/ui/scenario.py) drives the same through chromium.
@Suite("The web UI's routes")
struct WebUIRouteTests {
    /// The session cookie's value from a response's Set-Cookie.
    static func cookie(_ response: TestResponse) -> String? {
        guard let header = response.headers[.setCookie], let match = header.firstMatch(of: /windlass_session=([0-9a-f]*)/) else { return nil }
        return String(match.1)
    }

    static func login(_ client: any TestClientProtocol, _ token: String) async throws -> (cookie: String, csrf: String)? {
        try await client.execute(
            uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: "{\"token\": \"\(token)\"}")
        ) { response in
            guard response.status == .ok, let cookie = cookie(response), let csrf = json(response.body)["csrfToken"] as? String else { return nil }
            return (cookie, csrf)
        }
    }

    @Test("the pages are the files in ui/, sent with a Content-Security-Policy that allows no inline script")
    func pages() async throws {
        let bed = try RouteBed()
        try await bed.test { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let policy = response.headers[.contentSecurityPolicy] ?? ""
                #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline") && policy.contains("frame-ancestors 'none'"))
                #expect(String(buffer: response.body).contains("<script type=\"module\" src=\"/ui/app.js\"></script>"))
            }
            try await client.execute(uri: "/ui/app.js", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
            }
            try await client.execute(uri: "/ui/../windlass.yaml", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/ui/nothing.js", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test("the files compiled into the binary are ui/ as it is (run scripts/embed-ui.py after editing it)")
    func embedded() throws {
        let directory = repositoryRoot + "/ui"
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        #expect(names == UIAssets.files.keys.sorted())
        for name in names {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            #expect(UIAssets.files[name]?.text == String(text.dropLast(text.hasSuffix("\n") ? 1 : 0)), "\(name) differs: run scripts/embed-ui.py")
        }
    }

    @Test("a token becomes an HttpOnly, SameSite=Strict session; a wrong one is 401 with no detail; logout ends it")
    func sessions() async throws {
        let bed = try RouteBed(anonymousReads: false)
        try await bed.test { client in
            try await client.execute(
                uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{\"token\": \"route-test-tokem\"}")
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(json(response.body)["error"] as? String == "the token was not accepted")
                #expect(response.headers[.setCookie] == nil)
            }
            try await client.execute(uri: "/api/v1/session", method: .post, body: ByteBuffer(string: "not json")) { #expect($0.status == .badRequest) }
            try await client.execute(
                uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{\"token\": \"\(RouteBed.token)\"}")
            ) { response in
                #expect(response.status == .ok)
                let header = response.headers[.setCookie] ?? ""
                #expect(header.contains("HttpOnly") && header.contains("SameSite=Strict") && header.contains("Path=/") && !header.contains("Secure"), "\(header)")
                #expect(json(response.body)["access"] as? String == "write")
            }
            let session = try #require(try await Self.login(client, RouteBed.token))
            let cookie: HTTPFields = [.cookie: "windlass_session=\(session.cookie)"]
            // Reads through the session (reads need a credential on this daemon).
            try await client.execute(uri: "/api/v1/applications", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/applications", method: .get, headers: cookie) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v1/session", method: .get, headers: cookie) { response in
                #expect(json(response.body)["csrfToken"] as? String == session.csrf)
            }
            // Logout needs the CSRF token too; then the cookie opens nothing.
            try await client.execute(uri: "/api/v1/session", method: .delete, headers: cookie) { #expect($0.status == .forbidden) }
            var withCSRF = cookie
            withCSRF[Credentials.csrfHeader] = session.csrf
            try await client.execute(uri: "/api/v1/session", method: .delete, headers: withCSRF) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
            try await client.execute(uri: "/api/v1/applications", method: .get, headers: cookie) { response in
                #expect(response.status == .unauthorized)
                #expect(json(response.body)["error"] as? String == "the session has expired or ended: log in again")
            }
            // Behind a TLS-terminating proxy, the cookie is Secure.
            try await client.execute(
                uri: "/api/v1/session", method: .post, headers: [.contentType: "application/json", .init("X-Forwarded-Proto")!: "https"],
                body: ByteBuffer(string: "{\"token\": \"\(RouteBed.token)\"}")
            ) { response in
                #expect(response.headers[.setCookie]?.contains("Secure") == true)
            }
        }
    }

    @Test("a change through a session needs its CSRF token; a read-only token or session reads and is refused every change with 403")
    func csrfAndReadOnly() async throws {
        let bed = try RouteBed(anonymousReads: false)
        try await bed.test { client in
            let writer = try #require(try await Self.login(client, RouteBed.token))
            var headers: HTTPFields = [.cookie: "windlass_session=\(writer.cookie)"]
            try await client.execute(uri: "/api/v1/applications/shop/sync", method: .post, headers: headers) { response in
                #expect(response.status == .forbidden)
                #expect((json(response.body)["error"] as? String)?.contains("CSRF") == true)
            }
            // Another token of the same length (its first character changed: one in sixteen tokens
            // already starts with "0").
            headers[Credentials.csrfHeader] = (writer.csrf.hasPrefix("0") ? "1" : "0") + writer.csrf.dropFirst()
            try await client.execute(uri: "/api/v1/applications/shop/sync", method: .post, headers: headers) { #expect($0.status == .forbidden) }
            headers[Credentials.csrfHeader] = writer.csrf
            try await client.execute(uri: "/api/v1/applications/shop/sync", method: .post, headers: headers) { #expect($0.status == .accepted) }

            let reader = try #require(try await Self.login(client, RouteBed.readToken))
            let readHeaders: HTTPFields = [.cookie: "windlass_session=\(reader.cookie)", Credentials.csrfHeader: reader.csrf]
            try await client.execute(uri: "/api/v1/applications", method: .get, headers: readHeaders) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v1/applications/shop/sync", method: .post, headers: readHeaders) { response in
                #expect(response.status == .forbidden)
                #expect(json(response.body)["error"] as? String == "this token is read-only: it cannot change anything")
            }
            let bearer: HTTPFields = [.authorization: "Bearer \(RouteBed.readToken)"]
            try await client.execute(uri: "/api/v1/applications/shop/history", method: .get, headers: bearer) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v1/applications/shop/rollback", method: .post, headers: bearer) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/api/v1/rollouts/shop/web/promote", method: .post, headers: bearer) { #expect($0.status == .forbidden) }
        }
    }

    @Test("sessions expire, and the oldest goes once the store is full")
    func expiry() {
        let store = SessionStore(lifetime: 60, capacity: 2)
        let first = store.open(access: .write, token: "t", now: 1_000)
        #expect(store.session(first.id, now: 1_059)?.access == .write)
        #expect(store.session(first.id, now: 1_061) == nil)
        let a = store.open(access: .read, token: "r", now: 2_000)
        let b = store.open(access: .read, token: "r", now: 2_001)
        let c = store.open(access: .write, token: "t", now: 2_002)
        #expect(store.session(a.id, now: 2_003) == nil)
        #expect(store.session(b.id, now: 2_003) != nil && store.session(c.id, now: 2_003) != nil)
        #expect(store.session("", now: 2_003) == nil)
    }

    @Test("sessions outlive a restart while their token is still accepted; the file holds no session id")
    func persistedSessions() throws {
        let directory = try TemporaryDirectory()
        let file = directory.path + "/sessions.json"
        let store = SessionStore(lifetime: 600, file: file, now: 1_000)
        let kept = store.open(access: .write, token: "write-token", now: 1_000)
        let readSession = store.open(access: .read, token: "read-token", now: 1_000)
        let closed = store.open(access: .write, token: "write-token", now: 1_000)
        let gone = store.open(access: .write, token: "removed-token", now: 1_000)
        store.close(closed.id)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        for session in [kept, readSession, gone] { #expect(!text.contains(session.id)) }
        #expect(!text.contains("write-token"))
        // The restart: the config still has write-token (write) and read-token (read).
        let accepted = [SessionStore.digest("write-token"): Access.write, SessionStore.digest("read-token"): .read]
        let again = SessionStore(lifetime: 600, file: file, now: 1_100, stillAccepted: { accepted[$0] == $1 })
        #expect(again.session(kept.id, now: 1_100)?.csrf == kept.csrf)
        #expect(again.session(readSession.id, now: 1_100)?.access == .read)
        #expect(again.session(closed.id, now: 1_100) == nil)
        #expect(again.session(gone.id, now: 1_100) == nil)
        // A token now read-only no longer restores a write session.
        let demoted = SessionStore(lifetime: 600, file: file, now: 1_100, stillAccepted: { $0 == SessionStore.digest("write-token") && $1 == .read })
        #expect(demoted.session(kept.id, now: 1_100) == nil)
        // Nor does an expired one.
        #expect(SessionStore(lifetime: 600, file: file, now: 1_700, stillAccepted: { accepted[$0] == $1 }).session(kept.id, now: 1_700) == nil)
    }
}

@Suite("Sync activity and its routes")
struct SyncActivityTests {
    @Test("an application before any sync: operation null, drift unscheduled; heal is 409, a drift check 202, no rollouts; the read token may not ask")
    func routes() async throws {
        let bed = try RouteBed()
        try await bed.test { client in
            try await client.execute(uri: "/api/v1/applications/shop", method: .get) { response in
                let app = json(response.body)
                #expect(app["operation"] is NSNull, "\(app)")
                let drift = app["drift"] as? [String: Any] ?? [:]
                #expect(drift["schedule"] is NSNull && drift["selfHeal"] as? Bool == false && drift["lastCheck"] is NSNull, "\(drift)")
            }
            try await client.execute(uri: "/api/v1/applications/shop/rollouts", method: .get) { response in
                #expect(response.status == .ok)
                #expect((json(response.body)["items"] as? [Any])?.isEmpty == true)
            }
            let write: HTTPFields = [.authorization: "Bearer \(RouteBed.token)"]
            try await client.execute(uri: "/api/v1/applications/shop/heal", method: .post, headers: write) { response in
                #expect(response.status == .conflict)
                #expect(json(response.body)["error"] as? String == "shop has no synced revision to heal to")
            }
            try await client.execute(uri: "/api/v1/applications/shop/drift", method: .post, headers: write) { response in
                #expect(response.status == .accepted)
                #expect(json(response.body)["drift"] as? String == "queued")
            }
            let read: HTTPFields = [.authorization: "Bearer \(RouteBed.readToken)"]
            for verb in ["heal", "drift"] {
                try await client.execute(uri: "/api/v1/applications/shop/\(verb)", method: .post, headers: read) { #expect($0.status == .forbidden) }
            }
            try await client.execute(uri: "/api/v1/applications/nope/rollouts", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test("stages follow the executor's events; a canary's steps and measurements are kept with its strategy and outlive a restart")
    func activity() throws {
        let directory = try TemporaryDirectory()
        let changes = Mutex(0)
        let activity = SyncActivity(stateDirectory: directory.path, application: "shop", changed: { changes.withLock { $0 += 1 } })
        let web = ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web")
        let config = ResourceID(group: "", version: "v1", kind: "ConfigMap", namespace: "shop", name: "settings")
        let strategy = CanaryStrategy(
            id: ResourceID(group: "windlass.dev", version: "v1", kind: "RolloutStrategy", namespace: "shop", name: "web"), target: web,
            steps: [.setWeight(25), .pause(nil), .pause(30)])
        activity.begin(revision: "abc123", trigger: "manual", at: 1_000, strategies: [web: strategy])
        let wave = Plan.Stage(phase: .sync, wave: 1)
        activity.record(.stageStarted(wave, resources: 2))
        activity.record(.applied(config, .update))
        activity.record(.waiting(wave, pending: [(web, Health(.progressing, "1 of 4 updated"))]))
        var operation = try #require(activity.operation)
        #expect(operation.stages.count == 1)
        #expect(operation.stages[0].name == "Sync wave 1" && operation.stages[0].applied == 1 && operation.stages[0].resources == 2)
        #expect(operation.stages[0].state == "Waiting" && operation.stages[0].pending == ["deployment.apps/web: Progressing: 1 of 4 updated"])
        var progress = CanaryProgress(target: web, stepCount: 3, now: 1_001)
        progress.step = 1
        progress.weight = 25
        progress.phase = .paused
        progress.measurements = [AnalysisMeasurement(metric: "rate", at: 1_002, phase: .failed, values: [0.5, .nan], message: "low")]
        activity.record(.canary(progress))
        activity.finish(outcome: .paused, revision: "abc123", message: "revision 1 paused: a canary waits", at: 1_010)
        operation = try #require(activity.operation)
        #expect(operation.phase == "Paused" && operation.stages[0].state == "Paused" && operation.finishedAt != nil)
        // Finishing again (a render that failed later) leaves the last sync as it was.
        activity.finish(outcome: .error, revision: nil, message: "other", at: 1_020)
        #expect(activity.operation?.phase == "Paused")
        #expect(changes.withLock { $0 } == 6)

        let restarted = SyncActivity(stateDirectory: directory.path, application: "shop", changed: {})
        let rollout = try #require(restarted.rollouts.first)
        #expect(rollout.target.address == "deployment.apps/web" && rollout.target.namespace == "shop" && rollout.strategy == "web")
        #expect(rollout.phase == "Paused" && rollout.step == 1 && rollout.weight == 25 && rollout.revision == "abc123")
        #expect(rollout.steps.map(\.type) == ["setWeight", "pause", "pause"])
        #expect(rollout.steps[1].duration == nil && rollout.steps[2].duration == 30 && rollout.steps[0].weight == 25)
        #expect(rollout.measurements.first?.values == [0.5, nil] && rollout.measurements.first?.phase == "Failed")
        #expect(restarted.operation?.phase == "Paused")
    }
}
