import Testing
import WindlassCluster
import WindlassManifest

@Suite("Strategic merge, JSON merge and JSON patches, as kubectl patch sends them")
struct PatchTests {
    func value(_ json: String) throws -> Value {
        try #require(try JSONReader.read(json))
    }

    let deployment = """
        {"metadata":{"name":"web","finalizers":["a"]},"spec":{"replicas":2,"template":{"spec":{"containers":[
        {"name":"web","image":"nginx:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"ports":[{"containerPort":80}]},
        {"name":"sidecar","image":"envoy:1"}]}}}}
        """

    @Test("a strategic merge patch merges containers and env by name, and finalizers as a set")
    func strategicMerge() throws {
        let patched = try StrategicMergePatch.apply(
            try value(#"{"metadata":{"finalizers":["b"]},"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}}}}"#),
            to: try value(deployment))
        let containers = try #require(patched[path: ["spec", "template", "spec", "containers"]]?.sequenceValue)
        #expect(containers.count == 2)
        #expect(containers[0]["image"] == "nginx:2" && containers[1]["image"] == "envoy:1")
        let env = (containers[0]["env"]?.sequenceValue ?? []).map { "\($0["name"]?.stringValue ?? "")=\($0["value"]?.stringValue ?? "")" }
        #expect(env == ["A=1", "B=3", "C=4"])
        #expect(containers[0]["ports"]?.sequenceValue?.count == 1)
        #expect(patched[path: ["metadata", "finalizers"]] == ["a", "b"])
    }

    @Test("strategic merge directives: $patch delete and replace, $retainKeys, $setElementOrder, $deleteFromPrimitiveList, null")
    func directives() throws {
        let base = try value(deployment)
        let deleted = try StrategicMergePatch.apply(
            try value(#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}"#), to: base)
        #expect(deleted[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.map { $0["name"] } == ["web"])

        let replaced = try StrategicMergePatch.apply(
            try value(#"{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"x"},{"$patch":"replace"}]}}}}"#), to: base)
        #expect(replaced[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.map { $0["name"] } == ["only"])

        let ordered = try StrategicMergePatch.apply(
            try value(#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"web"}]}}}}"#), to: base)
        #expect(ordered[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.map { $0["name"] } == ["sidecar", "web"])

        let retained = try StrategicMergePatch.apply(try value(#"{"spec":{"$retainKeys":["template"],"replicas":null}}"#), to: base)
        #expect(retained["spec"]?["replicas"] == nil && retained[path: ["spec", "template"]] != nil)

        let pruned = try StrategicMergePatch.apply(try value(#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}"#), to: base)
        #expect(pruned[path: ["metadata", "finalizers"]] == [])

        #expect(throws: ClusterError.self) { try StrategicMergePatch.apply(try value(#"{"spec":{"$patch":"explode"}}"#), to: base) }
        #expect(throws: ClusterError.self) { try StrategicMergePatch.apply(try value("[1]"), to: base) }
    }

    @Test("JSON patch: add, remove, replace, move, copy, test; a failing operation changes nothing")
    func jsonPatch() throws {
        let base = try value(deployment)
        let patched = try JSONPatch.apply(try value("""
            [{"op":"replace","path":"/spec/replicas","value":5},
             {"op":"add","path":"/metadata/labels","value":{"a/b":"1"}},
             {"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"third"}},
             {"op":"copy","from":"/metadata/labels","path":"/metadata/annotations"},
             {"op":"move","from":"/metadata/annotations/a~1b","path":"/metadata/annotations/moved"},
             {"op":"remove","path":"/spec/template/spec/containers/1"},
             {"op":"test","path":"/spec/replicas","value":5}]
            """), to: base)
        #expect(patched[path: ["spec", "replicas"]] == 5)
        #expect(patched[path: ["metadata", "labels", "a/b"]] == "1")
        #expect(patched[path: ["metadata", "annotations", "moved"]] == "1" && patched[path: ["metadata", "annotations", "a/b"]] == nil)
        #expect(patched[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.map { $0["name"] } == ["web", "third"])

        #expect(throws: ClusterError.self) { try JSONPatch.apply(try value(#"[{"op":"test","path":"/spec/replicas","value":9}]"#), to: base) }
        #expect(throws: ClusterError.self) { try JSONPatch.apply(try value(#"[{"op":"remove","path":"/spec/nothing"}]"#), to: base) }
        #expect(throws: ClusterError.self) { try JSONPatch.apply(try value(#"[{"op":"jump","path":"/spec"}]"#), to: base) }
        #expect(throws: ClusterError.self) { try JSONPatch.apply(try value(#"{"op":"add"}"#), to: base) }
        #expect(throws: ClusterError.self) { try JSONPatch.apply(try value(#"[{"op":"add","path":"/spec/template/spec/containers/9","value":1}]"#), to: base) }
    }
}
