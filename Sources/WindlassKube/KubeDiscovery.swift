import NIOCore
import NIOHTTP1
import WindlassCluster
import WindlassManifest

/// Reads a server's discovery documents (`/api`, `/api/v1`, `/apis`, `/apis/GROUP/VERSION`)
/// into a ``RESTMapping``: the preferred version of every group, subresources folded into their
/// resource. A group version the server cannot list now (an aggregated API that is down) is
/// left out, as kubectl leaves it out with a warning.
enum KubeDiscovery {
    static func read(_ transport: KubeTransport) async throws(ClusterError) -> (mapping: RESTMapping, unavailable: [String]) {
        let api = try await document(transport, "/api", expect: "versions")
        guard let versions = api["versions"]?.sequenceValue?.compactMap(\.stringValue), versions.contains("v1") else {
            throw notKubernetes(transport, "/api lists no v1")
        }
        let groups = try await document(transport, "/apis", expect: "groups")
        var groupVersions = ["v1"]
        for group in groups["groups"]?.sequenceValue ?? [] {
            if let preferred = group["preferredVersion"]?["groupVersion"]?.stringValue ?? group["versions"]?.sequenceValue?.first?["groupVersion"]?.stringValue {
                groupVersions.append(preferred)
            }
        }
        // Every group version at once: a real cluster serves dozens.
        let lists = await withTaskGroup(of: TaskAnswer<String, Result<Value, ClusterError>>.self) { tasks in
            for groupVersion in groupVersions {
                tasks.addTask {
                    let path = groupVersion == "v1" ? "/api/v1" : "/apis/\(groupVersion)"
                    return TaskAnswer(groupVersion, await documentResult(transport, path))
                }
            }
            var results: [String: Result<Value, ClusterError>] = [:]
            for await done in tasks { results[done.key] = done.answer }
            return results
        }
        var resources: [APIResource] = []
        var unavailable: [String] = []
        for groupVersion in groupVersions {
            switch lists[groupVersion] {
            case .success(let list): resources += self.resources(list, groupVersion: groupVersion)
            case .failure(let error):
                if groupVersion == "v1" { throw error }
                unavailable.append("\(groupVersion): \(error.message)")
            case nil: break
            }
        }
        return (RESTMapping(resources), unavailable)
    }

    /// The resources of one `APIResourceList`.
    static func resources(_ list: Value, groupVersion: String) -> [APIResource] {
        let (group, version) = split(groupVersion)
        var resources: [APIResource] = []
        var subresources: [String: [String]] = [:]
        for item in list["resources"]?.sequenceValue ?? [] {
            guard let name = item["name"]?.stringValue, let kind = item["kind"]?.stringValue else { continue }
            if let slash = name.firstIndex(of: "/") {
                subresources[String(name[..<slash]), default: []].append(String(name[name.index(after: slash)...]))
                continue
            }
            let strings: (String) -> [String] = { key in (item[key]?.sequenceValue ?? []).compactMap(\.stringValue) }
            resources.append(
                APIResource(
                    group: item["group"]?.stringValue ?? group, version: item["version"]?.stringValue ?? version, kind: kind, name: name,
                    singularName: item["singularName"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
                    namespaced: item["namespaced"]?.boolValue ?? true, verbs: strings("verbs"), shortNames: strings("shortNames"),
                    categories: strings("categories")))
        }
        return resources.map { resource in
            var resource = resource
            resource.subresources = (subresources[resource.name] ?? []).sorted()
            return resource
        }
    }

    static func split(_ groupVersion: String) -> (group: String, version: String) {
        guard let slash = groupVersion.firstIndex(of: "/") else { return ("", groupVersion) }
        return (String(groupVersion[..<slash]), String(groupVersion[groupVersion.index(after: slash)...]))
    }

    static func documentResult(_ transport: KubeTransport, _ path: String) async -> Result<Value, ClusterError> {
        do {
            return .success(try await document(transport, path, expect: "resources"))
        } catch {
            return .failure(error)
        }
    }

    /// A discovery document, which must be a JSON object holding `expect`.
    static func document(_ transport: KubeTransport, _ path: String, expect key: String) async throws(ClusterError) -> Value {
        let response = try await transport.send(.GET, path, idempotent: true, maxBytes: 64 << 20)
        guard response.status == 200 else {
            if response.status == 404, path == "/api" { throw notKubernetes(transport, "GET /api: 404") }
            throw KubeStatus.error(status: response.status, body: response.body, server: transport.server, path: path)
        }
        guard let value = KubeJSON.read(response.body), value[key] != nil else {
            throw notKubernetes(transport, "GET \(path) did not answer a discovery document")
        }
        return value
    }

    static func notKubernetes(_ transport: KubeTransport, _ detail: String) -> ClusterError {
        ClusterError(.unavailable, "\(transport.server) does not answer as a Kubernetes API server (\(detail))")
    }
}

/// JSON bodies to values.
enum KubeJSON {
    static func read(_ body: ByteBuffer) -> Value? {
        body.withUnsafeReadableBytes { raw -> Value? in
            try? JSONReader.read(raw.bindMemory(to: UInt8.self))
        }
    }
}
