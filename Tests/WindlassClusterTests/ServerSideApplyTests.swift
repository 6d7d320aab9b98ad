import Foundation
import Testing
import WindlassCluster
import WindlassManifest

@Suite("Server-side apply")
struct ServerSideApplyTests {
    let base = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop, labels: {app: web}}
        spec:
          replicas: 3
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
                - name: web
                  image: nginx:1.25
                  env: [{name: A, value: "1"}, {name: B, value: "2"}]
        """

    @Test("field sets: leaves, keyed list items, server fields left out; fieldsV1 round-trips")
    func fieldSets() throws {
        let set = FieldSet(of: ServerSideApply.ownable(try object(base)))
        let rendered = set.paths.map { ServerSideApply.render($0) }.sorted()
        #expect(rendered.contains(".spec.replicas"))
        #expect(rendered.contains(".metadata.labels.app"))
        #expect(rendered.contains(".spec.template.spec.containers[name=\"web\"].image"))
        #expect(rendered.contains(".spec.template.spec.containers[name=\"web\"].env[name=\"B\"].value"))
        #expect(!rendered.contains(".metadata.name"))
        #expect(!rendered.contains(".kind"))
        #expect(FieldSet(fieldsV1: set.fieldsV1) == set)
        #expect(set.fieldsV1[path: ["f:spec", "f:replicas"]] == [:])
    }

    @Test("a first apply owns everything it sent")
    func create() throws {
        let (object, managers) = try ServerSideApply.apply(object(base), to: nil, managers: [:], manager: "windlass", force: false)
        #expect(object[path: ["spec", "replicas"]] == 3)
        #expect(managers.keys.sorted() == ["windlass"])
    }

    @Test("fields a manager stops sending are removed, unless another manager owns them")
    func removal() throws {
        let (live, managers) = try ServerSideApply.apply(object(base), to: nil, managers: [:], manager: "windlass", force: false)
        // Someone else sets an annotation and owns env B.
        var edited = live
        edited.set("x", at: ["metadata", "annotations", "note"])
        let withOther = ServerSideApply.update(from: live, to: edited, managers: managers, manager: "kubectl-edit")
        // The next apply no longer sends labels.app nor env B.
        let next = try object(base.replacingOccurrences(of: ", {name: B, value: \"2\"}", with: "").replacingOccurrences(of: ", labels: {app: web}}", with: "}"))
        let (result, after) = try ServerSideApply.apply(next, to: edited, managers: withOther, manager: "windlass", force: false)
        #expect(result[path: ["metadata", "labels", "app"]] == nil)
        #expect(result[path: ["metadata", "annotations", "note"]] == "x")
        let env = result[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.first?["env"]
        #expect(env == [["name": "A", "value": "1"]])
        #expect(after["kubectl-edit"] != nil)
    }

    @Test("a field another manager changed is a conflict naming the field and the owner, unless forced")
    func conflicts() throws {
        let (live, managers) = try ServerSideApply.apply(object(base), to: nil, managers: [:], manager: "windlass", force: false)
        var scaled = live
        scaled.set(5, at: ["spec", "replicas"])
        let afterScale = ServerSideApply.update(from: live, to: scaled, managers: managers, manager: "autoscaler")
        #expect(afterScale["autoscaler"]?.paths == [[.field("spec"), .field("replicas")]])

        // Re-applying the same manifest (replicas: 3) now conflicts with the autoscaler.
        let manifest = try object(base)
        do {
            _ = try ServerSideApply.apply(manifest, to: scaled, managers: afterScale, manager: "windlass", force: false)
            Issue.record("expected a conflict")
        } catch {
            #expect(error.code == .conflict)
            #expect(error.message == "Apply failed with 1 conflict: conflict with \"autoscaler\": .spec.replicas")
            #expect(error.causes == [ClusterError.Cause(field: ".spec.replicas", message: "conflict with \"autoscaler\"")])
        }
        // A manifest that leaves replicas out does not conflict, and keeps the autoscaler's value.
        let withoutReplicas = try object(base.replacingOccurrences(of: "  replicas: 3\n", with: ""))
        let (kept, keptManagers) = try ServerSideApply.apply(withoutReplicas, to: scaled, managers: afterScale, manager: "windlass", force: false)
        #expect(kept[path: ["spec", "replicas"]] == 5)
        #expect(keptManagers["autoscaler"] != nil)
        // Forcing takes the field.
        let (forced, forcedManagers) = try ServerSideApply.apply(object(base), to: scaled, managers: afterScale, manager: "windlass", force: true)
        #expect(forced[path: ["spec", "replicas"]] == 3)
        #expect(forcedManagers["autoscaler"] == nil)
    }

    @Test("the same value applied by two managers is shared, not a conflict; keyed lists merge by key")
    func sharedAndMerged() throws {
        let (live, managers) = try ServerSideApply.apply(object(base), to: nil, managers: [:], manager: "windlass", force: false)
        let sidecar = try object("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            spec:
              replicas: 3
              template:
                spec:
                  containers:
                    - name: proxy
                      image: envoy:1.29
            """)
        let (merged, after) = try ServerSideApply.apply(sidecar, to: live, managers: managers, manager: "mesh", force: false)
        let names = merged[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["web", "proxy"])
        #expect(after["mesh"]?.paths.contains([.field("spec"), .field("replicas")]) == true)
        #expect(after["windlass"]?.paths.contains([.field("spec"), .field("replicas")]) == true)
    }
}

@Suite("Server-side apply with controllers writing metadata")
struct ServerSideApplyMetadataTests {
    @Test("a controller's annotation does not make the applier's next identical apply a change")
    func annotationByController() throws {
        let manifest = try object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {a: b}")
        let (live, managers) = try ServerSideApply.apply(manifest, to: nil, managers: [:], manager: "cli", force: false)
        var annotated = live
        annotated.set("1", at: ["metadata", "annotations", "revision"])
        let afterController = ServerSideApply.update(from: live, to: annotated, managers: managers, manager: "controller")
        let (again, afterApply) = try ServerSideApply.apply(manifest, to: annotated, managers: afterController, manager: "cli", force: false)
        #expect(again == annotated)
        #expect(afterApply == afterController)
    }
}

@Suite("Server-side apply predictions for plans")
struct ServerSideApplyPredictTests {
    let base = ServerSideApplyTests().base

    @Test("predict: a plain merge when nothing is dropped, the full apply when something is; a leaf that became a mapping stays")
    func predict() throws {
        let (live, managers) = try ServerSideApply.apply(object(base), to: nil, managers: [:], manager: "windlass", force: false)
        var stored = live
        stored.set(.sequence(managers.keys.sorted().map { ["manager": .string($0), "fieldsV1": managers[$0]!.fieldsV1] }), at: ["metadata", "managedFields"])

        var scaled = try object(base)
        scaled.set(5, at: ["spec", "replicas"])
        #expect(ServerSideApply.predict(scaled, onto: stored, manager: "windlass")[path: ["spec", "replicas"]] == 5)

        var unlabelled = try object(base)
        unlabelled.remove(at: ["metadata", "labels"])
        let dropped = ServerSideApply.predict(unlabelled, onto: stored, manager: "windlass")
        #expect(dropped[path: ["metadata", "labels"]]?.mappingValue?.isEmpty ?? true, "a label Windlass owned and no longer applies goes")
        #expect(dropped[path: ["spec", "replicas"]] == 3)

        // `annotations: {}` owned as a leaf, then applied with content: the content stays.
        var empty = try object(base)
        empty.set(.mapping(Mapping()), at: ["metadata", "annotations"])
        let (first, owners) = try ServerSideApply.apply(empty, to: nil, managers: [:], manager: "windlass", force: false)
        var filled = try object(base)
        filled.set("yes", at: ["metadata", "annotations", "team"])
        let (second, _) = try ServerSideApply.apply(filled, to: first, managers: owners, manager: "windlass", force: false)
        #expect(second[path: ["metadata", "annotations", "team"]] == "yes")
    }
}
