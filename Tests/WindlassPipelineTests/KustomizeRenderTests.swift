import Foundation
import Testing
import WindlassGit
import WindlassKustomize
import WindlassManifest
import WindlassPipeline
import WindlassTesting

/// Kustomizations rendered by the kustomize on this machine (kubectl's embedded one), compared
/// with what `kubectl kustomize` prints for the same directory.
@Suite("Kustomize sources, rendered by the real kustomize", .serialized)
struct KustomizeRenderTests {
    /// The objects `kubectl kustomize DIR` prints, by identity.
    static func reference(_ directory: String) throws -> [ResourceID: Value] {
        let printed = try run("kubectl", ["kustomize", directory])
        var objects: [ResourceID: Value] = [:]
        for document in try YAMLReader.read(printed.stdout) where !document.root.isNull {
            let set = ManifestLoader.set(of: [document.root], files: ["kubectl"])
            for resource in set.resources { objects[resource.id] = resource.object }
        }
        return objects
    }

    static func resolved(_ repository: GitFixture, path: String, state: String) throws -> (ResolvedSource, SourceOptions) {
        let options = SourceOptions(source: repository.path, path: path, stateDirectory: state)
        return (try SourceResolver.resolve(options), options)
    }

    @Test("each overlay renders to exactly what kubectl kustomize prints, object by object; every resource names its file")
    func sameAsKubectl() throws {
        let repository = try GitFixture()
        try KustomizeFixture.write(into: repository)
        let commit = try repository.commit("base and overlays")
        let state = try TemporaryDirectory()
        for overlay in KustomizeFixture.overlays {
            let (source, options) = try Self.resolved(repository, path: overlay, state: state.path)
            let renderer = KustomizeRenderer(cacheDirectory: state.path + "/cache/kustomize")
            let load = SourceRendering.load(source, options: options, renderer: renderer, loading: LoadOptions())
            #expect(load.manifests.diagnostics.isEmpty, "\(load.manifests.diagnostics)")
            #expect(load.tool?.version.hasPrefix("v") == true)
            #expect(load.rendered == [overlay])
            #expect(load.inputDirectories == [overlay, "base", "components/monitoring"])
            let expected = try Self.reference(repository.path + "/" + overlay)
            var rendered: [ResourceID: Value] = [:]
            for resource in load.manifests.resources { rendered[resource.id] = resource.object }
            #expect(Set(rendered.keys) == Set(expected.keys))
            for (id, object) in expected {
                #expect(rendered[id] == object, "\(id) differs from kubectl kustomize")
            }
            #expect(expected.count == 3)
            // Every resource names the file it came from, at line 1; the generator's is its kustomization.
            let short = String(commit.prefix(7))
            for resource in load.manifests.resources {
                let location = load.manifests.location(of: resource).description
                switch resource.id.kind {
                case "Deployment": #expect(location == "base/deployment.yaml@\(short):1:1")
                case "Service": #expect(location == "base/service.yaml@\(short):1:1")
                case "ConfigMap":
                    // kustomize keeps the generator's first kustomization for a merged one.
                    #expect(location == "base/kustomization.yaml@\(short):1:1")
                default: Issue.record("unexpected \(resource.id)")
                }
                #expect(resource.object[path: ["metadata", "annotations", "config.kubernetes.io/origin"]] == nil)
            }
            // The hashed ConfigMap name is what the Deployment refers to.
            let configMap = rendered.keys.first { $0.kind == "ConfigMap" }!.name
            let deployment = rendered.first { $0.key.kind == "Deployment" }!.value
            #expect(deployment[path: ["spec", "template", "spec", "volumes"]]?.sequenceValue?.first?[path: ["configMap", "name"]]?.stringValue == configMap)

            // The same tree again: from the cache, without running kustomize.
            let again = SourceRendering.load(source, options: options, renderer: renderer, loading: LoadOptions())
            #expect(again.cachedRenders == 1)
            #expect(again.manifests.resources.map(\.object) == load.manifests.resources.map(\.object))
        }
    }

    @Test("plain directories and kustomizations side by side: overlays rendered, bases and components only as their parts")
    func sideBySide() throws {
        let repository = try GitFixture()
        try KustomizeFixture.write(into: repository)
        try repository.commit("all")
        let state = try TemporaryDirectory()
        let (source, options) = try Self.resolved(repository, path: ".", state: state.path)
        let load = SourceRendering.load(source, options: options, renderer: KustomizeRenderer(), loading: LoadOptions())
        #expect(load.manifests.diagnostics.isEmpty, "\(load.manifests.diagnostics)")
        #expect(load.rendered == ["overlays/production", "overlays/staging"])
        let names = Set(load.manifests.resources.map { "\($0.id.kind)/\($0.id.namespace ?? "-")/\($0.id.name)" })
        #expect(names.contains("Namespace/-/staging") && names.contains("Namespace/-/production"))
        #expect(names.contains("Deployment/staging/staging-web") && names.contains("Deployment/production/prod-web"))
        // The base alone (namespace default, no prefix) is not rendered, nor read as plain files;
        // no kustomization is loaded as if it were a resource.
        #expect(!names.contains { $0.hasSuffix("/web") || $0.contains("Kustomization") || $0.contains("Component") })
        #expect(load.manifests.resources.count == 2 + 3 + 3)
    }

    @Test("a kustomization that asks for origin annotations itself: its resources are located by them, and the annotation is not kept")
    func ownOriginAnnotations() throws {
        let repository = try GitFixture()
        try KustomizeFixture.write(into: repository)
        let overlay = try String(contentsOfFile: repository.path + "/overlays/staging/kustomization.yaml", encoding: .utf8)
        try repository.write("overlays/staging/kustomization.yaml", overlay + "\nbuildMetadata: [originAnnotations]\n")
        let commit = try repository.commit("origins")
        let state = try TemporaryDirectory()
        let (source, options) = try Self.resolved(repository, path: "overlays/staging", state: state.path)
        let load = SourceRendering.load(source, options: options, renderer: KustomizeRenderer(), loading: LoadOptions())
        #expect(load.manifests.diagnostics.isEmpty, "\(load.manifests.diagnostics)")
        let locations = Set(load.manifests.resources.map { load.manifests.location(of: $0).description })
        let short = String(commit.prefix(7))
        #expect(locations == ["base/deployment.yaml@\(short):1:1", "base/service.yaml@\(short):1:1", "base/kustomization.yaml@\(short):1:1"])
        #expect(load.manifests.resources.allSatisfy { $0.object[path: ["metadata", "annotations", "config.kubernetes.io/origin"]] == nil })
    }

    @Test("refused before kustomize runs, each at its line: remote bases, paths outside the repository, Helm charts")
    func refusals() throws {
        let repository = try GitFixture()
        try KustomizeFixture.write(into: repository)
        try repository.write("overlays/staging/kustomization.yaml", """
            resources:
              - ../../base
              - https://github.com/example/app//config?ref=v1
              - github.com/example/other/config
              - ../../../outside
            helmCharts:
              - name: redis
            """)
        try repository.commit("bad")
        let state = try TemporaryDirectory()
        let (source, options) = try Self.resolved(repository, path: "overlays/staging", state: state.path)
        let load = SourceRendering.load(source, options: options, renderer: KustomizeRenderer(), loading: LoadOptions())
        let lines = load.manifests.diagnostics.map(\.description)
        #expect(load.manifests.resources.isEmpty)
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.contains { $0.contains("kustomization.yaml@") && $0.contains(":3:5: error: remote resource \"https://github.com/example/app//config?ref=v1\" refused") })
        #expect(lines.contains { $0.contains(":4:5: error: remote resource \"github.com/example/other/config\" refused") })
        #expect(lines.contains { $0.contains(":5:5: error: \"../../../outside\" is outside the repository") })
        #expect(lines.contains { $0.contains(":6:1: error: helmCharts") })

        // Allowed by the application: the references are left to kustomize (which then fails on
        // the unreachable host, but not on Windlass's refusal).
        let allowed = KustomizeRenderer(settings: KustomizeSettings(allowRemoteResources: true, enableHelm: true))
        let load2 = SourceRendering.load(source, options: options, renderer: allowed, loading: LoadOptions())
        #expect(!load2.manifests.diagnostics.contains { $0.message.contains("refused") })
    }

    @Test("kustomize's own errors name the file, with paths relative to the repository")
    func kustomizeErrors() throws {
        let repository = try GitFixture()
        try KustomizeFixture.write(into: repository)
        try repository.write("overlays/staging/kustomization.yaml", "resources:\n  - ../../base\n  - missing.yaml\n")
        try repository.write("overlays/production/kustomization.yaml", "resources: [../../base\n")
        try repository.commit("bad")
        let state = try TemporaryDirectory()
        let (source, options) = try Self.resolved(repository, path: "overlays/staging", state: state.path)
        let load = SourceRendering.load(source, options: options, renderer: KustomizeRenderer(cacheDirectory: state.path + "/k"), loading: LoadOptions())
        let line = load.manifests.diagnostics.map(\.description).joined(separator: "\n")
        #expect(load.manifests.diagnostics.count == 1, "\(line)")
        #expect(line.hasPrefix("overlays/staging/kustomization.yaml@"), "\(line)")
        #expect(line.contains("kustomize build overlays/staging failed"), "\(line)")
        #expect(line.contains("missing.yaml"), "\(line)")
        #expect(!line.contains(state.path) && !line.contains("/tmp/"), "\(line)")

        let (broken, brokenOptions) = try Self.resolved(repository, path: "overlays/production", state: state.path)
        let invalid = SourceRendering.load(broken, options: brokenOptions, renderer: KustomizeRenderer(), loading: LoadOptions())
        let said = invalid.manifests.diagnostics.map(\.description)
        #expect(said.count == 1 && said[0].contains("overlays/production/kustomization.yaml@") && said[0].contains(":1:") && said[0].contains("not a valid kustomization"), "\(said)")
    }

    @Test("a render that runs too long, prints too much or prints no YAML is stopped with one line; no kustomize at all says what to install")
    func limits() throws {
        let repository = try GitFixture()
        try KustomizeFixture.write(into: repository)
        try repository.commit("ok")
        let state = try TemporaryDirectory()
        let bin = try TemporaryDirectory()
        let (source, options) = try Self.resolved(repository, path: "overlays/staging", state: state.path)
        func render(_ settings: KustomizeSettings) -> [String] {
            SourceRendering.load(source, options: options, renderer: KustomizeRenderer(settings: settings), loading: LoadOptions()).manifests.diagnostics
                .map(\.description)
        }
        let slow = try KustomizeFixture.fakeKustomize(in: bin, name: "slow", build: "sleep 30")
        let started = Date()
        let timedOut = render(KustomizeSettings(binary: slow, timeout: 1))
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(timedOut.count == 1 && timedOut[0].contains("did not finish within 1 s"), "\(timedOut)")

        let loud = try KustomizeFixture.fakeKustomize(in: bin, name: "loud", build: "yes 'apiVersion: v1'")
        let tooMuch = render(KustomizeSettings(binary: loud, maxOutputBytes: 1 << 20))
        #expect(tooMuch.count == 1 && tooMuch[0].contains("printed more than 1 MiB"), "\(tooMuch)")

        let garbage = try KustomizeFixture.fakeKustomize(in: bin, name: "garbage", build: "printf 'kind: [unclosed\\n'")
        let notYAML = render(KustomizeSettings(binary: garbage))
        #expect(notYAML.count == 1 && notYAML[0].contains("printed output that is not YAML"), "\(notYAML)")

        let missing = render(KustomizeSettings(binary: bin.path + "/none/kustomize"))
        #expect(missing.count == 1 && missing[0].contains("was not found"), "\(missing)")
        do {
            _ = try KustomizeTool.locate(KustomizeSettings(), searchPath: bin.path + "/empty")
            Issue.record("a kustomize was found on an empty PATH")
        } catch {
            #expect(error.message.contains("install kubectl"))
        }
    }
}
