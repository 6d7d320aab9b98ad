public import Logging
import Synchronization
public import WindlassCluster
public import WindlassManifest

/// A live model of a Kubernetes cluster kept by watches, as client-go's informers keep one:
/// per kind, a list, then a watch from its resourceVersion (bookmarks move it on), a fresh
/// list when the server says the version is gone (410), and the watch taken up again after
/// a dropped connection or a timeout, with backoff while the server is away. A plan reads the
/// cache instead of listing the cluster, and every change is offered to subscribers (the
/// daemon's drift checks), so a change someone makes by hand is seen within moments.
public final class KubeCache: Sendable {
    /// Kinds never cached: they change all the time and no plan needs them (as Argo CD
    /// excludes them by default).
    public static let excluded: Set<GroupKind> = [
        GroupKind(group: "", kind: "Event"), GroupKind(group: "events.k8s.io", kind: "Event"), GroupKind(group: "coordination.k8s.io", kind: "Lease"),
        GroupKind(group: "", kind: "Endpoints"), GroupKind(group: "discovery.k8s.io", kind: "EndpointSlice"),
    ]

    /// How long a watch asks the server to last before it is taken up again.
    let watchTimeout: Int
    let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var kinds: [GroupKind: Store] = [:]
        var tasks: [GroupKind: Task<Void, Never>] = [:]
        var subscribers: [Int: AsyncStream<ClusterWatchEvent>.Continuation] = [:]
        var nextSubscriber = 0
        var stopped = false
        /// Equal subtrees kept once (the pods of one template, a team's copied blocks), as the
        /// embedded store keeps them.
        var interner = ValueInterner()
    }

    /// One kind's objects.
    struct Store {
        var objects: [ResourceID: Value] = [:]
        var resourceVersion = ""
        var synced = false
        /// Lists made (the first and every relist after a 410).
        var lists = 0
    }

    public init(watchTimeout: Int = 300, logger: Logger = Logger(label: "windlass.kube.cache")) {
        self.watchTimeout = watchTimeout
        self.logger = logger
    }

    /// The cached objects of `kind` in `namespace` (nil: all) that match `selector`, when the
    /// kind is cached and listed; nil otherwise.
    func list(_ kind: GroupKind, namespace: String?, selector: LabelSelector) -> ObjectList? {
        state.withLock { state in
            guard let store = state.kinds[kind], store.synced else { return nil }
            var items: [Value] = []
            for (id, object) in store.objects where namespace == nil || id.namespace == namespace {
                if selector.requirements.isEmpty || selector.matches(label: { object[path: ["metadata", "labels", $0]]?.stringValue }) {
                    items.append(object)
                }
            }
            return ObjectList(items: items, resourceVersion: store.resourceVersion)
        }
    }

    /// Whether `kind` is cached and listed.
    public func isSynced(_ kind: GroupKind) -> Bool {
        state.withLock { $0.kinds[kind]?.synced ?? false }
    }

    /// How many objects the cache holds.
    public var count: Int {
        state.withLock { $0.kinds.values.reduce(0) { $0 + $1.objects.count } }
    }

    /// How many lists `kind` took (1 + its relists).
    public func lists(of kind: GroupKind) -> Int {
        state.withLock { $0.kinds[kind]?.lists ?? 0 }
    }

    /// Starts keeping `kind` (once), through `cluster`.
    func start(_ kind: GroupKind, cluster: KubeCluster) {
        guard !Self.excluded.contains(kind) else { return }
        state.withLock { state in
            guard !state.stopped, state.tasks[kind] == nil else { return }
            state.kinds[kind] = Store()
            state.tasks[kind] = Task { [weak cluster] in
                guard let cluster else { return }
                await self.keep(kind, cluster: cluster)
            }
        }
    }

    /// Waits until every kind in `kinds` that is started is listed (or `timeout` passes).
    public func waitUntilSynced(_ kinds: [GroupKind], timeout: Double = 30) async {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while ContinuousClock.now < deadline {
            let pending = state.withLock { state in kinds.contains { state.tasks[$0] != nil && !(state.kinds[$0]?.synced ?? false) } }
            if !pending { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Every change the cache sees from now on (a list after a 410 reports what differs).
    public func changes() -> AsyncStream<ClusterWatchEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ClusterWatchEvent.self, bufferingPolicy: .bufferingNewest(16_384))
        let id = state.withLock { state in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Stops every watch.
    public func stop() {
        let (tasks, subscribers) = state.withLock { state in
            state.stopped = true
            defer {
                state.tasks = [:]
                state.subscribers = [:]
            }
            return (Array(state.tasks.values), Array(state.subscribers.values))
        }
        for task in tasks { task.cancel() }
        for subscriber in subscribers { subscriber.finish() }
    }

    /// A write the client made: in the cache at once (the watch confirms it later), so a plan
    /// right after a sync reads what the sync wrote.
    func wrote(_ object: Value) {
        guard let id = ResourceID(object: object) else { return }
        state.withLock { state in
            guard state.kinds[id.groupKind]?.synced == true else { return }
            state.kinds[id.groupKind]?.objects[id] = object
        }
    }

    /// A delete the client made.
    func deleted(_ id: ResourceID) {
        state.withLock { state in _ = state.kinds[id.groupKind]?.objects.removeValue(forKey: id) }
    }

    // MARK: - The loop of one kind

    private func keep(_ kind: GroupKind, cluster: KubeCluster) async {
        var failures = 0
        var needsList = true
        var version = ""
        while !Task.isCancelled {
            do throws(ClusterError) {
                if needsList {
                    let (fresh, listed) = try await list(kind, cluster: cluster)
                    replace(kind, with: fresh, resourceVersion: listed)
                    version = listed
                    needsList = false
                }
                let stream = try await cluster.watch(kind, namespace: nil, since: version, timeout: watchTimeout + Int.random(in: 0...30))
                var events = 0
                for await event in stream {
                    switch event.kind {
                    case .error:
                        let code = event.object["code"]?.intValue ?? 0
                        logger.debug("watch ended", metadata: ["kind": "\(kind.kind)", "status.code": "\(code)"])
                        if code == 410 { needsList = true }
                    case .bookmark:
                        if !event.resourceVersion.isEmpty { version = event.resourceVersion }
                    case .added, .modified, .deleted:
                        events += 1
                        if !event.resourceVersion.isEmpty { version = event.resourceVersion }
                        apply(kind, event)
                    }
                    if needsList { break }
                }
                failures = 0
            } catch {
                if error.code == .expired {
                    needsList = true
                    continue
                }
                failures += 1
                logger.debug("cache watch failed", metadata: ["kind": "\(kind.kind)", "error": "\(error.message)"])
                // 0.5 s doubling to 30 s, with jitter, while the server is away.
                let delay = min(0.5 * Double(1 << min(failures - 1, 6)), 30) * Double.random(in: 0.8...1.2)
                try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            }
        }
    }

    /// How many objects a list asks for at a time, as client-go's reflector does.
    static let pageSize = 500

    /// Every object of `kind`, interned page by page (each page let go before the next is read,
    /// so its memory is reused: a whole list read at once, then interned, leaves the cache's
    /// objects scattered among the holes it left, twice the memory as measured), and the
    /// version to watch from: the first page's, so that a server whose pages are not one
    /// snapshot replays what changed while they were read. A continue token the server no
    /// longer knows makes it one list of everything, as client-go falls back.
    private func list(_ kind: GroupKind, cluster: KubeCluster) async throws(ClusterError) -> (objects: [ResourceID: Value], resourceVersion: String) {
        var fresh: [ResourceID: Value] = [:]
        var version: String? = nil
        var token: String? = nil
        var paged = true
        while true {
            var page: ObjectList
            do {
                page = try await cluster.directList(kind, namespace: nil, options: ListOptions(limit: paged ? Self.pageSize : nil, continueToken: token))
            } catch where error.code == .expired && token != nil {
                fresh = [:]
                version = nil
                token = nil
                paged = false
                continue
            }
            if version == nil { version = page.resourceVersion }
            token = page.continueToken
            var items = page.items
            page.items = []
            state.withLock { state in
                for index in items.indices {
                    if let id = ResourceID(object: items[index]) { fresh[id] = state.interner.intern(items[index]) }
                    items[index] = .null
                }
            }
            if token == nil { return (fresh, version ?? "") }
        }
    }

    /// A (re)list: the kind's objects replaced, subscribers told what differs.
    private func replace(_ kind: GroupKind, with fresh: [ResourceID: Value], resourceVersion: String) {
        let (changes, subscribers) = state.withLock { state -> ([ClusterWatchEvent], [AsyncStream<ClusterWatchEvent>.Continuation]) in
            let old = state.kinds[kind] ?? Store()
            var changes: [ClusterWatchEvent] = []
            if old.synced && !state.subscribers.isEmpty {
                for (id, object) in fresh where old.objects[id]?["metadata"]?["resourceVersion"] != object["metadata"]?["resourceVersion"] {
                    changes.append(ClusterWatchEvent(kind: old.objects[id] == nil ? .added : .modified, object: object, resourceVersion: resourceVersion))
                }
                for (id, object) in old.objects where fresh[id] == nil {
                    changes.append(ClusterWatchEvent(kind: .deleted, object: object, resourceVersion: resourceVersion))
                }
            }
            state.kinds[kind] = Store(objects: fresh, resourceVersion: resourceVersion, synced: true, lists: old.lists + 1)
            return (changes, Array(state.subscribers.values))
        }
        for change in changes {
            for subscriber in subscribers { subscriber.yield(change) }
        }
    }

    private func apply(_ kind: GroupKind, _ event: ClusterWatchEvent) {
        guard let id = ResourceID(object: event.object) else { return }
        let subscribers = state.withLock { state -> [AsyncStream<ClusterWatchEvent>.Continuation] in
            if event.kind == .deleted {
                state.kinds[kind]?.objects.removeValue(forKey: id)
            } else {
                state.kinds[kind]?.objects[id] = state.interner.intern(event.object)
            }
            if !event.resourceVersion.isEmpty { state.kinds[kind]?.resourceVersion = event.resourceVersion }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(event) }
    }
}
