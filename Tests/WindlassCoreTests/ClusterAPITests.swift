import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassTesting

@Suite("The ClusterBackend API of the embedded cluster")
struct ClusterAPITests {
    func cluster() throws -> (EmbeddedCluster, TemporaryDirectory) {
        let state = try TemporaryDirectory()
        return (try EmbeddedCluster(stateDirectory: state.path, clock: ManualClock()), state)
    }

    func configMap(_ name: String, labels: String = "{}", data: String = "{k: v}") throws -> Value {
        try object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(name), namespace: shop, labels: \(labels)}\ndata: \(data)")
    }

    @Test("discovery names every built-in kind as kubectl does, and a CustomResourceDefinition adds its kind")
    func discovery() async throws {
        let (cluster, _state) = try cluster()
        _ = _state
        let mapping = try await cluster.discovery()
        #expect(mapping.resolve("deploy")?.qualifiedName == "deployments.apps")
        #expect(mapping.resolve("Ingress")?.name == "ingresses")
        #expect(mapping.resolve("sc")?.namespaced == false)
        #expect(mapping.resolve("po")?.subresources.contains("eviction") == true)
        #expect(mapping.resolve("statefulsets.apps")?.subresources == ["scale", "status"])
        #expect(mapping.resolve("rolloutstrategies")?.group == "windlass.dev")
        #expect(mapping.resolve("widgets") == nil)
        #expect(Set(mapping.resources(inCategory: "all").map(\.name)).isSuperset(of: ["pods", "services", "deployments", "virtualmachines"]))
        // Every kind the loader treats as cluster-scoped is cluster-scoped in discovery too.
        for kind in ResourceScopes.builtInClusterScoped { #expect(mapping.resource(for: kind)?.namespaced == false, "\(kind)") }

        _ = try await cluster.apply(
            try object(
                """
                apiVersion: apiextensions.k8s.io/v1
                kind: CustomResourceDefinition
                metadata: {name: widgets.example.com}
                spec:
                  group: example.com
                  scope: Cluster
                  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
                  versions: [{name: v1beta1, served: true, storage: true, subresources: {status: {}}}]
                """), options: windlass)
        let widget = try #require(try await cluster.discovery().resolve("wd"))
        #expect(widget.qualifiedName == "widgets.example.com" && widget.version == "v1beta1" && !widget.namespaced && widget.subresources == ["status"])
    }

    @Test("a list filters by field selector and comes in pages, each with the token of the next")
    func listPaging() async throws {
        let (cluster, _state) = try cluster()
        _ = _state
        _ = try await cluster.apply(try namespace("shop"), options: windlass)
        for name in ["a", "b", "c", "d", "e"] { _ = try await cluster.apply(try configMap(name), options: windlass) }
        let kind = GroupKind(group: "", kind: "ConfigMap")
        let one = try await cluster.list(kind, namespace: "shop", options: ListOptions(fieldSelector: try FieldSelector(parsing: "metadata.name=c")))
        #expect(one.items.compactMap { $0[path: ["metadata", "name"]]?.stringValue } == ["c"])
        let others = try await cluster.list(kind, namespace: nil, options: ListOptions(fieldSelector: try FieldSelector(parsing: "metadata.name!=c,metadata.namespace=shop")))
        #expect(others.items.count == 4)

        var names: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try await cluster.list(kind, namespace: "shop", options: ListOptions(limit: 2, continueToken: token))
            names += page.items.compactMap { $0[path: ["metadata", "name"]]?.stringValue }
            token = page.continueToken
            pages += 1
        } while token != nil
        #expect(names == ["a", "b", "c", "d", "e"] && pages == 3)
        await #expect(throws: ClusterError.self) { try await cluster.list(kind, namespace: "shop", options: ListOptions(continueToken: "garbage")) }
        #expect(throws: ClusterError.self) { try FieldSelector(parsing: "metadata.name") }
    }

    @Test("create, update with a stale resourceVersion, status, merge patch and a delete precondition behave as an API server's")
    func writes() async throws {
        let (cluster, _state) = try cluster()
        _ = _state
        let writer = WriteOptions(fieldManager: "test")
        _ = try await cluster.create(try namespace("shop"), options: writer)
        let created = try await cluster.create(try configMap("settings"), options: writer)
        await #expect(throws: ClusterError.self) { try await cluster.create(try configMap("settings"), options: writer) }
        let id = ResourceID(group: "", version: "v1", kind: "ConfigMap", namespace: "shop", name: "settings")

        var changed = created
        changed.set("w", at: ["data", "k"])
        let updated = try await cluster.update(changed, options: writer)
        do {
            _ = try await cluster.update(changed, options: writer)
            Issue.record("a stale resourceVersion must conflict")
        } catch {
            #expect(error.code == .conflict && error.message.contains("configmaps \"settings\""))
        }

        let dry = try await cluster.patch(id, .merge(["data": ["k": .null, "added": "yes"]]), options: PatchOptions(fieldManager: "test", dryRun: true))
        #expect(dry["data"] == ["added": "yes"])
        #expect(try await cluster.get(id)["data"] == ["k": "w"])
        let patched = try await cluster.patch(id, .merge(["data": ["k": .null, "added": "yes"]]), options: PatchOptions(fieldManager: "test"))
        #expect(patched["data"] == ["added": "yes"])

        await #expect(throws: ClusterError.self) { try await cluster.delete(id, options: DeleteOptions(resourceVersion: updated[path: ["metadata", "resourceVersion"]]?.stringValue)) }
        try await cluster.delete(id, options: DeleteOptions(resourceVersion: patched[path: ["metadata", "resourceVersion"]]?.stringValue))
        await #expect(throws: ClusterError.self) { try await cluster.get(id) }

        let deployment = try await cluster.apply(try WindlassCoreTests.deployment("web"), options: windlass)
        var status = deployment
        status.set(["replicas": 3, "observedGeneration": 1], at: ["status"])
        status.set(.int(99), at: ["spec", "replicas"])
        let afterStatus = try await cluster.updateStatus(status, options: writer)
        #expect(afterStatus[path: ["status", "replicas"]]?.intValue == 3 && afterStatus[path: ["spec", "replicas"]]?.intValue == 3)
        await #expect(throws: ClusterError.self) { try await cluster.updateStatus(status, options: writer) }
    }

    @Test("a watch from an unreadable resourceVersion is refused")
    func watchVersion() async throws {
        let (cluster, _state) = try cluster()
        _ = _state
        await #expect(throws: ClusterError.self) { try await cluster.watch(nil, namespace: nil, since: "yesterday") }
    }

    @Test("a watcher that stops reading is dropped once its buffer is full; one that reads sees every change in order")
    func slowWatcherDropped() async throws {
        let (cluster, _state) = try cluster()
        _ = _state
        await cluster.limitWatchBuffers(to: 16)
        let namespace = try object("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}")
        _ = try await cluster.create(namespace, options: WriteOptions(fieldManager: "test"))
        let start = try await cluster.list(GroupKind(group: "", kind: "ConfigMap"), namespace: nil, options: ListOptions()).resourceVersion
        let stalled = try await cluster.watch(GroupKind(group: "", kind: "ConfigMap"), namespace: nil, since: start)
        let reader = try await cluster.watch(GroupKind(group: "", kind: "ConfigMap"), namespace: nil, since: start)
        let reading = Task {
            var versions: [Int] = []
            for await event in reader {
                versions.append(Int(event.resourceVersion) ?? 0)
                if versions.count == 40 { break }
            }
            return versions
        }
        for index in 0..<40 {
            _ = try await cluster.create(try configMap("c\(index)"), options: WriteOptions(fieldManager: "test"))
            await Task.yield()
            if index % 8 == 0 { try await Task.sleep(for: .milliseconds(5)) }
        }
        let versions = await reading.value
        #expect(versions.count == 40 && versions == versions.sorted() && Set(versions).count == 40, "\(versions)")
        // The stalled stream holds what fitted, then ends: the cluster keeps no more for it.
        var held = 0
        for await _ in stalled { held += 1 }
        #expect(held == 16)
        #expect(await cluster.watcherCount <= 1)
    }

    @Test("finalizers: a delete only marks the object; it goes when the last finalizer is removed")
    func finalizers() async throws {
        let (cluster, _state) = try cluster()
        _ = _state
        let writer = WriteOptions(fieldManager: "test")
        _ = try await cluster.create(try object("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}"), options: writer)
        _ = try await cluster.create(try object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: shop, finalizers: [example.dev/cleanup]}"), options: writer)
        let id = ResourceID(group: "", version: "v1", kind: "ConfigMap", namespace: "shop", name: "held")
        try await cluster.delete(id, options: DeleteOptions())
        var marked = try await cluster.get(id)
        #expect(marked[path: ["metadata", "deletionTimestamp"]]?.stringValue != nil)
        // A client can neither clear the mark nor stamp one of its own on a new object.
        marked.remove(at: ["metadata", "deletionTimestamp"])
        marked.set(["k": "v"], at: ["data"])
        let updated = try await cluster.update(marked, options: writer)
        #expect(updated[path: ["metadata", "deletionTimestamp"]] != nil)
        let stamped = try await cluster.create(
            try object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh, namespace: shop, deletionTimestamp: '2020-01-01T00:00:00Z'}"), options: writer)
        #expect(stamped[path: ["metadata", "deletionTimestamp"]] == nil)

        _ = try await cluster.patch(id, .json(try object("[{op: remove, path: /metadata/finalizers}]")), options: PatchOptions(fieldManager: "test"))
        await #expect(throws: ClusterError.self) { try await cluster.get(id) }
    }
}

