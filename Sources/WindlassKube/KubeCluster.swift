public import Logging
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization
public import WindlassCluster
public import WindlassManifest

/// A Kubernetes cluster reached through its API, as a ``ClusterBackend``: the pipeline plans,
/// syncs, canaries and checks drift in it exactly as in the embedded cluster. Discovery is
/// cached and read again when a kind is not in it (a CRD just installed) or a
/// CustomResourceDefinition is written.
public final class KubeCluster: ClusterBackend {
    let transport: KubeTransport
    private let discovered = Mutex<Discovered?>(nil)
    /// The context's namespace, for objects that name none.
    public let defaultNamespace: String

    private struct Discovered {
        var mapping: RESTMapping
        var readAt: ContinuousClock.Instant
    }

    /// The live model kept by watches (nil: every read lists the cluster, as a one-shot CLI
    /// command should).
    public let cache: KubeCache?

    /// A client of the cluster `selection` names; with `cache`, lists of whole kinds are
    /// answered from watches kept per kind (a long-running daemon's way).
    public init(
        _ selection: KubeconfigSelection, options: KubeClientOptions = KubeClientOptions(), cache: KubeCache? = nil,
        logger: Logger = Logger(label: "windlass.kube")
    ) throws(KubeClientError) {
        transport = try KubeTransport(selection: selection, options: options, logger: logger)
        defaultNamespace = selection.namespace
        self.cache = cache
    }

    deinit {
        cache?.stop()
    }

    /// A client of `context` (nil: the current one) in the kubeconfig kubectl would read
    /// (`path`, else `$KUBECONFIG`, else `~/.kube/config`).
    public static func connect(kubeconfig path: String?, context: String?, options: KubeClientOptions = KubeClientOptions()) throws(KubeClientError) -> KubeCluster {
        let selection: KubeconfigSelection
        do {
            selection = try Kubeconfig.load(explicitPath: path).select(context: context)
        } catch {
            throw KubeClientError(.kubeconfig, error.message)
        }
        return try KubeCluster(selection, options: options)
    }

    /// `the cluster at https://10.0.0.1:6443 (context prod)`.
    public var displayName: String { "the cluster at \(transport.server) (context \(transport.selection.context))" }

    /// The server's URL, credentials redacted.
    public var server: String { transport.server }

    // MARK: - Discovery

    public func discovery() async throws(ClusterError) -> RESTMapping {
        if let cached = discovered.withLock({ $0 }) { return cached.mapping }
        return try await refreshDiscovery()
    }

    /// Reads discovery again.
    @discardableResult
    public func refreshDiscovery() async throws(ClusterError) -> RESTMapping {
        let (mapping, unavailable) = try await KubeDiscovery.read(transport)
        for problem in unavailable {
            transport.logger.warning("discovery skipped a group version", metadata: ["problem": "\(problem)"])
        }
        discovered.withLock { $0 = Discovered(mapping: mapping, readAt: .now) }
        return mapping
    }

    /// The resource of `kind`, discovery read again (at most every 2 s) when it is unknown.
    func resource(_ kind: GroupKind) async throws(ClusterError) -> APIResource {
        if let resource = try await discovery().resource(for: kind) { return resource }
        let recent = discovered.withLock { $0.map { ContinuousClock.now - $0.readAt < .seconds(2) } ?? false }
        if !recent, let resource = try await refreshDiscovery().resource(for: kind) { return resource }
        let qualified = kind.group.isEmpty ? kind.kind : "\(kind.kind).\(kind.group)"
        let hint = kind.group.isEmpty || kind.group.hasSuffix(".k8s.io") || !kind.group.contains(".")
            ? "" : ": its CustomResourceDefinition is not installed (kubectl get crd | grep \(kind.group))"
        throw ClusterError(.notFound, "\(transport.server) serves no kind \(qualified)\(hint)")
    }

    /// `/apis/apps/v1/namespaces/web/deployments/api/scale`.
    func path(_ resource: APIResource, version: String? = nil, namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        let version = version.flatMap { $0.isEmpty ? nil : $0 } ?? resource.version
        var path = resource.group.isEmpty ? "/api/\(version)" : "/apis/\(resource.group)/\(version)"
        if resource.namespaced, let namespace { path += "/namespaces/\(KubeTransport.escape(namespace))" }
        path += "/\(resource.name)"
        if let name { path += "/\(KubeTransport.escape(name))" }
        if let subresource { path += "/\(subresource)" }
        return path
    }

    func path(_ id: ResourceID, subresource: String? = nil) async throws(ClusterError) -> String {
        let resource = try await resource(id.groupKind)
        return path(resource, version: id.version, namespace: id.namespace ?? defaultNamespace, name: id.name, subresource: subresource)
    }

    // MARK: - Reads

    public func list(_ kind: GroupKind, namespace: String?, options: ListOptions) async throws(ClusterError) -> ObjectList {
        if let cache, options.fieldSelector.isEmpty, options.limit == nil, options.continueToken == nil {
            if let cached = cache.list(kind, namespace: namespace, selector: options.labelSelector) { return cached }
            if (try? await resource(kind))?.verbs.contains("watch") == true { cache.start(kind, cluster: self) }
        }
        return try await directList(kind, namespace: namespace, options: options)
    }

    /// A list from the server itself, never the cache.
    public func directList(_ kind: GroupKind, namespace: String?, options: ListOptions) async throws(ClusterError) -> ObjectList {
        let resource = try await resource(kind)
        var query: [(String, String)] = []
        if !options.labelSelector.requirements.isEmpty { query.append(("labelSelector", options.labelSelector.description)) }
        if !options.fieldSelector.isEmpty { query.append(("fieldSelector", options.fieldSelector.description)) }
        if let limit = options.limit { query.append(("limit", "\(limit)")) }
        if let token = options.continueToken { query.append(("continue", token)) }
        let path = path(resource, namespace: namespace)
        let list = try await json(.GET, path, query: query, idempotent: true)
        let apiVersion = resource.group.isEmpty ? resource.version : "\(resource.group)/\(resource.version)"
        let items = (list["items"]?.sequenceValue ?? []).map { Self.typed($0, apiVersion: apiVersion, kind: resource.kind) }
        let continueToken = list["metadata"]?["continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        return ObjectList(items: items, resourceVersion: list["metadata"]?["resourceVersion"]?.stringValue ?? "", continueToken: continueToken)
    }

    /// Items of a typed list carry no apiVersion and kind; the pipeline needs them.
    static func typed(_ object: Value, apiVersion: String, kind: String) -> Value {
        guard object["kind"] == nil || object["apiVersion"] == nil else { return object }
        guard case .mapping(var mapping) = object.content else { return object }
        var typed = Mapping()
        typed["apiVersion"] = .string(apiVersion)
        typed["kind"] = .string(kind)
        for entry in mapping.entries where entry.key != "apiVersion" && entry.key != "kind" { typed[entry.key] = entry.value }
        mapping = typed
        return Value(.mapping(mapping), span: object.span)
    }

    public func get(_ id: ResourceID) async throws(ClusterError) -> Value {
        try await json(.GET, try await path(id), idempotent: true)
    }

    // MARK: - Writes

    public func create(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        let id = try identity(object)
        let resource = try await resource(id.groupKind)
        let path = path(resource, version: id.version, namespace: id.namespace ?? defaultNamespace)
        let created = try await json(.POST, path, query: writeQuery(options.fieldManager, options.dryRun), body: JSONWriter().encode(object), idempotent: false)
        noteWrite(of: id)
        if !options.dryRun { cache?.wrote(created) }
        return created
    }

    public func update(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        let id = try identity(object)
        let updated = try await json(.PUT, try await path(id), query: writeQuery(options.fieldManager, options.dryRun), body: JSONWriter().encode(object), idempotent: true)
        noteWrite(of: id)
        if !options.dryRun { cache?.wrote(updated) }
        return updated
    }

    public func updateStatus(_ object: Value, options: WriteOptions) async throws(ClusterError) -> Value {
        let id = try identity(object)
        return try await json(
            .PUT, try await path(id, subresource: "status"), query: writeQuery(options.fieldManager, options.dryRun), body: JSONWriter().encode(object),
            idempotent: true)
    }

    public func patch(_ id: ResourceID, _ patch: Patch, options: PatchOptions) async throws(ClusterError) -> Value {
        var query = writeQuery(options.fieldManager, options.dryRun)
        let contentType: String
        let body: Value
        switch patch {
        case .apply(let object):
            contentType = "application/apply-patch+yaml"
            body = object
            query.append(("force", options.force ? "true" : "false"))
        case .merge(let changes):
            contentType = "application/merge-patch+json"
            body = changes
        case .strategic(let changes):
            contentType = "application/strategic-merge-patch+json"
            body = changes
        case .json(let operations):
            contentType = "application/json-patch+json"
            body = operations
        }
        let patched = try await json(.PATCH, try await path(id), query: query, body: JSONWriter().encode(body), contentType: contentType, idempotent: true)
        noteWrite(of: id)
        if !options.dryRun { cache?.wrote(patched) }
        return patched
    }

    public func delete(_ id: ResourceID, options: DeleteOptions) async throws(ClusterError) {
        var body: Value = ["apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": .string(options.propagation.rawValue)]
        if options.dryRun { body.set(["All"], at: ["dryRun"]) }
        if let version = options.resourceVersion { body.set(["resourceVersion": .string(version)], at: ["preconditions"]) }
        _ = try await json(.DELETE, try await path(id), body: JSONWriter().encode(body), idempotent: true)
        noteWrite(of: id)
        if !options.dryRun, options.propagation != .foreground { cache?.deleted(id) }
    }

    public func evict(_ pod: ResourceID) async throws(ClusterError) {
        let body: Value = [
            "apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": ["name": .string(pod.name), "namespace": .string(pod.namespace ?? defaultNamespace)],
        ]
        _ = try await json(.POST, try await path(pod, subresource: "eviction"), body: JSONWriter().encode(body), idempotent: false, retryTooMany: false)
    }

    private func writeQuery(_ fieldManager: String, _ dryRun: Bool) -> [(String, String)] {
        var query = [("fieldManager", fieldManager)]
        if dryRun { query.append(("dryRun", "All")) }
        return query
    }

    private func identity(_ object: Value) throws(ClusterError) -> ResourceID {
        guard let id = ResourceID(object: object) else { throw ClusterError(.badRequest, "the object has no apiVersion, kind or metadata.name") }
        return id
    }

    /// A CustomResourceDefinition written changes what the server serves.
    private func noteWrite(of id: ResourceID) {
        if id.kind == "CustomResourceDefinition" { discovered.withLock { $0 = nil } }
    }

    /// Sends a request and reads a JSON object from a 2xx answer; any other answer is the
    /// server's `Status` as an error.
    func json(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String = "application/json",
        idempotent: Bool, retryTooMany: Bool = true
    ) async throws(ClusterError) -> Value {
        let response = try await transport.send(
            method, path, query: query, body: body, contentType: contentType, idempotent: idempotent, retryTooMany: retryTooMany)
        guard (200..<300).contains(response.status) else {
            throw KubeStatus.error(status: response.status, body: response.body, server: transport.server, path: path)
        }
        guard let value = KubeJSON.read(response.body) else {
            throw ClusterError(.internalError, "\(transport.server)\(path): the answer is not JSON")
        }
        return value
    }

    // MARK: - Watches, events, logs

    public func watch(_ kind: GroupKind?, namespace: String?, since resourceVersion: String) async throws(ClusterError) -> AsyncStream<ClusterWatchEvent> {
        guard let kind else { throw ClusterError(.badRequest, "a Kubernetes API server watches one kind at a time") }
        return try await watch(kind, namespace: namespace, since: resourceVersion, timeout: 300)
    }

    /// A watch that ends after `timeout` seconds (the server's `timeoutSeconds`), or with an
    /// `.error` event when the server ends it with a `Status`.
    public func watch(_ kind: GroupKind, namespace: String?, since resourceVersion: String, timeout: Int, labelSelector: LabelSelector = .everything)
        async throws(ClusterError) -> AsyncStream<ClusterWatchEvent>
    {
        let resource = try await resource(kind)
        var query = [("watch", "1"), ("allowWatchBookmarks", "true"), ("timeoutSeconds", "\(timeout)")]
        if !resourceVersion.isEmpty { query.append(("resourceVersion", resourceVersion)) }
        if !labelSelector.requirements.isEmpty { query.append(("labelSelector", labelSelector.description)) }
        let response = try await transport.open(path(resource, namespace: namespace), query: query, timeout: Double(timeout))
        let apiVersion = resource.group.isEmpty ? resource.version : "\(resource.group)/\(resource.version)"
        let (stream, continuation) = AsyncStream.makeStream(of: ClusterWatchEvent.self, bufferingPolicy: .bufferingOldest(65_536))
        let reader = Task {
            var pending: [UInt8] = []
            do {
                for try await chunk in response.body {
                    pending.append(contentsOf: chunk.readableBytesView)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = pending[..<newline]
                        if let event = Self.event(line, apiVersion: apiVersion, kind: resource.kind) { continuation.yield(event) }
                        pending.removeSubrange(...newline)
                    }
                }
            } catch {
                // A dropped connection ends the watch like a timeout: the caller resumes.
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in reader.cancel() }
        return stream
    }

    /// One line of a watch: `{"type":"MODIFIED","object":{…}}`.
    static func event(_ line: ArraySlice<UInt8>, apiVersion: String, kind: String) -> ClusterWatchEvent? {
        guard !line.isEmpty else { return nil }
        let value: Value? = line.withUnsafeBufferPointer { buffer -> Value? in try? JSONReader.read(buffer) }
        guard let value, let type = value["type"]?.stringValue, let eventKind = ClusterWatchEvent.Kind(rawValue: type), let object = value["object"] else {
            return nil
        }
        if eventKind == .error { return ClusterWatchEvent(kind: .error, object: object, resourceVersion: "") }
        return ClusterWatchEvent(
            kind: eventKind, object: eventKind == .bookmark ? object : typed(object, apiVersion: apiVersion, kind: kind),
            resourceVersion: object["metadata"]?["resourceVersion"]?.stringValue ?? "")
    }

    public func events(for id: ResourceID?) async throws(ClusterError) -> [ClusterEvent] {
        var selector = FieldSelector()
        if let id {
            selector.requirements = [
                .init(field: "involvedObject.kind", equals: true, value: id.kind), .init(field: "involvedObject.name", equals: true, value: id.name),
            ]
        }
        let list = try await list(GroupKind(group: "", kind: "Event"), namespace: id.map { $0.namespace ?? defaultNamespace }, options: ListOptions(fieldSelector: selector))
        return list.items.compactMap(Self.clusterEvent)
    }

    /// A core/v1 Event as the pipeline reads events.
    static func clusterEvent(_ event: Value) -> ClusterEvent? {
        guard let involved = event["involvedObject"], let kind = involved["kind"]?.stringValue, let name = involved["name"]?.stringValue else { return nil }
        let gvk = GroupVersionKind(apiVersion: involved["apiVersion"]?.stringValue ?? "v1", kind: kind)
        let first = event["firstTimestamp"]?.stringValue.flatMap(Timestamp.parse) ?? event["eventTime"]?.stringValue.flatMap(Timestamp.parse) ?? 0
        let last = event["lastTimestamp"]?.stringValue.flatMap(Timestamp.parse) ?? event["series"]?["lastObservedTime"]?.stringValue.flatMap(Timestamp.parse) ?? first
        return ClusterEvent(
            object: ResourceID(gvk, namespace: involved["namespace"]?.stringValue, name: name),
            kind: event["type"]?.stringValue == "Warning" ? .warning : .normal, reason: event["reason"]?.stringValue ?? "",
            message: event["message"]?.stringValue ?? "", count: event["count"]?.intValue ?? 1, firstTime: first, lastTime: last)
    }

    public func logs(of pod: ResourceID, container: String?) async throws(ClusterError) -> [String] {
        let path = try await path(pod, subresource: "log")
        let response = try await transport.send(.GET, path, query: container.map { [("container", $0)] } ?? [], accept: "text/plain", idempotent: true)
        guard response.status == 200 else { throw KubeStatus.error(status: response.status, body: response.body, server: transport.server, path: path) }
        return response.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }
}
