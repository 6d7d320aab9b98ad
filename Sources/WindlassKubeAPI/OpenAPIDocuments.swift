import Crypto
import Synchronization
import WindlassCluster
import WindlassManifest

/// The OpenAPI v3 documents of the served group-versions (`/openapi/v3`): for each resource
/// its paths, with the PATCH parameters kubectl looks for (`fieldValidation`) and the
/// `x-kubernetes-group-version-kind` of each operation, and the schemas its kinds need (the
/// built-in kinds' from Kubernetes' own OpenAPI, a custom resource's from its definition).
/// Documents are made on first request and kept until what they describe changes.
final class OpenAPIDocuments: Sendable {
    struct Document: Sendable {
        var fingerprint: String
        var json: String
        var hash: String
    }

    private let cache = Mutex<[String: Document]>([:])

    /// `group/version` (`v1` for core) of every group-version with resources.
    static func groupVersions(_ discovery: Discovery) -> [(group: String, version: String)] {
        var seen = Set<String>()
        var out: [(String, String)] = []
        for resource in discovery.resources where seen.insert(resource.group + "/" + resource.version).inserted {
            out.append((resource.group, resource.version))
        }
        return out
    }

    static func path(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    /// `/openapi/v3`: where each group-version's document is, with its hash.
    func index(_ discovery: Discovery, crds: [Value]) -> Value {
        var paths = Mapping()
        for (group, version) in Self.groupVersions(discovery) {
            let document = self.document(group: group, version: version, discovery: discovery, crds: crds)
            let path = Self.path(group: group, version: version)
            paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(document?.hash ?? "")")]
        }
        return ["paths": .mapping(paths)]
    }

    /// The document of a group-version, nil when nothing is served there.
    func document(group: String, version: String, discovery: Discovery, crds: [Value]) -> Document? {
        let resources = discovery.resources.filter { $0.group == group && $0.version == version }
        guard !resources.isEmpty else { return nil }
        let definitions = crds.filter { $0[path: ["spec", "group"]]?.stringValue == group }
        let fingerprint = resources.map { "\($0.kind)/\($0.name)/\($0.namespaced)/\($0.subresources)" }.joined(separator: ",") + "|"
            + definitions.map { ($0[path: ["metadata", "name"]]?.stringValue ?? "") + "@" + ($0[path: ["metadata", "resourceVersion"]]?.stringValue ?? "") }
            .joined(separator: ",")
        let key = group + "/" + version
        if let cached = cache.withLock({ $0[key] }), cached.fingerprint == fingerprint { return cached }
        let json = JSONWriter().write(Self.build(group: group, version: version, resources: resources, crds: definitions))
        let digest = SHA256.hash(data: Array(json.utf8)).map { String($0, radix: 16, uppercase: true) }.map { $0.count == 1 ? "0" + $0 : $0 }
        let document = Document(fingerprint: fingerprint, json: json, hash: digest.joined())
        cache.withLock { $0[key] = document }
        return document
    }

    static let objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

    static func build(group: String, version: String, resources: [APIResource], crds: [Value]) -> Value {
        var schemas = Mapping()
        var roots: [String] = []
        var paths = Mapping()
        for resource in resources {
            let gvk = resource.groupVersionKind
            let schemaName: String
            if let builtIn = KubernetesOpenAPI.schemaNames[gvk] {
                schemaName = builtIn
            } else {
                schemaName = customName(gvk)
                schemas[schemaName] = customSchema(gvk, crds: crds)
            }
            roots.append(schemaName)
            let listName = KubernetesOpenAPI.schemaNames[GroupVersionKind(group: gvk.group, version: gvk.version, kind: gvk.kind + "List")]
            if let listName { roots.append(listName) }
            addPaths(resource, schema: schemaName, list: listName, to: &paths)
        }
        // The closure of the kinds' references.
        var pending = roots + [objectMeta, "io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]
        if resources.contains(where: { $0.subresources.contains("scale") }) { pending.append("io.k8s.api.autoscaling.v1.Scale") }
        var included = Set<String>()
        while let name = pending.popLast() {
            guard included.insert(name).inserted, let schema = schemas[name] ?? KubernetesOpenAPI.schemas[name] else { continue }
            schemas[name] = schema
            collectReferences(schema) { pending.append($0) }
        }
        return [
            "openapi": "3.0.0",
            "info": ["title": "Kubernetes", "version": .string(Discovery.gitVersion)],
            "paths": .mapping(paths),
            "components": ["schemas": .mapping(Mapping(schemas.entries.sorted { $0.key < $1.key }))],
        ]
    }

    static func collectReferences(_ value: Value, _ found: (String) -> Void) {
        switch value.content {
        case .mapping(let mapping):
            for entry in mapping.entries {
                if entry.key == "$ref", let reference = entry.value.stringValue, reference.hasPrefix("#/components/schemas/") {
                    found(String(reference.dropFirst("#/components/schemas/".count)))
                } else {
                    collectReferences(entry.value, found)
                }
            }
        case .sequence(let items):
            for item in items { collectReferences(item, found) }
        default:
            break
        }
    }

    /// `dev.example.v1.Widget` for `example.dev/v1 Widget`, as the API server names a custom
    /// resource's schema.
    static func customName(_ gvk: GroupVersionKind) -> String {
        (gvk.group.split(separator: ".").reversed().joined(separator: ".")) + ".\(gvk.version).\(gvk.kind)"
    }

    /// A custom resource's schema: its definition's `openAPIV3Schema` for the version, with
    /// `metadata` as ObjectMeta; a kind with no definition accepts any fields.
    static func customSchema(_ gvk: GroupVersionKind, crds: [Value]) -> Value {
        let definition = crds.first { $0[path: ["spec", "names", "kind"]]?.stringValue == gvk.kind }
        let versions = definition?[path: ["spec", "versions"]]?.sequenceValue ?? []
        var schema = versions.first { $0["name"]?.stringValue == gvk.version }?[path: ["schema", "openAPIV3Schema"]]
            ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
        schema.set(["$ref": .string("#/components/schemas/\(objectMeta)")], at: ["properties", "metadata"])
        schema.set(["type": "string"], at: ["properties", "apiVersion"])
        schema.set(["type": "string"], at: ["properties", "kind"])
        schema.set([["group": .string(gvk.group), "version": .string(gvk.version), "kind": .string(gvk.kind)]], at: ["x-kubernetes-group-version-kind"])
        return schema
    }

    static func addPaths(_ resource: APIResource, schema: String, list: String?, to paths: inout Mapping) {
        let prefix = resource.group.isEmpty ? "/api/\(resource.version)" : "/apis/\(resource.group)/\(resource.version)"
        let collection = prefix + (resource.namespaced ? "/namespaces/{namespace}/" : "/") + resource.name
        let gvk: Value = ["group": .string(resource.group), "version": .string(resource.version), "kind": .string(resource.kind)]
        let reference: Value = ["$ref": .string("#/components/schemas/\(schema)")]
        func parameter(_ name: String, in location: String = "query", type: String = "string") -> Value {
            ["name": .string(name), "in": .string(location), "schema": ["type": .string(type), "uniqueItems": true]]
        }
        var pathParameters: [Value] = []
        if resource.namespaced { pathParameters.append(["name": "namespace", "in": "path", "required": true, "schema": ["type": "string"]]) }
        func operation(_ action: String, _ id: String, parameters: [Value], body: Bool = false, response: Value) -> Value {
            var op: Value = [
                "operationId": .string(id), "parameters": .sequence(parameters),
                "responses": ["200": ["description": "OK", "content": ["application/json": ["schema": response]]]],
                "x-kubernetes-action": .string(action), "x-kubernetes-group-version-kind": gvk,
            ]
            if body { op.set(["content": ["*/*": ["schema": ["type": "object"]]], "required": true], at: ["requestBody"]) }
            return op
        }
        let writeParameters = [parameter("dryRun"), parameter("fieldManager"), parameter("fieldValidation")]
        let listParameters = ["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch", "timeoutSeconds"].map { parameter($0) }
        let base = resource.kind
        if resource.verbs.contains("list") || resource.verbs.contains("create") {
            var item = Mapping()
            if resource.verbs.contains("list") {
                item["get"] = operation("list", "list\(base)", parameters: listParameters, response: list.map { ["$ref": .string("#/components/schemas/\($0)")] } ?? ["type": "object"])
            }
            if resource.verbs.contains("create") {
                item["post"] = operation("post", "create\(base)", parameters: writeParameters, body: true, response: reference)
            }
            if resource.verbs.contains("deletecollection") {
                item["delete"] = operation("deletecollection", "deleteCollection\(base)", parameters: listParameters, response: ["type": "object"])
            }
            item["parameters"] = .sequence(pathParameters)
            paths[collection] = .mapping(item)
        }
        let namePath = pathParameters + [["name": "name", "in": "path", "required": true, "schema": ["type": "string"]]]
        var item = Mapping()
        if resource.verbs.contains("get") { item["get"] = operation("get", "read\(base)", parameters: [], response: reference) }
        if resource.verbs.contains("update") { item["put"] = operation("put", "replace\(base)", parameters: writeParameters, body: true, response: reference) }
        if resource.verbs.contains("patch") {
            item["patch"] = operation("patch", "patch\(base)", parameters: writeParameters + [parameter("force", type: "boolean")], body: true, response: reference)
        }
        if resource.verbs.contains("delete") {
            item["delete"] = operation("delete", "delete\(base)", parameters: [parameter("dryRun"), parameter("propagationPolicy"), parameter("gracePeriodSeconds")], response: ["type": "object"])
        }
        guard !item.isEmpty else { return }
        item["parameters"] = .sequence(namePath)
        paths[collection + "/{name}"] = .mapping(item)
        for subresource in resource.subresources where subresource == "status" || subresource == "scale" {
            var sub = Mapping()
            let subReference: Value = subresource == "scale" ? ["$ref": "#/components/schemas/io.k8s.api.autoscaling.v1.Scale"] : reference
            sub["get"] = operation("get", "read\(base)\(subresource.capitalized)", parameters: [], response: subReference)
            sub["put"] = operation("put", "replace\(base)\(subresource.capitalized)", parameters: writeParameters, body: true, response: subReference)
            sub["parameters"] = .sequence(namePath)
            paths[collection + "/{name}/" + subresource] = .mapping(sub)
        }
    }
}

extension String {
    fileprivate var capitalized: String { prefix(1).uppercased() + dropFirst() }
}
