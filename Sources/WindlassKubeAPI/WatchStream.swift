import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import WindlassCluster
import WindlassManifest

/// A watch: one JSON line per change (`{"type":"MODIFIED","object":{…}}`), in order, each
/// once, from the requested resourceVersion (or the current state first, as ADDED events, when
/// none is given or `sendInitialEvents=true`), with bookmarks when asked and an end after
/// `timeoutSeconds`. A version older than the cluster keeps is an ERROR event carrying a 410
/// `Expired` Status (the client lists again). A client that stops reading is dropped once
/// `watchBuffer` changes wait for it: nothing is buffered without bound.
struct WatchStream {
    let request: ResourceRequest
    let resource: APIResource

    enum Item: Sendable {
        case event(ClusterWatchEvent)
        case bookmark
    }

    static func open(_ backend: any ClusterBackend, kind: GroupKind, namespace: String?, since: String) async -> Result<AsyncStream<ClusterWatchEvent>, ClusterError> {
        do {
            return .success(try await backend.watch(kind, namespace: namespace, since: since))
        } catch {
            return .failure(error)
        }
    }

    func response() async throws -> Response {
        let query = request.query
        let resource = self.resource
        let options = try request.listOptions()
        let backend = request.backend
        let responder = request.responder
        let settings = responder.options
        let presentation = Presentation(accept: request.request.headers[.accept])
        let printerColumns = presentation == .table ? try await Tables.printerColumns(resource, responder: responder) : nil
        let sendInitial = request.isTrue(query["sendInitialEvents"])
        let bookmarks = request.isTrue(query["allowWatchBookmarks"])
        var timeout = settings.defaultWatchTimeout
        if let text = query["timeoutSeconds"] {
            guard let seconds = Double(text), seconds >= 0 else { throw APIStatus.badRequest("invalid timeoutSeconds \"\(text)\"") }
            if seconds > 0 { timeout = min(seconds, settings.defaultWatchTimeout) }
        }
        if sendInitial && !bookmarks {
            throw APIStatus.badRequest("sendInitialEvents=true requires allowWatchBookmarks=true")
        }
        let requested = query["resourceVersion"] ?? ""
        let isEvents = resource.kind == "Event"
        let kind = isEvents ? GroupKind(group: "", kind: "Event") : resource.groupKind
        let namespace = request.namespace
        var initial: [Value] = []
        var since = requested
        if requested.isEmpty || requested == "0" || sendInitial {
            if isEvents {
                initial = try await backend.events(for: nil).enumerated().map { EventObjects.object($1, index: $0, group: resource.group) }
                    .filter { object in namespace == nil || object[path: ["metadata", "namespace"]]?.stringValue == namespace }
                since = try await backend.list(kind, namespace: nil, options: ListOptions(limit: 1)).resourceVersion
            } else {
                let list = try await backend.list(kind, namespace: namespace, options: ListOptions(labelSelector: options.labelSelector, fieldSelector: options.fieldSelector))
                initial = list.items
                since = list.resourceVersion
            }
        }
        let changes: AsyncStream<ClusterWatchEvent>
        switch await Self.open(backend, kind: kind, namespace: namespace, since: since) {
        case .success(let stream):
            changes = stream
        case .failure(let error) where error.code == .expired:
            let status = APIStatus(code: 410, reason: "Expired", message: error.message)
            var buffer = ByteBuffer()
            buffer.writeString(JSONWriter().write(["type": "ERROR", "object": status.object]) + "\n")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
        case .failure(let error):
            throw error
        }
        let now = responder.now
        let includeObject = query["includeObject"]
        let matches: @Sendable (Value) -> Bool = { object in
            options.fieldSelector.matches(object) && options.labelSelector.matches(label: { object[path: ["metadata", "labels", $0]]?.stringValue })
        }
        let convert: @Sendable (Value) -> Value = { object in isEvents && !resource.group.isEmpty ? EventObjects.converted(object) : object }
        let start = since
        let initialObjects = initial
        let watchTimeout = timeout
        let requestBody = request.request.body
        let encoder = WatchLines(
            resource: resource, presentation: presentation, printerColumns: printerColumns, includeObject: includeObject, now: now, lastVersion: start)
        // The connection closes with the watch (Hummingbird closes it once the client's side is
        // watched for hang-ups): saying so keeps clients from sending their next request on it.
        return Response(status: .ok, headers: [.contentType: "application/json", .connection: "close"], body: ResponseBody { writer in
            var lines = encoder
            for object in initialObjects {
                try await writer.write(lines.line("ADDED", convert(object)))
            }
            if sendInitial { try await writer.write(lines.bookmark(initialEnd: true)) }

            let (items, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingOldest(settings.watchBuffer))
            let producer = Task {
                for await change in changes {
                    if change.kind != .bookmark && !matches(change.object) { continue }
                    if case .dropped = continuation.yield(.event(change)) { break }
                }
                continuation.finish()
            }
            let timer = Task {
                try? await Task.sleep(for: .seconds(watchTimeout))
                continuation.finish()
            }
            let ticker: Task<Void, Never>? = bookmarks ? Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(settings.bookmarkInterval))
                    if Task.isCancelled { break }
                    if case .dropped = continuation.yield(.bookmark) { break }
                }
            } : nil
            defer {
                producer.cancel()
                timer.cancel()
                ticker?.cancel()
                continuation.finish()
            }
            // The watch ends when the client hangs up (noticed without waiting for a write) or
            // the server stops, as well as on its timeout.
            try await requestBody.consumeWithInboundCloseHandler { _ in
                try await withGracefulShutdownHandler {
                    for await item in items {
                        switch item {
                        case .event(let change):
                            lines.lastVersion = change.resourceVersion
                            if change.kind == .bookmark {
                                if bookmarks { try await writer.write(lines.bookmark(initialEnd: false)) }
                            } else {
                                try await writer.write(lines.line(change.kind.rawValue, convert(change.object)))
                            }
                        case .bookmark:
                            try await writer.write(lines.bookmark(initialEnd: false))
                        }
                    }
                } onGracefulShutdown: {
                    continuation.finish()
                }
            } onInboundClosed: {
                continuation.finish()
            }
            try await writer.finish(nil)
        })
    }
}

/// The lines of one watch: each event's object as the client asked for it (a one-row Table,
/// its metadata, or itself), and bookmarks at the last version sent.
struct WatchLines: Sendable {
    let resource: APIResource
    let presentation: Presentation
    let printerColumns: [Value]?
    let includeObject: String?
    let now: @Sendable () -> Double
    var lastVersion: String
    var columnsSent = false

    mutating func line(_ type: String, _ object: Value) -> ByteBuffer {
        var shown = object
        if type != "BOOKMARK" && type != "ERROR" {
            switch presentation {
            case .table:
                shown = Tables.build(
                    [object], resource: resource, printerColumns: printerColumns, now: now(),
                    resourceVersion: object[path: ["metadata", "resourceVersion"]]?.stringValue ?? lastVersion, continueToken: nil,
                    includeObject: includeObject, withColumns: !columnsSent)
                columnsSent = true
            case .metadata:
                shown = Tables.partial(object)
            case .object:
                break
            }
        }
        var buffer = ByteBuffer()
        buffer.writeString(JSONWriter().write(["type": .string(type), "object": shown]))
        buffer.writeString("\n")
        return buffer
    }

    mutating func bookmark(initialEnd: Bool) -> ByteBuffer {
        var metadata: Value = ["resourceVersion": .string(lastVersion)]
        if initialEnd { metadata.set(["k8s.io/initial-events-end": "true"], at: ["annotations"]) }
        return line("BOOKMARK", ["kind": .string(resource.kind), "apiVersion": .string(resource.groupVersionKind.apiVersion), "metadata": metadata])
    }
}
