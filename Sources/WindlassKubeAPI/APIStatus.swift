import WindlassCluster
public import WindlassManifest

/// A request the API refuses or fails, as a `Status` object (kind `Status`, `status:
/// Failure`, a reason, the HTTP code, and details naming the object and the fields at fault),
/// the shape kubectl and the client libraries print.
public struct APIStatus: Error, Sendable {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: Value?

    public init(code: Int, reason: String, message: String, details: Value? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    /// A cluster's error about `resource` (`deployments` in `apps`) and `name`.
    init(_ error: ClusterError, group: String? = nil, resource: String? = nil, name: String? = nil) {
        var details = Mapping()
        if let name, !name.isEmpty { details["name"] = .string(name) }
        if let group { details["group"] = .string(group) }
        if let resource { details["kind"] = .string(resource) }
        if !error.causes.isEmpty {
            details["causes"] = .sequence(error.causes.map { cause in
                ["reason": .string(Self.causeReason(cause.message)), "message": .string(cause.message), "field": .string(cause.field)]
            })
        }
        self.init(code: error.code.httpStatus, reason: error.code.rawValue, message: error.message, details: details.isEmpty ? nil : .mapping(details))
    }

    static func causeReason(_ message: String) -> String {
        if message.contains("Required value") { return "FieldValueRequired" }
        if message.contains("Unsupported value") { return "FieldValueNotSupported" }
        if message.contains("unknown field") { return "FieldValueInvalid" }
        if message.contains("conflict with") { return "FieldManagerConflict" }
        return "FieldValueInvalid"
    }

    public static func badRequest(_ message: String) -> APIStatus { APIStatus(code: 400, reason: "BadRequest", message: message) }
    public static func notFound(_ message: String) -> APIStatus { APIStatus(code: 404, reason: "NotFound", message: message) }
    static let unauthorized = APIStatus(code: 401, reason: "Unauthorized", message: "Unauthorized")
    static func methodNotAllowed(_ message: String) -> APIStatus { APIStatus(code: 405, reason: "MethodNotAllowed", message: message) }
    static func unsupportedMediaType(_ type: String) -> APIStatus {
        APIStatus(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got \"\(type)\")")
    }
    static func tooLarge(_ limit: Int) -> APIStatus {
        APIStatus(code: 413, reason: "RequestEntityTooLarge", message: "the request body is larger than \(limit) bytes")
    }

    /// The `Status` object.
    public var object: Value {
        var status: Value = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": .string(message),
            "reason": .string(reason),
        ]
        if let details { status.set(details, at: ["details"]) }
        status.set(.int(code), at: ["code"])
        return status
    }
}

