import HTTPTypes
import Hummingbird
import NIOCore
import WindlassCluster
import WindlassManifest

/// Who a request comes from, by its bearer token.
enum APIUser: Sendable {
    case admin
    case readOnly

    var name: String { self == .admin ? "windlass-admin" : "windlass-read-only" }
    var groups: [String] { self == .admin ? ["system:masters", "system:authenticated"] : ["windlass:read-only", "system:authenticated"] }

    func may(_ verb: String) -> Bool {
        self == .admin || ["get", "list", "watch"].contains(verb)
    }
}

/// The Kubernetes REST API over a ``ClusterBackend``: discovery, schemas, and every verb on
/// every resource the cluster serves, with the status codes, `Status` errors, lists, watches
/// and tables of a Kubernetes API server.
struct KubeAPIResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let backend: any ClusterBackend
    let tokens: [(token: String, user: APIUser)]
    let options: KubeAPIServer.Options
    let documents = OpenAPIDocuments()
    /// `host:port` as clients reach the server.
    let serverAddress: String
    let now: @Sendable () -> Double

    func respond(to request: Request, context: Context) async throws -> Response {
        do {
            return try await handle(request)
        } catch let status as APIStatus {
            return Self.json(status.object, status: .init(code: status.code))
        } catch let error as ClusterError {
            let status = APIStatus(error)
            return Self.json(status.object, status: .init(code: status.code))
        } catch {
            let status = APIStatus(code: 500, reason: "InternalError", message: "an error on the server (\(error)) has prevented the request from succeeding")
            return Self.json(status.object, status: .internalServerError)
        }
    }

    private func handle(_ request: Request) async throws -> Response {
        let route = APIRoute(path: request.uri.path)
        switch route {
        case .version: return Self.json(Discovery.version)
        case .health: return Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: "ok")))
        default: break
        }
        let user = try authenticate(request)
        if request.method != .get {
            guard case .resource = route else { throw APIStatus.methodNotAllowed("the server does not allow this method on the requested resource") }
        }
        switch route {
        case .coreVersions:
            return Self.json(try await discovery().coreVersions(serverAddress: serverAddress))
        case .groups:
            return Self.json(try await discovery().groupList())
        case .group(let name):
            guard let document = try await discovery().group(name) else { throw APIStatus.notFound("the server could not find the requested resource") }
            return Self.json(document)
        case .resourceList(let group, let version):
            guard let document = try await discovery().resourceList(group: group, version: version) else {
                throw APIStatus.notFound("the server could not find the requested resource")
            }
            return Self.json(document)
        case .openAPIv3Index:
            let discovery = try await discovery()
            return Self.json(documents.index(discovery, crds: try await definitions()))
        case .openAPIv3(let group, let version):
            guard let document = documents.document(group: group, version: version, discovery: try await discovery(), crds: try await definitions()) else {
                throw APIStatus.notFound("the server could not find the requested resource")
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: document.json)))
        case .openAPIv2:
            let document = OpenAPIV2.document(try await discovery(), crds: try await definitions())
            var buffer = ByteBuffer()
            if (request.headers[.accept] ?? "").contains("protobuf") {
                buffer.writeBytes(OpenAPIV2.protobuf(document))
                return Response(status: .ok, headers: [.contentType: "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"], body: ResponseBody(byteBuffer: buffer))
            }
            buffer.writeString(JSONWriter().write(document))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
        case .resource(let target):
            return try await ResourceRequest(responder: self, request: request, target: target, user: user).respond()
        case .version, .health, .notFound:
            throw APIStatus.notFound("the server could not find the requested resource")
        }
    }

    func discovery() async throws -> Discovery {
        Discovery(mapping: try await backend.discovery())
    }

    /// The stored CustomResourceDefinitions.
    func definitions() async throws -> [Value] {
        try await backend.list(GroupKind(group: "apiextensions.k8s.io", kind: "CustomResourceDefinition"), namespace: nil, options: ListOptions()).items
    }

    private func authenticate(_ request: Request) throws -> APIUser {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { throw APIStatus.unauthorized }
        let presented = String(header.dropFirst(7)).trimmingWhitespace()
        for (token, user) in tokens where BearerToken.matches(token, presented) { return user }
        throw APIStatus.unauthorized
    }

    static func json(_ value: Value, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONWriter().encode(value))))
    }
}
