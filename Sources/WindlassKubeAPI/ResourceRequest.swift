import HTTPTypes
import Hummingbird
import NIOCore
import WindlassCluster
import WindlassManifest

/// One request on a resource: its verb, from the method and the path; its options, from the
/// query; its body, read and decoded by content type; the answer, as JSON, a Table or a watch.
struct ResourceRequest {
    let responder: KubeAPIResponder
    let request: Request
    let target: APIRoute.ResourceTarget
    let user: APIUser
    let query: [String: String]

    init(responder: KubeAPIResponder, request: Request, target: APIRoute.ResourceTarget, user: APIUser) {
        self.responder = responder
        self.request = request
        self.target = target
        self.user = user
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        self.query = query
    }

    var backend: any ClusterBackend { responder.backend }

    /// The verb, as RBAC names it.
    var verb: String {
        switch request.method {
        case .get:
            if target.name == nil { return isTrue(query["watch"]) ? "watch" : "list" }
            return "get"
        case .post: return "create"
        case .put: return "update"
        case .patch: return "patch"
        case .delete: return target.name == nil ? "deletecollection" : "delete"
        default: return request.method.rawValue.lowercased()
        }
    }

    func isTrue(_ text: String?) -> Bool { text == "true" || text == "1" }

    func respond() async throws -> Response {
        let discovery = try await responder.discovery()
        guard let resource = discovery.resource(group: target.group, version: target.version, name: target.resource) else {
            throw APIStatus.notFound("the server could not find the requested resource")
        }
        if target.namespace != nil && !resource.namespaced {
            throw APIStatus.notFound("the server could not find the requested resource")
        }
        if let subresource = target.subresource, !resource.subresources.contains(subresource) {
            throw APIStatus.notFound("the server could not find the requested resource")
        }
        let verb = self.verb
        guard ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"].contains(verb) else {
            throw APIStatus.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        let allowed = target.subresource == nil ? resource.verbs.contains(verb) : true
        guard allowed else { throw APIStatus.methodNotAllowed("the server does not allow this method on the requested resource") }
        // Anyone may ask what they may do (`kubectl auth can-i`, `auth whoami`).
        if Discovery.reviews.contains(where: { $0.groupKind == resource.groupKind && $0.group != "events.k8s.io" }) {
            return try await review(resource)
        }
        guard user.may(verb) else {
            let scope = target.namespace.map { " in the namespace \"\($0)\"" } ?? " at the cluster scope"
            let name = target.subresource.map { target.resource + "/" + $0 } ?? target.resource
            throw APIStatus(
                code: 403, reason: "Forbidden",
                message: "\(resource.qualifiedName)\(target.name.map { " \"\($0)\"" } ?? "") is forbidden: User \"\(user.name)\" cannot \(verb) resource \"\(name)\" in API group \"\(target.group)\"\(scope)",
                details: detailsValue(resource))
        }
        do {
            return try await serve(resource, verb: verb)
        } catch let error as ClusterError {
            throw APIStatus(error, group: resource.group, resource: resource.name, name: target.name)
        }
    }

    func detailsValue(_ resource: APIResource) -> Value {
        var details: Value = ["group": .string(resource.group), "kind": .string(resource.name)]
        if let name = target.name { details.set(.string(name), at: ["name"]) }
        return details
    }

    /// The namespace of the request: the path's, `default` for a namespaced create without
    /// one, nil for a cluster-scoped resource or a list across namespaces.
    var namespace: String? { target.namespace }

    func id(_ resource: APIResource, name: String) -> ResourceID {
        ResourceID(resource.groupVersionKind, namespace: resource.namespaced ? (target.namespace ?? "default") : nil, name: name)
    }

    private func serve(_ resource: APIResource, verb: String) async throws -> Response {
        if resource.group == "" && resource.kind == "Event" || resource.group == "events.k8s.io" {
            if verb == "list" || verb == "get" || verb == "watch" { return try await events(resource, verb: verb) }
        }
        switch (verb, target.subresource) {
        case ("get", nil):
            let object = try await backend.get(id(resource, name: target.name!))
            return try await answer(object, resource: resource)
        case ("get", "status"):
            return try await answer(try await backend.get(id(resource, name: target.name!)), resource: resource)
        case ("get", "scale"):
            return KubeAPIResponder.json(Scale.of(try await backend.get(id(resource, name: target.name!)), resource: resource))
        case ("get", "log"):
            let lines = try await backend.logs(of: id(resource, name: target.name!), container: query["container"])
            var shown = lines
            if let tail = query["tailLines"].flatMap(Int.init), tail >= 0 { shown = Array(lines.suffix(tail)) }
            var buffer = ByteBuffer()
            buffer.writeString(shown.map { $0 + "\n" }.joined())
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: buffer))
        case ("list", nil):
            return try await list(resource)
        case ("watch", nil):
            return try await WatchStream(request: self, resource: resource).response()
        case ("create", nil):
            return try await create(resource)
        case ("create", "eviction"):
            _ = try await body()
            try await backend.evict(id(resource, name: target.name!))
            return KubeAPIResponder.json(Self.success(resource, name: target.name!), status: .created)
        case ("update", nil), ("update", "status"):
            return try await update(resource)
        case ("update", "scale"), ("patch", "scale"):
            return try await scale(resource, verb: verb)
        case ("patch", nil), ("patch", "status"):
            return try await patch(resource)
        case ("delete", nil):
            return try await delete(resource)
        case ("deletecollection", nil):
            return try await deleteCollection(resource)
        default:
            throw APIStatus.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    // MARK: - Reading

    func listOptions() throws -> ListOptions {
        var options = ListOptions()
        if let text = query["labelSelector"], !text.isEmpty {
            do {
                options.labelSelector = try LabelSelector(parsing: text)
            } catch {
                throw APIStatus.badRequest("unable to parse requirement: \(error)")
            }
        }
        if let text = query["fieldSelector"], !text.isEmpty {
            options.fieldSelector = try FieldSelector(parsing: text)
        }
        if let limit = query["limit"] {
            guard let value = Int(limit), value >= 0 else { throw APIStatus.badRequest("invalid limit \"\(limit)\"") }
            options.limit = value == 0 ? nil : value
        }
        if let token = query["continue"], !token.isEmpty { options.continueToken = token }
        return options
    }

    private func list(_ resource: APIResource) async throws -> Response {
        let result = try await backend.list(resource.groupKind, namespace: namespace, options: try listOptions())
        return try await answerList(result.items, resourceVersion: result.resourceVersion, continueToken: result.continueToken, resource: resource)
    }

    /// An object as JSON, or as a Table when the client asks for one.
    func answer(_ object: Value, resource: APIResource) async throws -> Response {
        switch Presentation(accept: request.headers[.accept]) {
        case .table:
            return KubeAPIResponder.json(try await Tables.table([object], resource: resource, resourceVersion: object[path: ["metadata", "resourceVersion"]]?.stringValue ?? "", continueToken: nil, includeObject: query["includeObject"], responder: responder))
        case .metadata:
            return KubeAPIResponder.json(Tables.partial(object))
        case .object:
            return KubeAPIResponder.json(object)
        }
    }

    func answerList(_ items: [Value], resourceVersion: String, continueToken: String?, resource: APIResource) async throws -> Response {
        switch Presentation(accept: request.headers[.accept]) {
        case .table:
            return KubeAPIResponder.json(try await Tables.table(items, resource: resource, resourceVersion: resourceVersion, continueToken: continueToken, includeObject: query["includeObject"], responder: responder))
        case .metadata:
            var metadata: Value = ["resourceVersion": .string(resourceVersion)]
            if let continueToken { metadata.set(.string(continueToken), at: ["continue"]) }
            return KubeAPIResponder.json(["kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "items": .sequence(items.map(Tables.partial))])
        case .object:
            return KubeAPIResponder.json(Self.listObject(items, resource: resource, resourceVersion: resourceVersion, continueToken: continueToken))
        }
    }

    static func listObject(_ items: [Value], resource: APIResource, resourceVersion: String, continueToken: String?) -> Value {
        var metadata: Value = ["resourceVersion": .string(resourceVersion)]
        if let continueToken { metadata.set(.string(continueToken), at: ["continue"]) }
        return [
            "kind": .string(resource.kind + "List"), "apiVersion": .string(resource.groupVersionKind.apiVersion), "metadata": metadata,
            "items": .sequence(items),
        ]
    }

    /// Events: those the cluster records (as core/v1 or events.k8s.io/v1 objects), by namespace
    /// and selectors.
    private func events(_ resource: APIResource, verb: String) async throws -> Response {
        let recorded = try await backend.events(for: nil)
        var items = recorded.enumerated().map { index, event in EventObjects.object(event, index: index, group: resource.group) }
        let stored = try await backend.list(GroupKind(group: "", kind: "Event"), namespace: nil, options: ListOptions())
        items += stored.items.map { resource.group.isEmpty ? $0 : EventObjects.converted($0) }
        if let namespace { items = items.filter { $0[path: ["metadata", "namespace"]]?.stringValue == namespace } }
        let options = try listOptions()
        // `kubectl describe` selects an object's events by its uid too: recorded events name
        // objects by kind and name, so their uids are looked up (once per object).
        if options.fieldSelector.requirements.contains(where: { $0.field.hasSuffix(".uid") }) {
            var uids: [String: Value] = [:]
            for index in items.indices {
                let involved = items[index]["involvedObject"] ?? items[index]["regarding"] ?? .null
                guard involved["uid"] == nil, let kind = involved["kind"]?.stringValue, let name = involved["name"]?.stringValue else { continue }
                let apiVersion = involved["apiVersion"]?.stringValue ?? "v1"
                let key = "\(apiVersion)/\(kind)/\(involved["namespace"]?.stringValue ?? "")/\(name)"
                if uids[key] == nil {
                    let id = ResourceID(GroupVersionKind(apiVersion: apiVersion, kind: kind), namespace: involved["namespace"]?.stringValue, name: name)
                    uids[key] = (try? await backend.get(id))?[path: ["metadata", "uid"]] ?? .string("")
                }
                items[index].set(uids[key]!, at: [resource.group.isEmpty ? "involvedObject" : "regarding", "uid"])
            }
        }
        items = items.filter { object in
            options.fieldSelector.matches(object) && options.labelSelector.matches(label: { object[path: ["metadata", "labels", $0]]?.stringValue })
        }
        switch verb {
        case "get":
            guard let found = items.first(where: { $0[path: ["metadata", "name"]]?.stringValue == target.name }) else {
                throw ClusterError(.notFound, "events \"\(target.name ?? "")\" not found")
            }
            return try await answer(found, resource: resource)
        case "watch":
            return try await WatchStream(request: self, resource: resource).response()
        default:
            return try await answerList(items, resourceVersion: stored.resourceVersion, continueToken: nil, resource: resource)
        }
    }

    // MARK: - Writing

    /// The request's body (at most the server's limit), decoded as JSON or YAML.
    func body() async throws -> Value {
        let type = contentType
        let isProtobuf = type == "application/vnd.kubernetes.protobuf"
        guard isProtobuf || type.hasPrefix("application/") && (type.hasSuffix("json") || type.hasSuffix("yaml")) else {
            throw APIStatus.unsupportedMediaType(type)
        }
        var collected = ByteBuffer()
        let body = request.body
        for try await chunk in body {
            var chunk = chunk
            if collected.readableBytes + chunk.readableBytes > responder.options.maxBodyBytes {
                throw APIStatus.tooLarge(responder.options.maxBodyBytes)
            }
            collected.writeBuffer(&chunk)
        }
        let bytes = collected.readableBytesView
        guard !bytes.isEmpty else { throw APIStatus.badRequest("the request has no body") }
        if isProtobuf {
            do {
                return try ProtobufBody.decode(Array(bytes))
            } catch {
                throw APIStatus(code: 415, reason: "UnsupportedMediaType", message: "the protobuf body cannot be read: \(error)")
            }
        }
        let documents: [YAMLDocument]
        switch Result(catching: { () throws(YAMLError) -> [YAMLDocument] in try YAMLReader.read(Array(bytes)) }) {
        case .success(let read): documents = read
        case .failure(let error): throw APIStatus.badRequest("the body is not valid JSON or YAML: \(error.description)")
        }
        guard documents.count == 1, let document = documents.first else {
            throw APIStatus.badRequest("the body must hold exactly one object, not \(documents.count)")
        }
        return document.root
    }

    /// The media type of the body, without parameters.
    var contentType: String {
        let header = request.headers[.contentType] ?? "application/json"
        return header.split(separator: ";").first.map { $0.trimmingWhitespace().lowercased() } ?? "application/json"
    }

    func writeOptions() throws -> WriteOptions {
        WriteOptions(fieldManager: try fieldManager(), dryRun: try dryRun())
    }

    func dryRun() throws -> Bool {
        guard let value = query["dryRun"], !value.isEmpty else { return false }
        guard value == "All" else { throw APIStatus.badRequest("Invalid dry run value: \"\(value)\" (only \"All\" is supported)") }
        return true
    }

    func fieldManager(required: Bool = false) throws -> String {
        if let manager = query["fieldManager"], !manager.isEmpty {
            guard manager.count <= 128 else { throw APIStatus.badRequest("fieldManager must be at most 128 characters") }
            return manager
        }
        if required { throw APIStatus.badRequest("PATCH requests with apply patch type must specify fieldManager") }
        let agent = request.headers[.userAgent] ?? "unknown"
        return String(agent.split(separator: "/").first ?? "unknown")
    }

    /// `fieldValidation`: how unknown and duplicate fields are treated (Strict refuses them,
    /// Warn answers with warnings, Ignore drops them).
    func fieldValidation() throws -> FieldValidation {
        switch query["fieldValidation"] ?? "" {
        case "", "Warn": return .warn
        case "Strict": return .strict
        case "Ignore": return .ignore
        case let other: throw APIStatus.badRequest("fieldValidation must be Strict, Warn or Ignore, not \"\(other)\"")
        }
    }

    /// Checks a body's kind and namespace against the request, fills what it leaves out, and
    /// validates its fields as `fieldValidation` says; returns the warnings to send.
    func prepare(_ object: inout Value, resource: APIResource) async throws -> [String] {
        guard object.mappingValue != nil else { throw APIStatus.badRequest("the body must be an object, not \(object.typeName)") }
        let apiVersion = resource.groupVersionKind.apiVersion
        if let sent = object["apiVersion"]?.stringValue, sent != apiVersion {
            throw APIStatus.badRequest("the API version in the data (\(sent)) does not match the expected API version (\(apiVersion))")
        }
        if let sent = object["kind"]?.stringValue, sent != resource.kind {
            throw APIStatus.badRequest("the kind in the data (\(sent)) does not match the expected kind (\(resource.kind))")
        }
        object.set(.string(apiVersion), at: ["apiVersion"])
        object.set(.string(resource.kind), at: ["kind"])
        if resource.namespaced {
            let requested = target.namespace ?? "default"
            if let sent = object[path: ["metadata", "namespace"]]?.stringValue, !sent.isEmpty, sent != requested {
                throw APIStatus.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            object.set(.string(requested), at: ["metadata", "namespace"])
        } else {
            object.remove(at: ["metadata", "namespace"])
        }
        // Only a custom resource's schema needs the stored definitions read.
        let builtIn = KubernetesOpenAPI.schemaNames[resource.groupVersionKind] != nil
        let problems = FieldCheck.unknownFields(object, resource: resource, crds: builtIn ? [] : try await responder.definitions())
        switch try fieldValidation() {
        case .strict:
            if !problems.isEmpty {
                throw APIStatus(
                    code: 400, reason: "BadRequest",
                    message: "\(resource.kind) in version \"\(resource.version)\" cannot be handled as a \(resource.kind): strict decoding error: "
                        + problems.map { "unknown field \"\($0)\"" }.joined(separator: ", "))
            }
            return []
        case .warn:
            return problems.map { "unknown field \"\($0)\"" }
        case .ignore:
            return []
        }
    }

    private func create(_ resource: APIResource) async throws -> Response {
        var object = try await body()
        let warnings = try await prepare(&object, resource: resource)
        if (object[path: ["metadata", "name"]]?.stringValue ?? "").isEmpty {
            guard let prefix = object[path: ["metadata", "generateName"]]?.stringValue, !prefix.isEmpty else {
                throw APIStatus(ClusterError(.invalid, "\(resource.kind) \"\" is invalid: metadata.name: Required value: name or generateName is required",
                    causes: [ClusterError.Cause(field: "metadata.name", message: "Required value: name or generateName is required")]),
                    group: resource.group, resource: resource.name)
            }
            object.set(.string(prefix + Self.randomSuffix()), at: ["metadata", "name"])
        }
        let created: Value
        do {
            created = try await backend.create(object, options: try writeOptions())
        } catch let error as ClusterError {
            throw APIStatus(error, group: resource.group, resource: resource.name, name: object[path: ["metadata", "name"]]?.stringValue)
        }
        return KubeAPIResponder.json(created, status: .created, headers: Self.warningHeaders(warnings))
    }

    private func update(_ resource: APIResource) async throws -> Response {
        var object = try await body()
        let warnings = try await prepare(&object, resource: resource)
        guard object[path: ["metadata", "name"]]?.stringValue == target.name else {
            throw APIStatus.badRequest("the name of the object (\(object[path: ["metadata", "name"]]?.stringValue ?? "")) does not match the name on the URL (\(target.name ?? ""))")
        }
        let result = target.subresource == "status"
            ? try await backend.updateStatus(object, options: try writeOptions())
            : try await backend.update(object, options: try writeOptions())
        return KubeAPIResponder.json(result, headers: Self.warningHeaders(warnings))
    }

    private func patch(_ resource: APIResource) async throws -> Response {
        let type = contentType
        let patch: Patch
        let id = self.id(resource, name: target.name!)
        switch type {
        case "application/apply-patch+yaml":
            var object = try await body()
            guard target.subresource == nil else { throw APIStatus.badRequest("server-side apply on a subresource is not supported") }
            let warnings = try await prepare(&object, resource: resource)
            if object[path: ["metadata", "name"]] == nil { object.set(.string(target.name!), at: ["metadata", "name"]) }
            let options = PatchOptions(fieldManager: try fieldManager(required: true), dryRun: try dryRun(), force: isTrue(query["force"]))
            let result = try await backend.patch(id, .apply(object), options: options)
            return KubeAPIResponder.json(result, headers: Self.warningHeaders(warnings))
        case "application/merge-patch+json": patch = .merge(try await body())
        case "application/strategic-merge-patch+json": patch = .strategic(try await body())
        case "application/json-patch+json": patch = .json(try await body())
        default: throw APIStatus.unsupportedMediaType(type)
        }
        let options = PatchOptions(fieldManager: try fieldManager(), dryRun: try dryRun())
        _ = try fieldValidation()
        if target.subresource == "status" {
            let live = try await backend.get(id)
            guard let patched = try patch.patched(live) else { throw APIStatus.badRequest("cannot patch status") }
            var object = live
            object.set(patched["status"] ?? .null, at: ["status"])
            let result = try await backend.updateStatus(object, options: WriteOptions(fieldManager: options.fieldManager, dryRun: options.dryRun))
            return KubeAPIResponder.json(result)
        }
        let result = try await backend.patch(id, patch, options: options)
        return KubeAPIResponder.json(result)
    }

    private func scale(_ resource: APIResource, verb: String) async throws -> Response {
        let id = self.id(resource, name: target.name!)
        let live = try await backend.get(id)
        let current = Scale.of(live, resource: resource)
        let desired: Value
        if verb == "update" {
            desired = try await body()
        } else {
            let patch: Patch
            switch contentType {
            case "application/merge-patch+json": patch = .merge(try await body())
            case "application/strategic-merge-patch+json": patch = .strategic(try await body())
            case "application/json-patch+json": patch = .json(try await body())
            case let other: throw APIStatus.unsupportedMediaType(other)
            }
            desired = try patch.patched(current) ?? current
        }
        guard let replicas = desired[path: ["spec", "replicas"]]?.intValue, replicas >= 0 else {
            throw APIStatus(ClusterError(.invalid, "Scale.autoscaling \"\(target.name!)\" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0",
                causes: [ClusterError.Cause(field: "spec.replicas", message: "Invalid value: must be greater than or equal to 0")]), group: "autoscaling", resource: "scale", name: target.name)
        }
        var object = live
        object.set(.int(replicas), at: ["spec", "replicas"])
        let result = try await backend.update(object, options: try writeOptions())
        return KubeAPIResponder.json(Scale.of(result, resource: resource))
    }

    private func deleteOptions() async throws -> DeleteOptions {
        var options = DeleteOptions(dryRun: try dryRun())
        var propagation = query["propagationPolicy"]
        if request.headers[.contentLength].flatMap(Int.init) ?? 0 > 0 || request.headers[.transferEncoding] != nil {
            let body = try await self.body()
            propagation = body["propagationPolicy"]?.stringValue ?? propagation
            if body["dryRun"]?.sequenceValue?.contains("All") == true { options.dryRun = true }
            if let version = body[path: ["preconditions", "resourceVersion"]]?.stringValue { options.resourceVersion = version }
            if body["orphanDependents"]?.boolValue == true { propagation = "Orphan" }
        }
        if let propagation {
            guard let value = DeletionPropagation(rawValue: propagation) else {
                throw APIStatus.badRequest("propagationPolicy must be Foreground, Background or Orphan, not \"\(propagation)\"")
            }
            options.propagation = value
        }
        return options
    }

    private func delete(_ resource: APIResource) async throws -> Response {
        let options = try await deleteOptions()
        let id = self.id(resource, name: target.name!)
        let object = try await backend.get(id)
        try await backend.delete(id, options: options)
        var details = Self.success(resource, name: target.name!)
        details.set(object[path: ["metadata", "uid"]] ?? .null, at: ["details", "uid"])
        return KubeAPIResponder.json(details)
    }

    private func deleteCollection(_ resource: APIResource) async throws -> Response {
        let options = try await deleteOptions()
        let items = try await backend.list(resource.groupKind, namespace: namespace, options: try listOptions()).items
        for item in items {
            guard let id = ResourceID(object: item) else { continue }
            // One already gone with its owner is skipped.
            let outcome = await Self.attempt { () async throws(ClusterError) in try await backend.delete(id, options: options) }
            if case .failure(let error) = outcome, error.code != ClusterError.Code.notFound {
                throw error
            }
        }
        return KubeAPIResponder.json(Self.listObject([], resource: resource, resourceVersion: "", continueToken: nil))
    }

    /// Runs a cluster call, its error as a value.
    static func attempt(_ body: () async throws(ClusterError) -> Void) async -> Result<Void, ClusterError> {
        do {
            try await body()
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    static func success(_ resource: APIResource, name: String) -> Value {
        [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success",
            "details": ["name": .string(name), "group": .string(resource.group), "kind": .string(resource.name)],
        ]
    }

    static func warningHeaders(_ warnings: [String]) -> HTTPFields {
        var fields = HTTPFields()
        for warning in warnings { fields.append(HTTPField(name: HTTPField.Name("Warning")!, value: "299 - \"\(warning)\"")) }
        return fields
    }

    /// Five characters from the alphabet the API server uses for `generateName`.
    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<5).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    // MARK: - Reviews

    private func review(_ resource: APIResource) async throws -> Response {
        guard verb == "create" else { throw APIStatus.methodNotAllowed("the server does not allow this method on the requested resource") }
        var object = try await body()
        switch resource.kind {
        case "SelfSubjectAccessReview":
            let attributes = object[path: ["spec", "resourceAttributes"]]
            let verb = attributes?["verb"]?.stringValue ?? object[path: ["spec", "nonResourceAttributes", "verb"]]?.stringValue ?? ""
            let allowed = verb == "*" ? user == .admin : user.may(verb)
            var status: Value = ["allowed": .bool(allowed)]
            if !allowed { status.set("the read-only token may get, list and watch only", at: ["reason"]) }
            object.set(status, at: ["status"])
        case "SelfSubjectRulesReview":
            let verbs: [Value] = user == .admin ? ["*"] : ["get", "list", "watch"]
            object.set([
                "resourceRules": [["verbs": .sequence(verbs), "apiGroups": ["*"], "resources": ["*"]]],
                "nonResourceRules": [["verbs": ["get"], "nonResourceURLs": ["*"]]], "incomplete": false,
            ], at: ["status"])
        default:
            object.set(["userInfo": ["username": .string(user.name), "groups": .sequence(user.groups.map { .string($0) })]], at: ["status"])
        }
        object.set(.string(resource.groupVersionKind.apiVersion), at: ["apiVersion"])
        object.set(.string(resource.kind), at: ["kind"])
        return KubeAPIResponder.json(object, status: .created)
    }
}

enum FieldValidation {
    case strict, warn, ignore
}

/// How a client wants objects: as they are, as a Table (`as=Table`), or as metadata only
/// (`as=PartialObjectMetadata`).
enum Presentation: Sendable {
    case object, table, metadata

    init(accept: String?) {
        guard let accept else { self = .object; return }
        // The first acceptable form wins, as the client ranks them.
        for option in accept.split(separator: ",") {
            if option.contains("as=Table") { self = .table; return }
            if option.contains("as=PartialObjectMetadata") { self = .metadata; return }
            if option.contains("application/json") || option.contains("*/*") { self = .object; return }
        }
        self = .object
    }
}

/// The `autoscaling/v1` Scale of a scalable object.
enum Scale {
    static func of(_ object: Value, resource: APIResource) -> Value {
        let selector = object[path: ["spec", "selector"]]
        let selectorText = selector.flatMap { try? LabelSelector($0) }.map(\.description) ?? ""
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": [
                "name": object[path: ["metadata", "name"]] ?? .null, "namespace": object[path: ["metadata", "namespace"]] ?? .null,
                "uid": object[path: ["metadata", "uid"]] ?? .null, "resourceVersion": object[path: ["metadata", "resourceVersion"]] ?? .null,
                "creationTimestamp": object[path: ["metadata", "creationTimestamp"]] ?? .null,
            ],
            "spec": ["replicas": .int(object[path: ["spec", "replicas"]]?.intValue ?? 1)],
            "status": ["replicas": .int(object[path: ["status", "replicas"]]?.intValue ?? 0), "selector": .string(selectorText)],
        ]
    }
}
