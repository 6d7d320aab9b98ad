import Hummingbird
import NIOCore
import WindlassGit
import WindlassManifest
import WindlassPipeline
import WindlassPlan
import WindlassRollout

extension Daemon {
    /// `/api/v1/applications…`: status, drift, history and plans (reads), sync and rollback
    /// (writes, queued for the application's reconciler).
    func addApplicationRoutes(reads: RouterGroup<BasicRequestContext>, writes: RouterGroup<BasicRequestContext>) {
        let maxBody = options.config.server.maxBodyBytes
        let bodyTimeout = options.config.server.bodyTimeout
        reads.get("applications") { _, _ -> Response in
            var items: [API.ApplicationView] = []
            for reconciler in self.reconcilers.values.sorted(by: { $0.application.name < $1.application.name }) {
                items.append(await Self.view(reconciler))
            }
            return API.response(.ok, API.ApplicationList(applications: items))
        }
        reads.get("applications/:name") { _, context -> Response in
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            return API.response(.ok, await Self.view(reconciler))
        }
        reads.get("applications/:name/drift") { _, context -> Response in
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            guard let check = await reconciler.status.drift else {
                return API.error(.notFound, "no drift check of \(reconciler.application.name) yet")
            }
            // The report as `windlass drift -o json` prints it.
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: check.json.hasSuffix("\n") ? check.json : check.json + "\n")))
        }
        reads.get("applications/:name/rollouts") { _, context -> Response in
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            return API.response(.ok, API.RolloutList(application: reconciler.application.name, items: reconciler.activity.rollouts))
        }
        reads.get("applications/:name/history") { _, context -> Response in
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            do {
                let history = try reconciler.pipeline.revisions().history(reconciler.application.name)
                return API.response(.ok, API.History(application: reconciler.application.name, revisions: history.map(\.value)))
            } catch {
                return API.error(.internalServerError, "\(error)")
            }
        }
        // A plan costs a fetch and a render: work, so it needs a token like a sync.
        writes.post("applications/:name/plan") { request, context -> Response in
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            var request = request
            let body: ByteBuffer
            switch await API.body(of: &request, limit: maxBody, timeout: bodyTimeout) {
            case .read(let read): body = read
            case .refused(let response): return response
            }
            guard let planning = API.decode(API.PlanRequest.self, from: body, empty: API.PlanRequest()) else {
                return API.error(.badRequest, "expected {\"revision\": \"REF\", \"forecast\": true|false}")
            }
            let (json, error) = await reconciler.plan(ref: planning.revision, forecast: planning.forecast ?? false)
            guard let json else { return API.error(.unprocessableContent, error ?? "the plan failed") }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
        }
        writes.post("applications/:name/sync") { _, context -> Response in
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            reconciler.syncNow()
            return API.response(.accepted, API.Queued(application: reconciler.application.name, sync: "queued"))
        }
        // A drift check now (as the schedule's tick), and "heal now": the synced revision
        // applied again.
        writes.post("applications/:name/drift") { _, context -> Response in
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            reconciler.checkDriftSoon()
            return API.response(.accepted, API.Queued(application: reconciler.application.name, drift: "queued"))
        }
        writes.post("applications/:name/heal") { _, context -> Response in
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            guard await reconciler.status.syncedRevision != nil else {
                return API.error(.conflict, "\(reconciler.application.name) has no synced revision to heal to")
            }
            if let pending = reconciler.pipeline.pendingRevision() {
                return API.error(.conflict, "revision \(pending.number) of \(reconciler.application.name) is in progress: its rollout is not drift")
            }
            reconciler.healNow()
            return API.response(.accepted, API.Queued(application: reconciler.application.name, heal: "queued"))
        }
        writes.post("applications/:name/rollback") { request, context -> Response in
            guard let reconciler = self.reconciler(context) else { return Self.notFound(context) }
            var request = request
            let body: ByteBuffer
            switch await API.body(of: &request, limit: maxBody, timeout: bodyTimeout) {
            case .read(let read): body = read
            case .refused(let response): return response
            }
            guard let rollback = API.decode(API.RollbackRequest.self, from: body, empty: API.RollbackRequest()) else {
                return API.error(.badRequest, "revision must be a revision number")
            }
            reconciler.rollback(to: rollback.revision)
            return API.response(
                .accepted, API.Queued(application: reconciler.application.name, rollback: rollback.revision.map(Value.int) ?? "previous"))
        }
    }

    func reconciler(_ context: BasicRequestContext) -> ApplicationReconciler? {
        context.parameters.get("name").flatMap { reconcilers[$0] }
    }

    static func notFound(_ context: BasicRequestContext) -> Response {
        API.error(.notFound, "no application \(context.parameters.get("name") ?? "")")
    }

    static func view(_ reconciler: ApplicationReconciler) async -> API.ApplicationView {
        let status = await reconciler.status
        let app = reconciler.application
        return API.ApplicationView(
            name: app.name,
            source: .init(repo: (try? RemoteURL(app.repository))?.description ?? app.repository, ref: app.ref, path: app.path),
            destination: .init(cluster: app.cluster, kubeconfig: app.kubeconfig, context: app.context, namespace: app.namespace),
            syncedRevision: status.syncedRevision, syncedCommit: await reconciler.commitSummary(status.syncedRevision), headRevision: status.headRevision, syncStatus: status.syncStatus, health: status.health,
            lastSync: status.lastSync.map {
                .init(
                    revision: $0.revision, number: $0.number, outcome: $0.outcome, message: $0.message, startedAt: Timestamp.rfc3339($0.startedAt),
                    finishedAt: Timestamp.rfc3339($0.finishedAt))
            },
            lastError: status.lastError, rollout: status.rollout, autoSyncPaused: status.autoSyncPaused, fetches: status.fetches,
            operation: reconciler.activity.operation, drift: driftStatus(app, status: status, next: await reconciler.nextDriftCheck))
    }

    static func driftStatus(_ app: DaemonConfig.Application, status: ApplicationReconciler.Status, next: Double?) -> API.DriftStatus {
        let schedule: String? =
            switch app.drift {
            case .cron(let cron): cron.description
            case .interval(let seconds): "every " + DurationText.format(seconds)
            case nil: nil
            }
        return API.DriftStatus(
            schedule: schedule, selfHeal: app.selfHeal || app.driftSelfHeal, lastCheck: status.drift.map { Timestamp.rfc3339($0.at) },
            nextCheck: next.map(Timestamp.rfc3339), resources: status.drift?.report.items.count, healed: status.drift?.healed ?? false)
    }
}
