import Testing
import WindlassManifest

@Suite("Reading and editing values by path")
struct ValuePathTests {
    let object: Value = [
        "metadata": ["name": "web", "labels": ["app": "web"]],
        "spec": ["replicas": 3, "template": ["spec": ["containers": [["name": "web"]]]]],
        "note": "text",
    ]

    @Test("a path reads through mappings; a missing key, a scalar or a sequence on the way is nil")
    func reading() {
        #expect(object[path: ["metadata", "name"]] == "web")
        #expect(object[path: ["spec", "template", "spec", "containers"]]?.sequenceValue?.count == 1)
        #expect(object[path: []] == object)
        #expect(object[path: ["metadata", "missing"]] == nil)
        #expect(object[path: ["note", "deeper"]] == nil)
        #expect(object[path: ["spec", "template", "spec", "containers", "name"]] == nil)
        #expect(Value.string("x")[path: ["a"]] == nil)
    }

    @Test("set replaces, appends and creates the mappings on the way, leaving the original copy as it was")
    func setting() {
        var edited = object
        do { let changed = edited.set(5, at: ["spec", "replicas"]); #expect(changed) }
        do { let changed = edited.set("db", at: ["metadata", "labels", "tier"]); #expect(changed) }
        do { let changed = edited.set(["a": 1], at: ["status", "deep", "er"]); #expect(changed) }
        #expect(edited[path: ["spec", "replicas"]] == 5)
        #expect(edited[path: ["metadata", "labels"]] == ["app": "web", "tier": "db"])
        #expect(edited[path: ["status", "deep", "er", "a"]] == 1)
        // Key order is kept: the new key comes last.
        #expect(edited[path: ["metadata", "labels"]]?.mappingValue?.keys == ["app", "tier"])
        // Copies made before the edit are untouched (copy on write, all the way down).
        #expect(object[path: ["spec", "replicas"]] == 3)
        #expect(object[path: ["metadata", "labels"]] == ["app": "web"])
        #expect(object["status"] == nil)
        // A scalar or a sequence in the way: nothing changes.
        let before = edited
        do { let changed = edited.set(1, at: ["note", "deeper"]); #expect(!changed) }
        do { let changed = edited.set(1, at: ["spec", "template", "spec", "containers", "name"]); #expect(!changed) }
        do { let changed = edited.set(1, at: ["note", "new", "deeper"]); #expect(!changed) }
        #expect(edited == before)
        // An empty path replaces the whole value; a null step becomes a mapping.
        var whole = object
        do { let changed = whole.set("x", at: []); #expect(changed) }
        #expect(whole == "x")
        var nulled: Value = ["a": .null]
        do { let changed = nulled.set(1, at: ["a", "b"]); #expect(changed) }
        #expect(nulled == ["a": ["b": 1]])
    }

    @Test("remove takes out the value at a path and nothing else; a missing path removes nothing")
    func removing() {
        var edited = object
        do { let changed = edited.remove(at: ["metadata", "labels", "app"]); #expect(changed) }
        #expect(edited[path: ["metadata", "labels"]] == [:])
        #expect(edited[path: ["metadata", "name"]] == "web")
        do { let changed = edited.remove(at: ["note"]); #expect(changed) }
        #expect(edited["note"] == nil)
        let before = edited
        do { let changed = edited.remove(at: ["metadata", "missing"]); #expect(!changed) }
        do { let changed = edited.remove(at: ["missing", "deeper"]); #expect(!changed) }
        do { let changed = edited.remove(at: ["spec", "replicas", "deeper"]); #expect(!changed) }
        do { let changed = edited.remove(at: []); #expect(!changed) }
        #expect(edited == before)
        #expect(object[path: ["metadata", "labels", "app"]] == "web")
        #expect(object["note"] == "text")
    }
}
