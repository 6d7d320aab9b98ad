import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest

func object(_ text: String) throws -> Value {
    try YAMLReader.read(text).first?.root ?? .null
}

let windlass = ApplyOptions(fieldManager: "windlass")

func deployment(_ name: String = "web", namespace: String = "shop", replicas: Int = 3, image: String = "nginx:1.25", extraLabels: String = "") throws -> Value {
    try object("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: \(name), namespace: \(namespace), labels: {app: \(name)\(extraLabels)}}
        spec:
          replicas: \(replicas)
          selector: {matchLabels: {app: \(name)}}
          template:
            metadata: {labels: {app: \(name)}}
            spec:
              containers: [{name: web, image: "\(image)"}]
        """)
}

func id(_ kind: String, _ name: String, namespace: String? = "shop", group: String = "apps") -> ResourceID {
    ResourceID(group: group, version: "v1", kind: kind, namespace: namespace, name: name)
}

func namespace(_ name: String) throws -> Value {
    try object("apiVersion: v1\nkind: Namespace\nmetadata: {name: \(name)}")
}

@Suite("The object store")
struct ObjectStoreTests {
    func store() throws -> ObjectStore {
        var store = ObjectStore(now: 1_800_000_000)
        _ = try store.apply(namespace("shop"), options: windlass, now: 1_800_000_000)
        return store
    }

    @Test("objects that repeat each other share storage: two Deployments' equal containers are kept once")
    func sharedSubtrees() throws {
        var store = try store()
        _ = try store.apply(deployment("web"), options: windlass, now: 1_800_000_000)
        _ = try store.apply(deployment("api"), options: windlass, now: 1_800_000_000)
        let web = try store.get(id("Deployment", "web"))
        let api = try store.get(id("Deployment", "api"))
        func containers(_ value: Value) -> UnsafeRawPointer? {
            value[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
        }
        #expect(containers(web) != nil)
        #expect(containers(web) == containers(api))
        #expect(web[path: ["spec", "selector"]] != api[path: ["spec", "selector"]])
    }

    @Test("a selector lists exactly the objects whose labels match, through label changes, deletes and a restore")
    func selectorsThroughTheLabelIndex() throws {
        var store = try store()
        let kind = GroupKind(group: "apps", kind: "Deployment")
        func names(_ selector: String, namespace: String? = "shop", in store: ObjectStore) throws -> [String] {
            store.list(kind, namespace: namespace, selector: try LabelSelector(parsing: selector)).compactMap { $0[path: ["metadata", "name"]]?.stringValue }
        }
        _ = try store.apply(deployment("web", extraLabels: ", tier: front"), options: windlass, now: 1_800_000_000)
        _ = try store.apply(deployment("api", extraLabels: ", tier: back"), options: windlass, now: 1_800_000_000)
        _ = try store.apply(deployment("db", extraLabels: ", tier: back"), options: windlass, now: 1_800_000_000)
        #expect(try names("tier=back", in: store) == ["api", "db"])
        #expect(try names("tier=back,app=db", in: store) == ["db"])
        #expect(try names("tier=back,app!=db", in: store) == ["api"])
        #expect(try names("tier in (front,back)", in: store) == ["api", "db", "web"])
        #expect(try names("tier=back", namespace: nil, in: store) == ["api", "db"])
        #expect(try names("tier=nowhere", in: store).isEmpty)
        // A label changed: the old value no longer selects it, the new one does.
        _ = try store.apply(deployment("api", extraLabels: ", tier: front"), options: windlass, now: 1_800_000_001)
        #expect(try names("tier=back", in: store) == ["db"])
        #expect(try names("tier=front", in: store) == ["api", "web"])
        // Deleted: gone from every label.
        _ = try store.delete(id("Deployment", "db"), propagation: .background)
        #expect(try names("tier=back", in: store).isEmpty)
        #expect(try names("app=db", in: store).isEmpty)
        // Restored from what was stored (as a start reads the database): the same answers.
        var restored = ObjectStore(now: 1_800_000_000)
        for listed in store.list(GroupKind(group: "", kind: "Namespace"), namespace: nil) + store.list(kind, namespace: nil) {
            restored.restore(StoredObject(object: listed))
        }
        #expect(try names("tier=front", in: restored) == ["api", "web"])
    }

    @Test("writes get a uid, a creation time, a rising resourceVersion and defaults")
    func metadata() throws {
        var store = try store()
        let before = store.resourceVersion
        let created = try store.apply(deployment(), options: windlass, now: 1_800_000_100)
        #expect(created[path: ["metadata", "uid"]]?.stringValue?.count == 36)
        #expect(created[path: ["metadata", "creationTimestamp"]] == "2027-01-15T08:01:40Z")
        #expect(created[path: ["metadata", "resourceVersion"]] == .string(String(before + 1)))
        #expect(created[path: ["metadata", "generation"]] == 1)
        #expect(created[path: ["spec", "strategy", "type"]] == "RollingUpdate")
        #expect(created[path: ["metadata", "managedFields"]]?.sequenceValue?.first?["manager"] == "windlass")
        #expect(try store.get(id("Deployment", "web")) == created)
        #expect(store.list(GroupKind(group: "apps", kind: "Deployment"), namespace: "shop").count == 1)
        #expect(store.list(GroupKind(group: "apps", kind: "Deployment"), namespace: "other").isEmpty)
        // The same apply again changes nothing, not even the resourceVersion.
        #expect(try store.apply(deployment(), options: windlass, now: 1_800_000_200) == created)
        #expect(store.resourceVersion == before + 1)
    }

    @Test("generation moves on spec changes only")
    func generation() throws {
        var store = try store()
        _ = try store.apply(deployment(), options: windlass, now: 0)
        let relabelled = try store.apply(deployment(extraLabels: ", team: a"), options: windlass, now: 0)
        #expect(relabelled[path: ["metadata", "generation"]] == 1)
        let scaled = try store.apply(deployment(replicas: 5), options: windlass, now: 0)
        #expect(scaled[path: ["metadata", "generation"]] == 2)
        let withStatus = try store.updateStatus(id("Deployment", "web"), status: ["replicas": 5], now: 0)
        #expect(withStatus[path: ["metadata", "generation"]] == 2)
        #expect(withStatus["status"] == ["replicas": 5])
        #expect(withStatus[path: ["metadata", "uid"]] == scaled[path: ["metadata", "uid"]])
    }

    @Test("the scale subresource: one write of spec.replicas and the generation, the same object an update makes; a negative count is refused")
    func scaleSubresource() throws {
        for recordsOwnership in [true, false] {
            var store = try store()
            store.recordsUpdateOwnership = recordsOwnership
            let applied = try store.apply(deployment(), options: windlass, now: 0)
            var updatedStore = store
            var edited = applied
            edited.set(7, at: ["spec", "replicas"])
            let updated = try updatedStore.update(edited, manager: "deployment-controller", now: 0)
            let scaled = try store.scale(id("Deployment", "web"), to: 7, manager: "deployment-controller", now: 0)
            #expect(scaled[path: ["spec", "replicas"]] == 7)
            #expect(scaled[path: ["metadata", "generation"]] == 2)
            #expect(scaled[path: ["metadata", "resourceVersion"]] == .string(String(store.resourceVersion)))
            var comparable = scaled
            var reference = updated
            comparable.remove(at: ["metadata", "managedFields"])
            reference.remove(at: ["metadata", "managedFields"])
            #expect(comparable == reference)
            #expect(try store.get(id("Deployment", "web")) == scaled)
            #expect(try store.events(since: store.resourceVersion - 1).map(\.object) == [scaled])
            // The same count again is no write.
            let version = store.resourceVersion
            _ = try store.scale(id("Deployment", "web"), to: 7, manager: "deployment-controller", now: 0)
            #expect(store.resourceVersion == version)
            #expect(throws: ClusterError.self) { try store.scale(id("Deployment", "web"), to: -1, manager: "deployment-controller", now: 0) }
            #expect(throws: ClusterError.self) { try store.scale(id("Deployment", "missing"), to: 1, manager: "deployment-controller", now: 0) }
            #expect(store.resourceVersion == version)
        }
    }

    @Test("uids are random version-4 UUIDs in their canonical form")
    func uids() throws {
        var store = try store()
        var seen = Set<String>()
        for index in 0..<200 {
            let created = try store.apply(deployment("web-\(index)"), options: windlass, now: 0)
            let uid = try #require(created[path: ["metadata", "uid"]]?.stringValue)
            let groups = uid.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            #expect(groups.map(\.count) == [8, 4, 4, 4, 12])
            #expect(uid.allSatisfy { "0123456789abcdef-".contains($0) })
            #expect(groups[2].first == "4")
            #expect("89ab".contains(groups[3].first!))
            seen.insert(uid)
        }
        #expect(seen.count == 200)
    }

    @Test("a stale resourceVersion is a conflict, and nothing changes")
    func optimisticConcurrency() throws {
        var store = try store()
        let first = try store.apply(deployment(), options: windlass, now: 0)
        _ = try store.apply(deployment(replicas: 4), options: windlass, now: 0)
        var stale = first
        stale.set(9, at: ["spec", "replicas"])
        let version = store.resourceVersion
        #expect(throws: ClusterError.self) { try store.update(stale, manager: "kubectl-edit", now: 0) }
        #expect(store.resourceVersion == version)
        #expect(try store.get(id("Deployment", "web"))[path: ["spec", "replicas"]] == 4)
    }

    @Test("refused writes: missing namespace, bad name, selector mismatch, immutable field; the store is unchanged")
    func refusals() throws {
        var store = try store()
        _ = try store.apply(deployment(), options: windlass, now: 0)
        let version = store.resourceVersion
        let cases: [(Value, String)] = [
            (try deployment(namespace: "nowhere"), "namespaces \"nowhere\" not found"),
            (try deployment("Web_1"), "Deployment.apps \"Web_1\" is invalid: metadata.name: Invalid value"),
            (try object("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: odd, namespace: shop}\nspec: {selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: b}}, spec: {containers: [{name: c, image: x}]}}}"),
             "spec.template.metadata.labels: Invalid value: selector does not match template labels"),
        ]
        for (input, message) in cases {
            do {
                _ = try store.apply(input, options: windlass, now: 0)
                Issue.record("expected \(message)")
            } catch {
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
        var moved = try deployment()
        moved.set(["matchLabels": ["app": "web", "tier": "x"]], at: ["spec", "selector"])
        moved.set(["app": "web", "tier": "x"], at: ["spec", "template", "metadata", "labels"])
        do {
            _ = try store.apply(moved, options: windlass, now: 0)
            Issue.record("expected an immutable-field error")
        } catch {
            #expect(error.code == .invalid)
            #expect(error.message == "Deployment.apps \"web\" is invalid: spec.selector: field is immutable")
        }
        #expect(store.resourceVersion == version)
    }

    @Test("server-side apply conflicts with another manager's field, and force takes it")
    func applyConflicts() throws {
        var store = try store()
        let live = try store.apply(deployment(), options: windlass, now: 0)
        var scaled = live
        scaled.set(6, at: ["spec", "replicas"])
        _ = try store.update(scaled, manager: "autoscaler", now: 0)
        let manifest = try deployment()
        do {
            _ = try store.apply(manifest, options: windlass, now: 0)
            Issue.record("expected a conflict")
        } catch {
            #expect(error.code == .conflict)
            #expect(error.message.contains("conflict with \"autoscaler\": .spec.replicas"))
        }
        let forced = try store.apply(manifest, options: ApplyOptions(fieldManager: "windlass", force: true), now: 0)
        #expect(forced[path: ["spec", "replicas"]] == 3)
    }

    @Test("dry runs change nothing")
    func dryRun() throws {
        var store = try store()
        let version = store.resourceVersion
        let result = try store.apply(deployment(), options: ApplyOptions(fieldManager: "windlass", dryRun: true), now: 0)
        #expect(result[path: ["spec", "revisionHistoryLimit"]] == 10)
        #expect(store.resourceVersion == version)
        #expect(throws: ClusterError.self) { try store.get(id("Deployment", "web")) }
        _ = try store.apply(deployment(), options: windlass, now: 0)
        let deleted = try store.delete(id("Deployment", "web"), propagation: .background, dryRun: true)
        #expect(deleted.count == 1)
        #expect(try store.get(id("Deployment", "web"))[path: ["metadata", "name"]] == "web")
    }

    @Test("owner references: background and foreground delete dependents first; orphan keeps them")
    func garbageCollection() throws {
        var store = try store()
        let owner = try store.apply(deployment(), options: windlass, now: 0)
        let uid = try #require(owner[path: ["metadata", "uid"]]?.stringValue)
        let replicaSet = try store.create(object("""
            apiVersion: apps/v1
            kind: ReplicaSet
            metadata: {name: web-abc, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: \(uid), controller: true}]}
            spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: x}]}}}
            """), manager: "deployment-controller", now: 0)
        let rsUID = try #require(replicaSet[path: ["metadata", "uid"]]?.stringValue)
        _ = try store.create(object("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web-abc-1, namespace: shop, labels: {app: web}, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, uid: \(rsUID)}]}
            spec: {containers: [{name: web, image: x}]}
            """), manager: "replicaset-controller", now: 0)

        var orphaning = store
        let orphaned = try orphaning.delete(id("Deployment", "web"), propagation: .orphan)
        #expect(orphaned.map(\.name) == ["web"])
        #expect(try orphaning.get(id("ReplicaSet", "web-abc"))[path: ["metadata", "ownerReferences"]] == nil)

        let deleted = try store.delete(id("Deployment", "web"), propagation: .background)
        #expect(deleted.map(\.name) == ["web-abc-1", "web-abc", "web"])
        #expect(throws: ClusterError.self) { try store.get(id("Pod", "web-abc-1", group: "")) }
    }

    @Test("deleting a namespace deletes its contents; deleting what is missing is an error")
    func namespaces() throws {
        var store = try store()
        _ = try store.apply(deployment(), options: windlass, now: 0)
        _ = try store.apply(object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}"), options: windlass, now: 0)
        let deleted = try store.delete(id("Namespace", "shop", namespace: nil, group: ""), propagation: .background)
        #expect(Set(deleted.map(\.kind)) == ["Deployment", "ConfigMap", "Namespace"])
        #expect(store.list(GroupKind(group: "", kind: "ConfigMap"), namespace: nil).isEmpty)
        do {
            _ = try store.delete(id("ConfigMap", "c", group: ""), propagation: .background)
            Issue.record("expected not found")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.message == "configmaps \"c\" not found")
        }
    }

    @Test("the change log holds every event in order; an old resourceVersion expires")
    func watchLog() throws {
        var store = try store()
        let start = store.resourceVersion
        _ = try store.apply(deployment("a"), options: windlass, now: 0)
        _ = try store.apply(deployment("b"), options: windlass, now: 0)
        _ = try store.apply(deployment("a", replicas: 1), options: windlass, now: 0)
        _ = try store.delete(id("Deployment", "b"), propagation: .background)
        let events = try store.events(since: start)
        #expect(events.map(\.kind) == [.added, .added, .modified, .deleted])
        #expect(events.map(\.resourceVersion) == Array(start + 1...start + 4))
        #expect(try store.events(since: start + 2).count == 2)
        #expect(try store.events(since: store.resourceVersion).isEmpty)

        var small = try self.store()
        small.logLimit = 4
        for i in 0..<20 { _ = try small.apply(deployment("d\(i)"), options: windlass, now: 0) }
        #expect(throws: ClusterError.self) { try small.events(since: 1) }
    }

    @Test("a Service gets a cluster IP that survives updates; cluster-scoped kinds have no namespace")
    func serviceAndScope() throws {
        var store = try store()
        let service = try store.apply(object("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: 80}]}"), options: windlass, now: 0)
        let ip = try #require(service[path: ["spec", "clusterIP"]]?.stringValue)
        #expect(ip.hasPrefix("10.96."))
        let updated = try store.apply(object("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: 8080}]}"), options: windlass, now: 0)
        #expect(updated[path: ["spec", "clusterIP"]]?.stringValue == ip)
        let role = try store.apply(object("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader, namespace: shop}"), options: windlass, now: 0)
        #expect(role[path: ["metadata", "namespace"]] == nil)
        let changes = store.takeChanges()
        #expect(changes.count >= 3)
        #expect(store.takeChanges().isEmpty)
    }
}
