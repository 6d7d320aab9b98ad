import Foundation
import Testing
import WindlassCluster
import WindlassManifest

@Suite("The CustomResourceDefinitions of Windlass's kinds")
struct WindlassCRDsTests {
    @Test("one definition per windlass.dev kind, named, scoped and short-named as the embedded cluster serves it")
    func definitions() throws {
        let crds = WindlassCRDs.all
        #expect(crds.count == 4)
        var mapping = RESTMapping([])
        for crd in crds {
            mapping.register(crd: crd)
            // Valid CustomResourceDefinitions, by the Kubernetes schema.
            let problems = ManifestValidator.problems(in: crd, kind: GroupVersionKind(group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition"))
            #expect(problems.isEmpty, "\(problems)")
            let name = try #require(crd[path: ["metadata", "name"]]?.stringValue)
            #expect(name.hasSuffix(".windlass.dev"))
        }
        for builtIn in RESTMapping.builtIn.resources where builtIn.group == "windlass.dev" {
            let declared = try #require(mapping.resource(for: builtIn.groupKind))
            #expect(declared.name == builtIn.name)
            #expect(declared.namespaced == builtIn.namespaced)
            #expect(declared.shortNames == builtIn.shortNames)
            #expect(declared.version == builtIn.version)
        }
    }

    /// Every windlass.dev document in the bundled manifests and policies.
    static func bundledDocuments() throws -> [Value] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        var documents: [Value] = []
        for directory in ["manifests", "policies"] {
            let enumerator = FileManager.default.enumerator(atPath: root + "/" + directory)
            while let file = enumerator?.nextObject() as? String {
                guard file.hasSuffix(".yaml"), !file.hasSuffix(".test.yaml") else { continue }
                let text = try String(contentsOfFile: root + "/" + directory + "/" + file, encoding: .utf8)
                for document in try YAMLReader.read(text) where document.root["apiVersion"]?.stringValue == "windlass.dev/v1" {
                    documents.append(document.root)
                }
            }
        }
        return documents
    }

    @Test("the bundled manifests and policies pass the schemas, so a real API server stores them as written")
    func bundledPass() throws {
        let documents = try Self.bundledDocuments()
        #expect(documents.count >= 10)
        let schemas = Dictionary(uniqueKeysWithValues: WindlassCRDs.all.map { crd in
            (crd[path: ["spec", "names", "kind"]]!.stringValue!, crd[path: ["spec", "versions"]]!.sequenceValue![0][path: ["schema", "openAPIV3Schema"]]!)
        })
        for document in documents {
            let kind = try #require(document["kind"]?.stringValue)
            let schema = try #require(schemas[kind], "no definition for \(kind)")
            let problems = ManifestValidator.problems(in: document, kind: GroupVersionKind(group: "windlass.dev", version: "v1", kind: kind), customSchema: schema)
            #expect(problems.isEmpty, "\(kind) \(document[path: ["metadata", "name"]]?.stringValue ?? ""): \(problems)")
        }
        // And a RolloutStrategy without its target is refused by the schema.
        let missing: Value = ["apiVersion": "windlass.dev/v1", "kind": "RolloutStrategy", "metadata": ["name": "x"], "spec": ["canary": [:]]]
        let problems = ManifestValidator.problems(in: missing, kind: GroupVersionKind(group: "windlass.dev", version: "v1", kind: "RolloutStrategy"), customSchema: schemas["RolloutStrategy"])
        #expect(problems.contains { $0.field.contains("targetRef") }, "\(problems)")
    }
}
