import Foundation
import Testing
import WindlassGit
import WindlassManifest
import WindlassTesting

@Suite("Reading a repository from its object database")
struct GitRepositoryTests {
    @Test("refs resolve: branch, lightweight and annotated tag, full and short SHA, HEAD")
    func resolve() throws {
        let fixture = try GitFixture()
        try fixture.write("manifests/a.yaml", configMapYAML("a"))
        let first = try fixture.commit("First commit\n\nWith a body.")
        try fixture.git(["tag", "v1"])
        try fixture.git(["tag", "-a", "v1-annotated", "-m", "release"])
        try fixture.git(["checkout", "-q", "-b", "feature"])
        try fixture.write("manifests/b.yaml", configMapYAML("b"))
        let second = try fixture.commit("Second")
        let repository = try GitRepository(path: fixture.path)

        #expect(try repository.resolve("main").sha == first)
        #expect(try repository.resolve("feature").sha == second)
        #expect(try repository.resolve("HEAD").sha == second)
        #expect(try repository.resolve("v1").sha == first)
        #expect(try repository.resolve("v1-annotated").sha == first)
        #expect(try repository.resolve(first).sha == first)
        #expect(try repository.resolve(String(first.prefix(8))).sha == first)

        let commit = try repository.resolve("main")
        #expect(commit.authorName == "Ada Lovelace")
        #expect(commit.authorEmail == "ada@example.com")
        #expect(commit.subject == "First commit")
        #expect(commit.message.hasPrefix("First commit\n\nWith a body."))
        #expect(commit.timeZoneOffsetMinutes == 60)
        #expect(commit.isoDate.hasSuffix("+01:00"))
        #expect(commit.shortSHA == String(first.prefix(7)))
    }

    @Test("an unknown ref is a one-line error naming the repository and the ref")
    func unknownRef() throws {
        let fixture = try GitFixture()
        try fixture.commit("empty")
        let repository = try GitRepository(path: fixture.path)
        do {
            _ = try repository.resolve("no-such-branch")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.description == "resolve \(fixture.path) at no-such-branch: no branch, tag or commit named \"no-such-branch\"")
        }
    }

    @Test("an empty repository and a path that is not one are clear errors")
    func notRepositories() throws {
        let empty = try GitFixture()
        #expect(throws: GitError.self) { try GitRepository(path: empty.path).resolve("HEAD") }
        do {
            _ = try GitRepository(path: empty.path).resolve("HEAD")
        } catch {
            #expect(error.code == .emptyRepository)
        }
        let plain = try TemporaryDirectory()
        do {
            _ = try GitRepository(path: plain.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .notARepository)
            #expect(error.description == "open \(plain.path): not a git repository")
        }
        #expect(!GitRepository.isRepository(plain.path))
        #expect(GitRepository.isRepository(empty.path))
    }

    @Test("manifests are read as committed: uncommitted edits are not seen, names carry the commit")
    func committedOnly() throws {
        let fixture = try GitFixture()
        try fixture.write("manifests/app.yaml", configMapYAML("app"))
        try fixture.write("manifests/nested/deep/more.yml", configMapYAML("more"))
        try fixture.write("README.md", "not a manifest")
        let sha = try fixture.commit("manifests")
        try fixture.write("manifests/app.yaml", configMapYAML("app", data: "edited"))
        try fixture.write("manifests/new.yaml", configMapYAML("new"))

        let repository = try GitRepository(path: fixture.path)
        let tree = try repository.tree(at: repository.resolve("HEAD"), path: "manifests")
        let set = ManifestLoader.load(tree)
        #expect(set.resources.map(\.id.name) == ["app", "more"])
        #expect(set.resources[0].object[path: ["data", "key"]] == "value")
        #expect(set.files == ["manifests/app.yaml@\(sha.prefix(7))", "manifests/nested/deep/more.yml@\(sha.prefix(7))"])
        #expect(tree.manifestFileCount == 2)
    }

    @Test("errors inside committed files are located as path@shortsha:line:col")
    func locatedErrors() throws {
        let fixture = try GitFixture()
        try fixture.write("manifests/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n")
        let sha = try fixture.commit("bad")
        let repository = try GitRepository(path: fixture.path)
        let set = ManifestLoader.load(try repository.tree(at: repository.resolve("main"), path: "manifests"))
        #expect(set.diagnostics.map(\.location.description) == ["manifests/bad.yaml@\(sha.prefix(7)):4:9"])
    }

    @Test("--path missing at the commit, or a file, is an error naming both")
    func missingPath() throws {
        let fixture = try GitFixture()
        try fixture.write("deploy/a.yaml", configMapYAML("a"))
        let sha = try fixture.commit("one")
        let repository = try GitRepository(path: fixture.path)
        let commit = try repository.resolve("HEAD")
        do {
            _ = try repository.tree(at: commit, path: "manifests")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "read tree \(fixture.path) at \(sha.prefix(7)): path \"manifests\" does not exist at \(sha.prefix(7))")
        }
        #expect(throws: GitError.self) { try repository.tree(at: commit, path: "deploy/a.yaml") }
        // The whole tree, and nested paths, work.
        #expect(ManifestLoader.load(try repository.tree(at: commit, path: "")).resources.count == 1)
        #expect(ManifestLoader.load(try repository.tree(at: commit, path: "./deploy/")).resources.count == 1)
    }

    @Test("symlinks are followed inside the tree only; submodules are skipped with a warning")
    func symlinksAndSubmodules() throws {
        let fixture = try GitFixture()
        try fixture.write("manifests/base/cm.yaml", configMapYAML("base"))
        try fixture.directory.symlink("manifests/alias.yaml", to: "base/cm.yaml")
        try fixture.directory.symlink("manifests/linked-dir", to: "base")
        try fixture.directory.symlink("manifests/escape.yaml", to: "../../../etc/passwd")
        try fixture.directory.symlink("manifests/absolute.yaml", to: "/etc/hostname")
        try fixture.directory.symlink("manifests/loop.yaml", to: "loop.yaml")
        try fixture.directory.symlink("manifests/up", to: "..")
        try fixture.write("outside.yaml", configMapYAML("outside"))
        try fixture.directory.symlink("manifests/outside.yaml", to: "../outside.yaml")
        try fixture.commit("links")
        // A submodule entry: a gitlink in the index.
        let sub = try GitFixture()
        let subSHA = try sub.commit("sub")
        try fixture.git(["update-index", "--add", "--cacheinfo", "160000,\(subSHA),manifests/vendored"])
        try fixture.git(["commit", "-q", "-m", "submodule"])

        let repository = try GitRepository(path: fixture.path)
        let set = ManifestLoader.load(try repository.tree(at: repository.resolve("HEAD"), path: "manifests"))
        let short = try repository.resolve("HEAD").shortSHA
        // The file symlink reads base/cm.yaml again (a duplicate); the directory symlink's
        // target is read anyway, so the link is not.
        #expect(set.resources.map(\.id.name) == ["base"])
        let messages = set.diagnostics.map(\.description).sorted()
        #expect(messages.contains("manifests/absolute.yaml@\(short): error: cannot read: symlink to \"/etc/hostname\" leads outside the tree; not followed"))
        #expect(messages.contains("manifests/escape.yaml@\(short): error: cannot read: symlink to \"../../../etc/passwd\" leads outside the tree; not followed"))
        #expect(messages.contains("manifests/outside.yaml@\(short): error: cannot read: symlink to \"../outside.yaml\" leads outside the tree; not followed"))
        #expect(messages.contains("manifests/loop.yaml@\(short): error: cannot read: symlink loop (the link leads back to itself)"))
        #expect(messages.contains("manifests/up@\(short): warning: symlink to \"..\" leads outside the tree; not followed"))
        #expect(messages.contains("manifests/vendored@\(short): warning: submodule vendored is not read: submodules are not followed"))
        #expect(messages.filter { $0.contains("duplicate resource ConfigMap/default/base") }.count == 1)
        #expect(messages.contains("manifests/linked-dir@\(short): warning: symlink to a directory that is read anyway; not read twice"))
    }

    @Test("a committed symlink bomb loads its one ConfigMap once", .timeLimit(.minutes(5)))
    func symlinkBomb() throws {
        let fixture = try GitFixture()
        try fixture.write(".l7/cm.yaml", configMapYAML("bottom"))
        for level in 0..<7 {
            for link in 0..<8 {
                try fixture.directory.symlink(level == 0 ? "a\(link)" : ".l\(level)/a\(link)", to: level == 0 ? ".l1" : "../.l\(level + 1)")
            }
        }
        let commit = try fixture.commit("bomb")
        let repository = try GitRepository(path: fixture.path)
        let set = ManifestLoader.load(try repository.tree(at: repository.resolve(commit), path: ""))
        #expect(set.resources.map(\.id.name) == ["bottom"])
        #expect(!set.diagnostics.contains { $0.severity == .error })
    }

    @Test("binary files: ignored unless named like a manifest, then a located error")
    func binaryFiles() throws {
        let fixture = try GitFixture()
        try fixture.directory.write("manifests/logo.png", Data([0x89, 0x50, 0x4E, 0x47, 0, 1, 2, 3]))
        try fixture.directory.write("manifests/blob.yaml", Data([0x61, 0x3A, 0x20, 0, 0xFF]))
        let sha = try fixture.commit("binary")
        let repository = try GitRepository(path: fixture.path)
        let set = ManifestLoader.load(try repository.tree(at: repository.resolve("HEAD"), path: "manifests"))
        #expect(set.diagnostics.map(\.description) == ["manifests/blob.yaml@\(sha.prefix(7)):1:4: error: NUL byte (0x00) is not allowed in a manifest"])
    }

    @Test("a blob over the size limit is refused before it is read")
    func blobLimit() throws {
        let fixture = try GitFixture()
        try fixture.write("manifests/big.yaml", String(repeating: "# padding line\n", count: 1000))
        let sha = try fixture.commit("big")
        let repository = try GitRepository(path: fixture.path)
        let tree = try repository.tree(at: repository.resolve("HEAD"), path: "manifests")
        let set = ManifestLoader.load(tree, options: LoadOptions(maxFileBytes: 1024))
        #expect(set.diagnostics.map(\.description) == [
            "manifests/big.yaml@\(sha.prefix(7)): error: blob is 15000 bytes, larger than the limit of 1 KiB for one manifest file"
        ])
    }

    @Test("a corrupt object is a located error, not a crash")
    func corruptObject() throws {
        let fixture = try GitFixture()
        try fixture.write("manifests/a.yaml", configMapYAML("a"))
        try fixture.commit("one")
        let blob = try fixture.git(["rev-parse", "HEAD:manifests/a.yaml"])
        let objectPath = fixture.path + "/.git/objects/\(blob.prefix(2))/\(blob.dropFirst(2))"
        chmod(objectPath, 0o644)
        try Data("this is not zlib data".utf8).write(to: URL(fileURLWithPath: objectPath))
        let repository = try GitRepository(path: fixture.path)
        let set = ManifestLoader.load(try repository.tree(at: repository.resolve("HEAD"), path: "manifests"))
        #expect(set.resources.isEmpty)
        #expect(set.diagnostics.count == 1)
        #expect(set.diagnostics.first?.description.hasPrefix("manifests/a.yaml@") == true)
        #expect(set.diagnostics.first?.message.contains("read blob") == true)
    }

    @Test("changed paths between commits: added, modified, deleted, both sides of a rename")
    func changedPaths() throws {
        let fixture = try GitFixture()
        try fixture.write("manifests/keep.yaml", configMapYAML("keep"))
        try fixture.write("manifests/edit.yaml", configMapYAML("edit"))
        try fixture.write("manifests/gone.yaml", configMapYAML("gone"))
        try fixture.write("manifests/old-name.yaml", configMapYAML("renamed"))
        try fixture.write("docs/readme.md", "x")
        let first = try fixture.commit("one")
        try fixture.write("manifests/edit.yaml", configMapYAML("edit", data: "changed"))
        try fixture.directory.remove("manifests/gone.yaml")
        try fixture.git(["mv", "manifests/old-name.yaml", "manifests/new-name.yaml"])
        try fixture.write("manifests/added.yaml", configMapYAML("added"))
        try fixture.write("docs/readme.md", "y")
        let second = try fixture.commit("two")
        let repository = try GitRepository(path: fixture.path)
        #expect(try repository.changedPaths(from: first, to: second, under: "manifests") == [
            "manifests/added.yaml", "manifests/edit.yaml", "manifests/gone.yaml", "manifests/new-name.yaml",
            "manifests/old-name.yaml",
        ])
        #expect(try repository.changedPaths(from: first, to: second).contains("docs/readme.md"))
        #expect(try repository.changedPaths(from: second, to: second).isEmpty)
    }

    @Test("ancestry tells a fast-forward from a force-push")
    func ancestry() throws {
        let fixture = try GitFixture()
        let a = try fixture.commit("a")
        let b = try fixture.commit("b")
        try fixture.git(["reset", "-q", "--hard", a])
        let c = try fixture.commit("c")
        let repository = try GitRepository(path: fixture.path)
        #expect(try repository.isAncestor(a, of: b))
        #expect(try !repository.isAncestor(b, of: c))
        #expect(try repository.isAncestor(b, of: b))
    }
}

@Suite("A 10,000-file repository")
struct LargeRepositoryTests {
    @Test("loading a commit from the object database gives exactly what the checkout gives")
    func sameAsCheckout() throws {
        let fixture = try GitFixture()
        for i in 0..<10_000 {
            try fixture.write("manifests/team-\(i / 500)/cm-\(i).yaml", configMapYAML("cm-\(i)", data: "v\(i)"))
        }
        let first = try fixture.commit("10,000 files")
        try fixture.write("manifests/team-3/cm-1500.yaml", configMapYAML("cm-1500", data: "changed"))
        let second = try fixture.commit("one change")

        let repository = try GitRepository(path: fixture.path)
        let fromGit = ManifestLoader.load(try repository.tree(at: repository.resolve("HEAD"), path: "manifests"))
        let fromDisk = ManifestLoader.load(DirectoryTree(root: fixture.path + "/manifests"))
        #expect(fromGit.resources.count == 10_000)
        #expect(fromGit.diagnostics.isEmpty)
        #expect(fromGit.resources.map(\.id) == fromDisk.resources.map(\.id))
        #expect(fromGit.resources.map(\.object) == fromDisk.resources.map(\.object))
        #expect(try repository.changedPaths(from: first, to: second) == ["manifests/team-3/cm-1500.yaml"])
    }
}
