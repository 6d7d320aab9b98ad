import NIOCore
import WindlassCluster
import WindlassManifest

/// Reads a Kubernetes `Status` answer (or any error answer) as a ``ClusterError``: the reason
/// gives the code, the message stays the server's, the causes name the fields.
enum KubeStatus {
    static func error(status: Int, body: ByteBuffer, server: String, path: String) -> ClusterError {
        let text = String(buffer: body)
        let object = try? JSONReader.read(text)
        return error(status: status, object: object ?? nil, text: text, server: server, path: path)
    }

    static func error(status: Int, object: Value?, text: String, server: String, path: String) -> ClusterError {
        guard let object, object["kind"]?.stringValue == "Status" else {
            // Not a Kubernetes answer: a proxy's page, another server.
            let firstLine = text.split(separator: "\n").first.map { String($0.prefix(200)) } ?? ""
            switch status {
            case 401: return ClusterError(.forbidden, "\(server): Unauthorized (401): the server refused the credentials")
            case 404: return ClusterError(.notFound, "\(server)\(path): 404 Not Found" + (firstLine.isEmpty ? "" : " (\(firstLine))"))
            default:
                return ClusterError(code(for: status), "\(server)\(path): HTTP \(status)" + (firstLine.isEmpty ? "" : ": \(firstLine)"))
            }
        }
        let reason = object["reason"]?.stringValue ?? ""
        var message = object["message"]?.stringValue ?? "HTTP \(status)"
        let errorCode: ClusterError.Code
        if status == 401 || reason == "Unauthorized" {
            errorCode = .forbidden
            message = "\(server): Unauthorized (401): the server refused the credentials"
        } else if reason == "Gone" || status == 410 {
            errorCode = .expired
        } else {
            errorCode = ClusterError.Code(rawValue: reason) ?? code(for: status)
        }
        let causes = (object["details"]?["causes"]?.sequenceValue ?? []).map { cause in
            ClusterError.Cause(field: cause["field"]?.stringValue ?? "", message: cause["message"]?.stringValue ?? "")
        }
        return ClusterError(errorCode, message, causes: causes)
    }

    static func code(for status: Int) -> ClusterError.Code {
        switch status {
        case 400, 405, 406, 413, 415: return .badRequest
        case 401, 403: return .forbidden
        case 404: return .notFound
        case 409: return .conflict
        case 410: return .expired
        case 422: return .invalid
        case 429: return .tooManyRequests
        case 503, 502, 504: return .unavailable
        default: return .internalError
        }
    }
}
