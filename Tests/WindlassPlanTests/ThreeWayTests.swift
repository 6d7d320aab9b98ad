import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassPlan

func web(replicas: Int? = 10, image: String = "registry.example/keystone:26.0", labels: Value = ["team": "identity"], selector: String = "web") -> Value {
    var object: Value = [
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": ["name": "web", "namespace": "shop", "labels": labels],
        "spec": [
            "selector": ["matchLabels": ["app": .string(selector)]],
            "template": ["metadata": ["labels": ["app": .string(selector)]], "spec": ["containers": [["name": "web", "image": .string(image)]]]],
        ],
    ]
    if let replicas { object.set(.int(replicas), at: ["spec", "replicas"]) }
    return object
}

let shop: Value = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "shop"]]

@Suite("Three-way diff")
struct ThreeWayTests {
    /// Syncs `objects`, then returns the bed for the next step.
    func synced(_ objects: [Value]) async throws -> (PlanBed, ManifestSet) {
        let bed = try await PlanBed()
        let set = try bed.load(objects)
        try await bed.sync(try await bed.plan(set))
        return (bed, set)
    }

    @Test("replicas changed by another manager are not drift unless the manifest sets them")
    func otherManagersReplicas() async throws {
        let (bed, set) = try await synced([shop, web(replicas: nil)])
        let id = ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web")
        var scaled = try await bed.cluster.get(id)
        scaled.set(7, at: ["spec", "replicas"])
        _ = try await bed.cluster.update(scaled, manager: "autoscaler")
        #expect(try await bed.plan(set).summary.hasChanges == false)

        // Once the manifest sets replicas, the autoscaler's value is drift, shown field by field.
        let pinned = try bed.load([shop, web(replicas: 3)])
        let plan = try await bed.plan(pinned)
        let change = try #require(plan.changes.first { $0.id == id })
        #expect(change.action == .update)
        #expect(change.fields.map(ChangeTextProbe.line) == ["~ spec.replicas: 7 => 3"])
    }

    @Test("a field removed from git goes only if Windlass owned it; fields others set stay")
    func removedFields() async throws {
        let (bed, _) = try await synced([shop, web(labels: ["team": "identity", "tier": "api"])])
        let id = ResourceID(group: "apps", version: "v1", kind: "Deployment", namespace: "shop", name: "web")
        var edited = try await bed.cluster.get(id)
        edited.set("on-call", at: ["metadata", "labels", "pager"])
        _ = try await bed.cluster.update(edited, manager: "kubectl-edit")

        let set = try bed.load([shop, web(labels: ["team": "identity"])])
        let plan = try await bed.plan(set)
        let change = try #require(plan.changes.first { $0.id == id })
        #expect(change.action == .update)
        #expect(change.fields.map(\.path) == ["metadata.labels.tier"])
        #expect(change.fields.first?.after == nil)
        try await bed.sync(plan)
        let live = try await bed.cluster.get(id)
        #expect(live[path: ["metadata", "labels", "pager"]] == "on-call")
        #expect(live[path: ["metadata", "labels", "tier"]] == nil)
        #expect(try await bed.plan(set).summary.hasChanges == false)
    }

    @Test("an image change is an update with the rolling update it will run (10 replicas: 3 surge, 2 unavailable)")
    func rolloutPreview() async throws {
        let (bed, _) = try await synced([shop, web()])
        let set = try bed.load([shop, web(image: "registry.example/keystone:27.0")])
        let plan = try await bed.plan(set)
        #expect(plan.summary.line() == "Plan: 0 to add, 1 to change, 0 to destroy.")
        let rollout = try #require(plan.rollouts.first)
        #expect(rollout.strategy == "RollingUpdate")
        #expect(rollout.replicas == 10 && rollout.maxSurge == 3 && rollout.maxUnavailable == 2)
        #expect(rollout.images.first?.from == "registry.example/keystone:26.0" && rollout.images.first?.to == "registry.example/keystone:27.0")
    }

    @Test("a changed immutable field (a Deployment's selector) means replace")
    func replace() async throws {
        let (bed, _) = try await synced([shop, web()])
        let set = try bed.load([shop, web(selector: "web-v2")])
        let plan = try await bed.plan(set)
        let change = try #require(plan.changes.first { $0.id.kind == "Deployment" })
        #expect(change.action == .replace)
        #expect(change.reason == "spec.selector is immutable")
        #expect(change.action.actions == ["delete", "create"])
        #expect(plan.summary.line() == "Plan: 1 to add, 0 to change, 1 to destroy.")
    }

    @Test("an object someone else created is adopted: only the tracking metadata changes")
    func adoption() async throws {
        let bed = try await PlanBed()
        _ = try await bed.cluster.apply(shop, options: ApplyOptions(fieldManager: "windlass-cli"))
        _ = try await bed.cluster.apply(web(), options: ApplyOptions(fieldManager: "windlass-cli"))
        let set = try bed.load([shop, web()])
        let plan = try await bed.plan(set)
        #expect(plan.changes.allSatisfy { $0.action == .update && $0.reason.hasPrefix("not yet tracked") })
        #expect(plan.changes.flatMap(\.fields).allSatisfy { $0.path.hasPrefix("metadata.") })
        try await bed.sync(plan)
        #expect(try await bed.plan(set).summary.hasChanges == false)
    }

    @Test("an object another application tracks is a conflict, not adopted; told to take ownership, it changes hands")
    func anotherApplicationsObject() async throws {
        var bed = try await PlanBed()
        bed.planner.options.application = "a"
        let set = try bed.load([shop, web()])
        try await bed.sync(try await bed.plan(set))

        bed.planner.options.application = "b"
        let plan = try await bed.plan(set)
        let change = try #require(plan.changes.first { $0.id.kind == "Deployment" })
        #expect(change.action == .update && change.trackedBy == "a")
        #expect(change.reason == "tracked by application \"a\"; a sync refuses it unless told to take ownership")
        #expect(plan.ownershipConflicts.count == 2)
        #expect(plan.warnings == ["2 objects are tracked by another application (\"a\"): a sync refuses them unless told to take ownership"])

        // A tracking id copied onto another object is no claim on it.
        var copied = web()
        copied.set("a:apps/Deployment:shop/elsewhere", at: ["metadata", "annotations", "windlass.dev/tracking-id"])
        #expect(bed.planner.tracking.otherOwner(of: copied, as: change.id) == nil)

        bed.planner.options.takeOwnership = true
        let taken = try await bed.plan(set)
        #expect(taken.changes.first { $0.id.kind == "Deployment" }?.reason == "tracked by application \"a\"; taken over (take ownership)")
        #expect(taken.warnings.isEmpty)
        try await bed.sync(taken)
        bed.planner.options.takeOwnership = false
        #expect(try await bed.plan(set).summary.hasChanges == false, "b now tracks them")
        bed.planner.options.application = "a"
        #expect(try await bed.plan(set).ownershipConflicts.count == 2, "and a sees them as b's")
    }

    @Test("ignoreDifferences from options and from the compare-options annotation (Argo CD's spelling too)")
    func ignoreDifferences() async throws {
        let (bed, _) = try await synced([shop, web()])
        var annotated = web(image: "registry.example/keystone:27.0", labels: ["team": "platform"])
        annotated.set("IgnoreDifferences=/spec/template/spec/containers/0/image", at: ["metadata", "annotations", "argocd.argoproj.io/compare-options"])
        var ignoring = bed
        ignoring.planner.options.ignoreDifferences = [
            IgnoreRule(group: "apps", kind: "Deployment", name: "w*", pointers: [try JSONPointer(parsing: "/metadata/labels/team")])
        ]
        let set = try bed.load([shop, annotated])
        let plan = try await ignoring.plan(set)
        let change = try #require(plan.changes.first { $0.id.kind == "Deployment" })
        // Only the annotation itself is left to change.
        #expect(change.fields.map(\.path) == ["metadata.annotations[\"argocd.argoproj.io/compare-options\"]"])
    }

    @Test("numbers compare by value and quantities canonically")
    func canonical() {
        #expect(FieldDiff.equivalent(["replicas": 1], ["replicas": 1.0]))
        #expect(!FieldDiff.equivalent(["replicas": 1], ["replicas": 2]))
        let a: Value = ["resources": ["limits": ["cpu": "1000m", "memory": "1Gi"], "requests": ["cpu": 0.5]]]
        let b: Value = ["resources": ["limits": ["cpu": "1", "memory": "1024Mi"], "requests": ["cpu": "500m"]]]
        #expect(FieldDiff.equivalent(a, b))
        #expect(!FieldDiff.equivalent(["image": "1"], ["image": "1000m"]), "only quantity fields are quantities")
        // Keyed lists ignore order; atomic lists do not.
        let c1: Value = ["containers": [["name": "a", "image": "x"], ["name": "b", "image": "y"]], "args": ["1", "2"]]
        let c2: Value = ["containers": [["name": "b", "image": "y"], ["name": "a", "image": "x"]], "args": ["1", "2"]]
        let c3: Value = ["containers": [["name": "a", "image": "x"], ["name": "b", "image": "y"]], "args": ["2", "1"]]
        #expect(FieldDiff.equivalent(c1, c2))
        #expect(FieldDiff.changes(from: c1, to: c3).map(\.path) == ["args"])
        #expect(FieldDiff.changes(from: c1, to: c2.replacingImage()).map(\.path) == ["containers[name=a].image"])
        #expect(FieldDiff.equivalent(["a": nil, "b": 1], ["b": 1]), "null is absent")
    }
}

enum ChangeTextProbe {
    static func line(_ field: FieldChange) -> String {
        "~ \(field.path): \(field.before.map(FieldDiffText.text) ?? "") => \(field.after.map(FieldDiffText.text) ?? "")"
    }
}

enum FieldDiffText {
    static func text(_ value: Value) -> String { JSONWriter().write(value) }
}

extension Value {
    func replacingImage() -> Value {
        var out = self
        out.updateItems(at: ["containers"]) { item in
            if item["name"] == "a" { item.set("z", at: ["image"]) }
        }
        return out
    }
}
