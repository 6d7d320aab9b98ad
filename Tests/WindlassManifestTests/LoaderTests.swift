import Foundation
import Testing
import WindlassTesting
import WindlassManifest

@Suite("Loading a tree of manifests")
struct LoaderTests {

    func configMap(_ name: String, namespace: String? = nil) -> String {
        var text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n"
        if let namespace { text += "  namespace: \(namespace)\n" }
        return text
    }

    @Test("walks .yaml, .yml and .json files recursively, in byte order of their paths")
    func walkOrder() throws {
        let dir = try TemporaryDirectory()
        try dir.write("b.yaml", configMap("b"))
        try dir.write("a/z.yml", configMap("z"))
        try dir.write("a.json", #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"}}"#)
        try dir.write("README.md", "not a manifest")
        try dir.write("notes.txt", "apiVersion: broken: [")
        let set = ManifestLoader.load(DirectoryTree(root: dir.path))
        #expect(set.files.map { String($0.dropFirst(dir.path.count + 1)) } == ["a.json", "a/z.yml", "b.yaml"])
        #expect(set.resources.map(\.id.name) == ["j", "z", "b"])
        #expect(set.diagnostics.isEmpty)
    }

    @Test("the order is the same with one thread or many")
    func deterministic() throws {
        let dir = try TemporaryDirectory()
        for i in 0..<200 {
            try dir.write("team-\(i % 7)/app-\(i).yaml", configMap("app-\(i)") + "---\n" + configMap("app-\(i)-extra"))
        }
        let one = ManifestLoader.load(DirectoryTree(root: dir.path), options: LoadOptions(concurrency: 1))
        let many = ManifestLoader.load(DirectoryTree(root: dir.path), options: LoadOptions(concurrency: 8))
        #expect(one.resources.count == 400)
        #expect(one.resources.map(\.id) == many.resources.map(\.id))
        #expect(one.files == many.files)
    }

    @Test(".windlassignore files exclude with gitignore patterns; hidden entries are skipped")
    func ignoreFiles() throws {
        let dir = try TemporaryDirectory()
        try dir.write(".windlassignore", "drafts/\n*.json\n")
        try dir.write("keep.yaml", configMap("keep"))
        try dir.write("drafts/wip.yaml", "broken: [")
        try dir.write("data.json", "{broken")
        try dir.write("team/.windlassignore", "local-*.yaml\n")
        try dir.write("team/app.yaml", configMap("app"))
        try dir.write("team/local-test.yaml", "broken: [")
        try dir.write(".github/workflows/ci.yml", "on: push\n")
        try dir.write(".hidden.yaml", "broken: [")
        let set = ManifestLoader.load(DirectoryTree(root: dir.path))
        #expect(set.resources.map(\.id.name) == ["keep", "app"])
        #expect(set.diagnostics.isEmpty)
    }

    @Test("a Helm chart in the tree is one located error, not one per template; a kustomization's chart and an ignored one are left alone")
    func helmCharts() throws {
        let chart = [
            "Chart.yaml": "apiVersion: v2\nname: guestbook\nversion: 0.1.0\n",
            "values.yaml": "replicaCount: 1\nimage: {repository: nginx}\n",
            "templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
        ]
        let dir = try TemporaryDirectory()
        try dir.write("keep.yaml", configMap("keep"))
        for (path, text) in chart {
            try dir.write("charts/guestbook/" + path, text)
            try dir.write("overlay/charts/guestbook/" + path, text)
            try dir.write("vendored/guestbook/" + path, text)
        }
        try dir.write("overlay/kustomization.yaml", "helmCharts: [{name: guestbook}]\n")
        try dir.write(".windlassignore", "vendored/\n")
        let listing = ManifestLoader.listing(of: DirectoryTree(root: dir.path))
        #expect(listing.files == ["keep.yaml", "overlay/kustomization.yaml"] && listing.kustomizations == ["overlay/kustomization.yaml"])
        #expect(
            listing.diagnostics.map(\.description) == [
                "\(dir.path)/charts/guestbook/Chart.yaml: error: \(dir.path)/charts/guestbook is a Helm chart, which Windlass does not render: commit what `helm template` makes of it instead, or leave the chart out with .windlassignore"
            ])
        // The whole tree a chart: the same error, at its root.
        let root = try TemporaryDirectory()
        for (path, text) in chart { try root.write(path, text) }
        let whole = ManifestLoader.listing(of: DirectoryTree(root: root.path))
        #expect(whole.files.isEmpty && whole.diagnostics.count == 1 && whole.diagnostics[0].location.path == root.path + "/Chart.yaml")
    }

    @Test("a tree with nothing to read is a warning (naming Jsonnet files it holds), not silently no objects")
    func emptyTree() throws {
        let jsonnet = try TemporaryDirectory()
        try jsonnet.write("guestbook.jsonnet", "{ kind: 'ConfigMap' }\n")
        try jsonnet.write("README.md", "notes\n")
        let listing = ManifestLoader.listing(of: DirectoryTree(root: jsonnet.path))
        #expect(
            listing.diagnostics.map(\.description) == [
                "\(jsonnet.path): warning: no manifests here: no .yaml, .yml or .json file, nor a kustomization; its Jsonnet files are not rendered (commit their output as YAML or JSON)"
            ])
        let empty = try TemporaryDirectory()
        try empty.write("docs/README.md", "notes\n")
        let set = ManifestLoader.load(DirectoryTree(root: empty.path))
        #expect(set.resources.isEmpty && set.diagnostics.map(\.message) == ["no manifests here: no .yaml, .yml or .json file, nor a kustomization"])
        // One manifest, or a chart's error, and there is nothing more to say.
        try empty.write("conf.yaml", configMap("conf"))
        #expect(ManifestLoader.listing(of: DirectoryTree(root: empty.path)).diagnostics.isEmpty)
    }

    @Test("namespaced objects get the default namespace; cluster-scoped ones lose theirs with a warning")
    func namespaces() throws {
        let dir = try TemporaryDirectory()
        try dir.write(
            "all.yaml",
            configMap("plain") + "---\n" + configMap("placed", namespace: "shop")
                + "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
                + "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:reader\n  namespace: shop\n"
        )
        let set = ManifestLoader.load(DirectoryTree(root: dir.path), options: LoadOptions(defaultNamespace: "openstack"))
        #expect(set.resources.map(\.id.description) == [
            "ConfigMap/openstack/plain", "ConfigMap/shop/placed", "Namespace/shop",
            "rbac.authorization.k8s.io/ClusterRole/system:reader",
        ])
        #expect(set.resources[0].object[path: ["metadata", "namespace"]] == "openstack")
        #expect(set.diagnostics.count == 1)
        #expect(set.diagnostics.first?.severity == .warning)
        #expect(set.diagnostics.first?.location.position?.line == 17)
    }

    @Test("a CustomResourceDefinition in the set decides its kind's scope")
    func crdScope() throws {
        let dir = try TemporaryDirectory()
        try dir.write(
            "crd.yaml",
            """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: clusterpools.example.com}
            spec:
              group: example.com
              scope: Cluster
              names: {kind: ClusterPool, plural: clusterpools}
              versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
            ---
            apiVersion: example.com/v1
            kind: ClusterPool
            metadata: {name: gold}
            ---
            apiVersion: example.com/v1
            kind: Widget
            metadata: {name: w}
            """
        )
        let set = ManifestLoader.load(DirectoryTree(root: dir.path))
        #expect(set.resources.map(\.id.description) == [
            "apiextensions.k8s.io/CustomResourceDefinition/clusterpools.example.com",
            "example.com/ClusterPool/gold",
            "example.com/Widget/default/w",
        ])
    }

    @Test("kind: List and typed lists are expanded; empty documents are skipped")
    func lists() throws {
        let dir = try TemporaryDirectory()
        try dir.write(
            "list.yaml",
            """
            ---
            # an empty document
            ---
            apiVersion: v1
            kind: List
            items:
              - {apiVersion: v1, kind: ConfigMap, metadata: {name: one}}
              - {apiVersion: v1, kind: ConfigMap, metadata: {name: two}}
            ---
            apiVersion: v1
            kind: ConfigMapList
            items:
              - {apiVersion: v1, kind: ConfigMap, metadata: {name: three}}
            """
        )
        let set = ManifestLoader.load(DirectoryTree(root: dir.path))
        #expect(set.resources.map(\.id.name) == ["one", "two", "three"])
        #expect(set.location(of: set.resources[1]).position == SourcePosition(line: 8, column: 5))
    }

    @Test("the same object in two files is reported once, naming both places")
    func duplicates() throws {
        let dir = try TemporaryDirectory()
        try dir.write("a.yaml", configMap("same"))
        try dir.write("b.yaml", "# again\n" + configMap("same", namespace: "default"))
        let set = ManifestLoader.load(DirectoryTree(root: dir.path))
        #expect(set.resources.count == 1)
        let error = try #require(set.diagnostics.first)
        #expect(set.diagnostics.count == 1)
        #expect(error.location.description == dir.path + "/b.yaml:2:1")
        #expect(error.message == "duplicate resource ConfigMap/default/same: also defined at \(dir.path)/a.yaml:1:1")
    }

    @Test("a directory symlink back into the tree is reported and not followed")
    func symlinkLoop() throws {
        let dir = try TemporaryDirectory()
        try dir.write("app/cm.yaml", configMap("cm"))
        try dir.symlink("app/back", to: "..")
        try dir.symlink("self.yaml", to: "self.yaml")
        let set = ManifestLoader.load(DirectoryTree(root: dir.path))
        #expect(set.resources.map(\.id.name) == ["cm"])
        let messages = set.diagnostics.map(\.description)
        #expect(set.diagnostics.count == 2)
        #expect(messages.contains { $0.hasPrefix(dir.path + "/app/back: error: symlink loop") })
        #expect(messages.contains { $0.hasPrefix(dir.path + "/self.yaml: error: cannot read: symlink loop") })
    }

    @Test("an unreadable manifest is reported with its path; others still load")
    func unreadable() throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.yaml", configMap("good"))
        try dir.symlink("gone.yaml", to: "missing-target.yaml")
        try dir.symlink("gone.txt", to: "missing-target.txt")
        var set = ManifestLoader.load(DirectoryTree(root: dir.path))
        #expect(set.resources.map(\.id.name) == ["good"])
        #expect(set.diagnostics.map(\.description) == [
            "\(dir.path)/gone.yaml: error: cannot read: dangling symlink: No such file or directory"
        ])
        if geteuid() != 0 {
            let locked = try dir.write("locked.yaml", configMap("locked"))
            chmod(locked, 0)
            set = ManifestLoader.load(DirectoryTree(root: dir.path))
            #expect(set.diagnostics.contains { $0.message.contains("Permission denied") })
        }
    }

    @Test("a file over the size limit is refused before it is read")
    func fileSizeLimit() throws {
        let dir = try TemporaryDirectory()
        try dir.write("big.yaml", String(repeating: "# padding\n", count: 2000))
        let set = ManifestLoader.load(DirectoryTree(root: dir.path), options: LoadOptions(maxFileBytes: 1024))
        #expect(set.diagnostics.first?.message.contains("larger than") == true)
    }

    /// 7 hidden levels of directories, each reached only through 8 symlinks from the level
    /// above, with one ConfigMap at the bottom: 8⁷ paths when every link is followed.
    static func symlinkBomb(in dir: TemporaryDirectory, levels: Int = 7, links: Int = 8) throws {
        try dir.write(".l\(levels)/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bottom\n")
        for level in 0..<levels {
            for link in 0..<links {
                let from = level == 0 ? "a\(link)" : ".l\(level)/a\(link)"
                try dir.symlink(from, to: level == 0 ? ".l1" : "../.l\(level + 1)")
            }
        }
    }

    @Test("a symlink bomb: each linked directory is read once, by its target", .timeLimit(.minutes(5)))
    func symlinkBomb() throws {
        let dir = try TemporaryDirectory()
        try Self.symlinkBomb(in: dir)
        let set = ManifestLoader.load(DirectoryTree(root: dir.path))
        #expect(set.resources.map(\.id.name) == ["bottom"])
        #expect(set.files == [dir.path + "/a0/a0/a0/a0/a0/a0/a0/cm.yaml"])
        #expect(!set.diagnostics.contains { $0.severity == .error })
        // One warning per level: the first link is read, the other 7 are named by one line.
        let warnings = set.diagnostics.filter { $0.severity == .warning }
        #expect(warnings.count == 7)
        #expect(warnings.map(\.description).contains("\(dir.path)/a1: warning: symlink to a directory that is read anyway; not read twice (nor 6 other links to it)"))
    }

    @Test("a real directory is read as itself, a link to it not again")
    func linkToRealDirectory() throws {
        let dir = try TemporaryDirectory()
        try dir.write("z-base/cm.yaml", configMap("base"))
        try dir.symlink("a-alias", to: "z-base")
        let set = ManifestLoader.load(DirectoryTree(root: dir.path))
        #expect(set.files == [dir.path + "/z-base/cm.yaml"])
        #expect(set.diagnostics.map(\.description) == ["\(dir.path)/a-alias: warning: symlink to a directory that is read anyway; not read twice"])
    }

    @Test("a link to / or /proc stops at the walk's limits, reading nothing", .timeLimit(.minutes(5)))
    func linkToRoot() throws {
        for target in ["/", "/proc"] {
            let dir = try TemporaryDirectory()
            try dir.write("app.yaml", configMap("app"))
            try dir.symlink("everything", to: target)
            let set = ManifestLoader.load(DirectoryTree(root: dir.path), options: LoadOptions(treeLimits: TreeLimits(maxEntries: 20_000)))
            #expect(set.resources.isEmpty, "\(target)")
            #expect(set.diagnostics.contains { $0.severity == .error && $0.message.contains("more than 20000 entries") }, "\(target)")
        }
    }

    @Test("limits: depth, entries, total bytes; cancellation leaves an error")
    func treeLimits() throws {
        let dir = try TemporaryDirectory()
        try dir.write("a/b/c/d/cm.yaml", configMap("deep"))
        var set = ManifestLoader.load(DirectoryTree(root: dir.path), options: LoadOptions(treeLimits: TreeLimits(maxDepth: 3)))
        #expect(set.resources.isEmpty)
        #expect(set.diagnostics.map(\.message) == ["directories nest deeper than 3 levels (at \(dir.path)/a/b/c/d); the tree was not read"])

        for name in ["one", "two", "three"] { try dir.write("\(name).yaml", configMap(name)) }
        set = ManifestLoader.load(DirectoryTree(root: dir.path), options: LoadOptions(treeLimits: TreeLimits(maxTotalBytes: 100)))
        let errors = set.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.message == "not read: the manifests exceed 100 bytes in all (a limit of one application)")

        set = ManifestLoader.load(DirectoryTree(root: dir.path), options: LoadOptions(isCancelled: { true }))
        #expect(set.resources.isEmpty)
        #expect(set.diagnostics.contains { $0.severity == .error && $0.message.contains("cancelled") })
    }

    @Test("paths on a command line: files and directories; a missing one throws")
    func commandLinePaths() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("one.yaml", configMap("one"))
        try dir.write("more/two.yaml", configMap("two"))
        let set = try ManifestLoader.load(paths: [file, dir.path + "/more"])
        #expect(set.resources.map(\.id.name) == ["one", "two"])
        #expect(throws: FileTreeError.self) { try ManifestLoader.load(paths: [dir.path + "/absent"]) }
    }
}

/// A tree held in memory, as the git source will hand the loader a commit's tree: it proves the
/// loader needs nothing of a disk, and that messages use the tree's own names for files.
struct MemoryTree: FileTree {
    var files: [String: String]
    var revision: String

    func entries(of directory: String) throws(FileTreeError) -> [FileTreeEntry] {
        let prefix = directory.isEmpty ? "" : directory + "/"
        var seen: [String: FileTreeEntry] = [:]
        for path in files.keys where path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count)
            if let slash = rest.firstIndex(of: "/") {
                let name = String(rest[..<slash])
                seen[name] = FileTreeEntry(name: name, kind: .directory(identity: nil))
            } else {
                seen[String(rest)] = FileTreeEntry(name: String(rest), kind: .file)
            }
        }
        return Array(seen.values)
    }

    func contents(of path: String, limit: Int) throws(FileTreeError) -> [UInt8] {
        guard let text = files[path] else { throw FileTreeError(path: displayPath(path), message: "no such file") }
        return Array(text.utf8)
    }

    func displayPath(_ path: String) -> String { "\(path)@\(revision)" }
}

@Suite("The file-tree protocol")
struct FileTreeProtocolTests {
    @Test("any FileTree loads like a directory, with its own names in messages")
    func memoryTree() {
        let tree = MemoryTree(
            files: [
                "manifests/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
                "manifests/team/.windlassignore": "skip.yaml\n",
                "manifests/team/skip.yaml": "broken: [",
                "manifests/team/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad\n",
            ],
            revision: "3f2c1ab"
        )
        let set = ManifestLoader.load(tree)
        #expect(set.files == ["manifests/app.yaml@3f2c1ab", "manifests/team/bad.yaml@3f2c1ab"])
        #expect(set.resources.map(\.id.name) == ["app", "Bad"])
        #expect(set.diagnostics.map(\.location.description) == ["manifests/team/bad.yaml@3f2c1ab:4:9"])
    }
}
