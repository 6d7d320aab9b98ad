/// Where a request goes, from its path: a discovery document, a schema document, or a
/// resource (`/api/v1/namespaces/default/pods/web-0/log`).
enum APIRoute: Equatable {
    case version
    case health
    /// `/api`: the core group's versions.
    case coreVersions
    /// `/apis`: every other group.
    case groups
    /// `/apis/{group}`.
    case group(String)
    /// `/api/v1` or `/apis/{group}/{version}`: the resources of a group-version.
    case resourceList(group: String, version: String)
    case openAPIv2
    case openAPIv3Index
    /// `/openapi/v3/api/v1`, `/openapi/v3/apis/apps/v1`.
    case openAPIv3(group: String, version: String)
    case resource(ResourceTarget)
    case notFound

    /// The parts of a resource path.
    struct ResourceTarget: Equatable {
        var group: String
        var version: String
        var namespace: String?
        /// The plural resource name: `deployments`.
        var resource: String
        var name: String?
        var subresource: String?
    }

    init(path: String) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map { Self.decode(String($0)) }
        switch segments.first {
        case "version" where segments.count == 1: self = .version
        case "healthz", "livez", "readyz": self = .health
        case "api":
            if segments.count == 1 { self = .coreVersions; return }
            self = Self.resourceRoute(group: "", version: segments[1], rest: Array(segments.dropFirst(2)))
        case "apis":
            switch segments.count {
            case 1: self = .groups
            case 2: self = .group(segments[1])
            default: self = Self.resourceRoute(group: segments[1], version: segments[2], rest: Array(segments.dropFirst(3)))
            }
        case "openapi":
            if segments.count == 2, segments[1] == "v2" { self = .openAPIv2; return }
            guard segments.count >= 2, segments[1] == "v3" else { self = .notFound; return }
            if segments.count == 2 { self = .openAPIv3Index; return }
            if segments.count == 4, segments[2] == "api" { self = .openAPIv3(group: "", version: segments[3]); return }
            if segments.count == 5, segments[2] == "apis" { self = .openAPIv3(group: segments[3], version: segments[4]); return }
            self = .notFound
        default:
            self = .notFound
        }
    }

    private static func resourceRoute(group: String, version: String, rest: [String]) -> APIRoute {
        if rest.isEmpty { return .resourceList(group: group, version: version) }
        var namespace: String? = nil
        var rest = rest
        // `namespaces/{ns}/{resource}…`, unless this is a namespace's own subresource
        // (`namespaces/{name}/status`, `…/finalize`).
        if rest.count >= 3, rest[0] == "namespaces", !(group.isEmpty && rest.count == 3 && ["status", "finalize"].contains(rest[2])) {
            namespace = rest[1]
            rest = Array(rest.dropFirst(2))
        }
        guard rest.count <= 3 else { return .notFound }
        return .resource(ResourceTarget(
            group: group, version: version, namespace: namespace, resource: rest[0], name: rest.count > 1 ? rest[1] : nil,
            subresource: rest.count > 2 ? rest[2] : nil))
    }

    /// Percent-decodes a path segment (`system%3Aadmin` → `system:admin`).
    static func decode(_ segment: String) -> String {
        guard segment.contains("%") else { return segment }
        var bytes: [UInt8] = []
        var iterator = Array(segment.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
