import Hummingbird
import WindlassCluster
import WindlassManifest
import WindlassPipeline
import WindlassPlan
import WindlassRollout

extension Daemon {
    /// `POST /api/v1/rollouts/{namespace}/{name}/{promote|abort|retry}`: a canary verb for the
    /// workload, recorded for the application that manages it (its sync takes it).
    func addRolloutRoutes(writes: RouterGroup<BasicRequestContext>) {
        writes.post("rollouts/:namespace/:rollout/:verb") { _, context -> Response in
            let namespace = context.parameters.get("namespace") ?? ""
            let name = context.parameters.get("rollout") ?? ""
            guard let verb = context.parameters.get("verb").flatMap(RolloutRequest.init(rawValue:)) else {
                return API.error(.notFound, "the verbs are promote, abort and retry")
            }
            return await self.rollout(namespace: namespace, name: name, verb)
        }
    }

    func rollout(namespace: String, name: String, _ verb: RolloutRequest) async -> Response {
        for kind in ["Deployment", "StatefulSet"] {
            let id = ResourceID(group: "apps", version: "v1", kind: kind, namespace: namespace, name: name)
            guard let object = try? await cluster.connection.backend.get(id) else { continue }
            let owner = object[path: ["metadata", "labels", SyncAnnotations.applicationLabel]]?.stringValue
            guard let owner, let reconciler = reconcilers[owner] else {
                return API.error(.conflict, "\(id) is not managed by an application of this daemon")
            }
            do {
                // A sync holding the lease takes the request within a poll; a paused one is resumed.
                if try reconciler.pipeline.request(verb, for: id) == nil {
                    // A retry is a new sync of the head (the failed commit is not auto-synced again).
                    if verb == .retry { reconciler.syncNow() } else { reconciler.resume() }
                }
            } catch let error as NoRolloutInProgress {
                return API.error(.conflict, error.description)
            } catch {
                return API.error(.internalServerError, "\(error)")
            }
            options.log.event("rollout request", ["application": owner, "target": id.description, "request": verb.rawValue])
            return API.response(.accepted, API.RolloutAccepted(application: owner, target: id.description, request: verb.rawValue))
        }
        return API.error(.notFound, "no Deployment or StatefulSet \(namespace)/\(name)")
    }
}
