import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
public import WindlassCluster
public import WindlassManifest
public import WindlassPipeline

/// The daemon's API speaks these types; the JSON they encode to keeps the field names the
/// API has always had (an absent value is `null`, not a missing key).
public enum API {
    /// `{"error": "…"}`: every refusal.
    public struct ErrorBody: Codable, Sendable, Hashable {
        public var error: String
    }

    /// An application as `GET /api/v1/applications/{name}` shows it.
    public struct ApplicationView: Encodable, Sendable {
        public struct Source: Encodable, Sendable {
            public var repo: String
            public var ref: String
            public var path: String
        }

        public struct Destination: Encodable, Sendable {
            public var cluster: String
            /// A Kubernetes destination's kubeconfig and context (absent for the embedded cluster).
            public var kubeconfig: String?
            public var context: String?
            public var namespace: String
        }

        public struct LastSync: Encodable, Sendable {
            public var revision: String?
            public var number: Int?
            public var outcome: SyncOutcome
            public var message: String
            public var startedAt: String
            public var finishedAt: String

            public func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(revision, forKey: .revision)
                try container.encode(number, forKey: .number)
                try container.encode(outcome, forKey: .outcome)
                try container.encode(message, forKey: .message)
                try container.encode(startedAt, forKey: .startedAt)
                try container.encode(finishedAt, forKey: .finishedAt)
            }

            enum CodingKeys: String, CodingKey { case revision, number, outcome, message, startedAt, finishedAt }
        }

        public var name: String
        public var source: Source
        public var destination: Destination
        public var syncedRevision: String?
        /// The synced commit's subject, author and time (null for a directory source).
        public var syncedCommit: CommitSummary?
        public var headRevision: String?
        public var syncStatus: SyncStatus
        public var health: HealthStatus
        public var lastSync: LastSync?
        public var lastError: String?
        /// The canary in progress: `deployment.apps/web step 2/5, weight 34%, Paused`.
        public var rollout: String?
        /// Why auto-sync leaves the head alone, when it does (a rollback's pin, a failed commit).
        public var autoSyncPaused: String?
        public var fetches: Int
        /// The sync in progress stage by stage, or the last one (null before the first).
        public var operation: OperationView?
        /// The drift schedule and the last check.
        public var drift: DriftStatus

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(source, forKey: .source)
            try container.encode(destination, forKey: .destination)
            try container.encode(syncedRevision, forKey: .syncedRevision)
            try container.encode(syncedCommit, forKey: .syncedCommit)
            try container.encode(headRevision, forKey: .headRevision)
            try container.encode(syncStatus, forKey: .syncStatus)
            try container.encode(health.rawValue, forKey: .health)
            try container.encode(lastSync, forKey: .lastSync)
            try container.encode(lastError, forKey: .lastError)
            try container.encode(rollout, forKey: .rollout)
            try container.encode(autoSyncPaused, forKey: .autoSyncPaused)
            try container.encode(fetches, forKey: .fetches)
            try container.encode(operation, forKey: .operation)
            try container.encode(drift, forKey: .drift)
        }

        enum CodingKeys: String, CodingKey {
            case name, source, destination, syncedRevision, syncedCommit, headRevision, syncStatus, health, lastSync, lastError, rollout, autoSyncPaused, fetches
            case operation, drift
        }
    }

    /// A commit as lists show it.
    public struct CommitSummary: Codable, Sendable, Hashable {
        public var sha: String
        public var subject: String
        public var author: String
        public var time: String
    }

    public struct ApplicationList: Encodable, Sendable {
        public var applications: [ApplicationView]
    }

    /// An application's revisions, oldest first.
    public struct History: Encodable, Sendable {
        public var application: String
        public var revisions: [Value]
    }

    /// `POST …/sync`, `…/rollback`, `…/drift` and `…/heal` answer that the work is queued.
    public struct Queued: Encodable, Sendable {
        public var application: String
        public var sync: String?
        /// A revision number, or `previous`.
        public var rollback: Value?
        public var drift: String?
        public var heal: String?

        public init(application: String, sync: String? = nil, rollback: Value? = nil, drift: String? = nil, heal: String? = nil) {
            self.application = application
            self.sync = sync
            self.rollback = rollback
            self.drift = drift
            self.heal = heal
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(application, forKey: .application)
            if let sync { try container.encode(sync, forKey: .sync) }
            if let rollback { try container.encode(rollback, forKey: .rollback) }
            if let drift { try container.encode(drift, forKey: .drift) }
            if let heal { try container.encode(heal, forKey: .heal) }
        }

        enum CodingKeys: String, CodingKey { case application, sync, rollback, drift, heal }
    }

    /// `POST …/rollback`'s body: the revision to return to (none: the one before the current).
    public struct RollbackRequest: Decodable, Sendable {
        public var revision: Int?
    }

    /// `POST …/plan`'s body: the revision to plan (none: the application's).
    public struct PlanRequest: Decodable, Sendable {
        public var revision: String?
        /// Whether to forecast the sync on a twin of the cluster (the plan's `forecast` key).
        public var forecast: Bool?
    }

    /// `POST /api/v1/cluster/nodes/{name}/fail`'s body: seconds before its pods are evicted.
    public struct FailNodeRequest: Decodable, Sendable {
        public var gracePeriod: Double?
    }

    /// A node failed, recovered or uncordoned.
    public struct NodeChanged: Encodable, Sendable {
        public var node: String
        public var verb: String
    }

    /// A rollout verb, recorded.
    public struct RolloutAccepted: Codable, Sendable {
        public var application: String
        public var target: String
        public var request: String
    }

    /// A webhook, handled.
    public struct WebhookResult: Encodable, Sendable {
        public var triggered: [String]?
        public var replayed: String?
        public var ignored: String?
        public var event: String?
    }

    /// `POST /api/v1/session`'s body: a token typed at the login page.
    public struct LoginRequest: Decodable, Sendable {
        public var token: String
    }

    /// A web UI session: what it may do, the CSRF token its changes carry, when it ends.
    public struct SessionView: Codable, Sendable {
        public var access: String
        public var csrfToken: String
        public var expiresAt: String
    }

    public struct LoggedOut: Codable, Sendable {
        public var loggedOut: Bool
    }

    /// `GET /api/v1/applications/{name}/resources`.
    public struct ResourceTree: Encodable, Sendable {
        public var application: String
        /// The commit planned (the head last fetched).
        public var revision: String?
        public var syncStatus: String
        public var health: String
        public var resources: [ResourceNode]

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(application, forKey: .application)
            try container.encode(revision, forKey: .revision)
            try container.encode(syncStatus, forKey: .syncStatus)
            try container.encode(health, forKey: .health)
            try container.encode(resources, forKey: .resources)
        }

        enum CodingKeys: String, CodingKey { case application, revision, syncStatus, health, resources }
    }

    /// `GET /api/v1/cluster`.
    public struct ClusterView: Encodable, Sendable {
        public var cluster: String
        public var nodes: [NodeView]
    }

    public struct NodeView: Encodable, Sendable {
        public var name: String
        public var ready: Bool
        public var reason: String?
        public var unschedulable: Bool
        public var cpu: String?
        public var memory: String?
        public var pods: [PlacedObject]
        public var virtualMachines: [PlacedObject]
    }

    /// A pod or virtual machine instance on a node.
    public struct PlacedObject: Encodable, Sendable {
        public var namespace: String
        public var name: String
        public var phase: String
        public var health: String?
    }

    // MARK: - Encoding

    /// `pretty: false` for answers made for pages rather than people (a resource tree of
    /// 10,000 objects is a third smaller without the indentation).
    static func response(_ status: HTTPResponse.Status, _ body: some Encodable, pretty: Bool = true) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .withoutEscapingSlashes] : [.withoutEscapingSlashes]
        let data = (try? encoder.encode(body)) ?? Data("{\"error\":\"the response could not be encoded\"}".utf8)
        var buffer = ByteBuffer(bytes: data)
        buffer.writeString("\n")
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        response(status, ErrorBody(error: message))
    }

    /// A request's body as read: whole, or refused with the response to send.
    enum Body {
        case read(ByteBuffer)
        case refused(Response)
    }

    /// Reads a request's body: 413 when it is larger than `limit`, 408 when it has not arrived
    /// within `timeout` seconds (a client sending a byte now and then holds no connection for
    /// long), 400 when it cannot be read whole (a connection closed early). A body that was not
    /// read never counts as an empty one.
    static func body(of request: inout Request, limit: Int, timeout: Double) async -> Body {
        let stream = request.body
        let outcome: Result<ByteBuffer, any Error>? = await withTaskGroup(of: Result<ByteBuffer, any Error>?.self) { group in
            group.addTask {
                do {
                    return .success(try await stream.collect(upTo: limit))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .success(let buffer)?:
            request.body = RequestBody(buffer: buffer)
            return .read(buffer)
        case .failure(let error)? where error is NIOTooManyBytesError:
            return .refused(API.error(.contentTooLarge, "the body is larger than \(limit) bytes"))
        case .failure?:
            return .refused(API.error(.badRequest, "the body could not be read whole"))
        case nil:
            return .refused(API.error(.requestTimeout, "the body did not arrive within \(Int(timeout)) s"))
        }
    }

    /// A request's JSON body as `T`; an empty body is `empty`. Nil when it is not `T`.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: ByteBuffer?, empty: T) -> T? {
        guard let bytes, bytes.readableBytes > 0 else { return empty }
        return try? JSONDecoder().decode(T.self, from: Data(bytes.readableBytesView))
    }
}
