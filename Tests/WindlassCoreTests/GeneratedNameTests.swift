import Testing
import WindlassCluster
@testable import WindlassCore
import WindlassManifest

@Suite("Generated names")
struct GeneratedNameTests {
    @Test("a taken name is retried with a fresh suffix, as generateName does")
    func retry() throws {
        var store = ObjectStore(now: 0)
        _ = try store.create(object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-aaaaa, namespace: default}"), manager: "t", now: 0)
        var suffixes = ["aaaaa", "aaaaa", "bbbbb"]
        let created = try ObjectBuilder.createWithGeneratedName("cm-", in: &store, manager: "t", now: 0, suffix: { suffixes.removeFirst() }) { name in
            ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": "default"]]
        }
        #expect(created[path: ["metadata", "name"]] == "cm-bbbbb")
        #expect(suffixes.isEmpty)
    }
}
