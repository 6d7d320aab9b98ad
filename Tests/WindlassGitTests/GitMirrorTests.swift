import Foundation
import Testing
import WindlassGit
import WindlassManifest
import WindlassTesting

/// A bare "remote" repository under a served directory, fed by pushes from a work repository.
struct Remote {
    let served: TemporaryDirectory
    let work: GitFixture
    let name = "cloud.git"
    var bare: String { served.path + "/" + name }

    init() throws {
        served = try TemporaryDirectory()
        work = try GitFixture()
        try run("git", ["init", "-q", "--bare", "-b", "main", bare])
        try work.git(["remote", "add", "origin", bare])
    }

    @discardableResult
    func push(_ message: String, files: [String: String], branch: String = "main", force: Bool = false) throws -> String {
        for (path, text) in files { try work.write(path, text) }
        let sha = try work.commit(message)
        try work.git(["push", "-q"] + (force ? ["--force"] : []) + ["origin", "HEAD:refs/heads/\(branch)"])
        return sha
    }
}

@Suite("Mirrors of remote repositories", .serialized)
struct GitMirrorTests {
    @Test("URLs are classified, and credentials never printed")
    func urls() throws {
        #expect(try RemoteURL("manifests").scheme == .path)
        #expect(try RemoteURL("/srv/repo").scheme == .path)
        #expect(try RemoteURL("file:///srv/repo.git").scheme == .file)
        #expect(try RemoteURL("git://host/repo.git").scheme == .git)
        #expect(try RemoteURL("https://host/repo.git").scheme == .https)
        #expect(try RemoteURL("ssh://git@host/repo.git").scheme == .ssh)
        #expect(try RemoteURL("git@github.com:org/repo.git").scheme == .ssh)
        #expect(try RemoteURL("git@github.com:org/repo.git").user == "git")
        #expect(throws: GitError.self) { try RemoteURL("ftp://host/repo") }

        let secret = try RemoteURL("https://alice:s3cr3t@git.example.com/org/repo.git")
        #expect(secret.description == "https://alice:***@git.example.com/org/repo.git")
        #expect(secret.identity == "https://git.example.com/org/repo.git")
        #expect(secret.user == "alice")
        #expect(secret.password == "s3cr3t")
        #expect(try RemoteURL("https://ghp_TOKEN@github.com/o/r").description == "https://***@github.com/o/r")
        #expect(try RemoteURL("ssh://git@host/r").description == "ssh://git@host/r")
        #expect(!GitCredentials(username: "u", password: "p4ss").description.contains("p4ss"))
        #expect(try RemoteURL("ssh://git@host:2222/r.git").port == 2222)
        #expect(try RemoteURL("https://u:p@host/r.git").port == nil)
    }

    @Test("credentials from the environment and from a credentials file")
    func credentials() throws {
        let url = try RemoteURL("https://git.example.com/org/repo.git")
        let token = GitCredentials.fromEnvironment(for: url, environment: ["WINDLASS_GIT_TOKEN": "tkn"])
        #expect(token.username == "x-access-token")
        #expect(token.password == "tkn")
        let dir = try TemporaryDirectory()
        let file = try dir.write(
            "credentials",
            "https://bob:other@elsewhere.example.com\nhttps://carol:pw@git.example.com/org\n"
        )
        let stored = GitCredentials.fromEnvironment(for: url, environment: ["WINDLASS_GIT_CREDENTIALS_FILE": file])
        #expect(stored.username == "carol")
        #expect(stored.password == "pw")
    }

    @Test("a file:// mirror is cloned, fetched incrementally, pruned, and follows the remote's HEAD")
    func fileMirror() throws {
        let remote = try Remote()
        let first = try remote.push("one", files: ["manifests/a.yaml": configMapYAML("a")])
        try remote.push("feature", files: ["manifests/f.yaml": configMapYAML("f")], branch: "feature")
        try remote.work.git(["tag", "v1", first])
        try remote.work.git(["push", "-q", "origin", "v1"])
        let state = try TemporaryDirectory()
        let url = try RemoteURL("file://" + remote.bare)
        let mirror = try GitMirror(url: url, stateDirectory: state.path)
        #expect(mirror.path.hasPrefix(state.path + "/repos/cloud-"))

        let initial = try mirror.fetch()
        #expect(initial.updated["refs/heads/main"] == .some(first))
        #expect(initial.updated["refs/tags/v1"] != nil)
        #expect(initial.defaultBranch == "refs/heads/main")
        #expect(try mirror.repository.resolve("HEAD").sha == first)
        #expect(try mirror.repository.resolve("v1").sha == first)
        #expect(try mirror.repository.resolve("feature").sha != first)

        // One new commit; the feature branch deleted on the remote.
        try remote.work.git(["checkout", "-q", "main"])
        let second = try remote.push("two", files: ["manifests/b.yaml": configMapYAML("b")])
        try remote.work.git(["push", "-q", "origin", "--delete", "feature"])
        let next = try mirror.fetch()
        let expected: [String: String?] = ["refs/heads/main": second, "refs/heads/feature": .none]
        #expect(next.updated == expected)
        #expect(throws: GitError.self) { try mirror.repository.resolve("feature") }
        #expect(try mirror.fetch().updated.isEmpty)

        // The same URL maps to the same mirror, whatever credentials it carries.
        #expect(GitMirror.directory(for: url, stateDirectory: state.path) == mirror.path)
    }

    @Test("git:// against a real git daemon: fetch, new commit, force-push detected by ancestry")
    func gitDaemon() throws {
        let remote = try Remote()
        let first = try remote.push("one", files: ["manifests/a.yaml": configMapYAML("a")])
        let daemon = try GitDaemon(base: remote.served.path)
        defer { daemon.stop() }
        let state = try TemporaryDirectory()
        let mirror = try GitMirror(url: RemoteURL(daemon.url(remote.name)), stateDirectory: state.path)
        _ = try mirror.fetch()
        #expect(try mirror.repository.resolve("main").sha == first)

        try remote.work.git(["reset", "-q", "--hard", "HEAD"])
        try remote.work.git(["commit", "-q", "--amend", "-m", "rewritten"])
        try remote.work.git(["push", "-q", "--force", "origin", "HEAD:refs/heads/main"])
        _ = try mirror.fetch()
        let rewritten = try mirror.repository.resolve("main").sha
        #expect(rewritten != first)
        #expect(try !mirror.repository.isAncestor(first, of: rewritten))
        let set = ManifestLoader.load(try mirror.repository.tree(at: mirror.repository.resolve("main"), path: "manifests"))
        #expect(set.resources.map(\.id.name) == ["a"])
    }

    @Test("smart HTTP through git http-backend, with and without basic auth")
    func smartHTTP() throws {
        let remote = try Remote()
        let sha = try remote.push("one", files: ["manifests/a.yaml": configMapYAML("a")])
        let open = try GitHTTPServer(root: remote.served.path)
        defer { open.stop() }
        let state = try TemporaryDirectory()
        let anonymous = try GitMirror(url: RemoteURL(open.url(remote.name)), stateDirectory: state.path)
        _ = try anonymous.fetch()
        #expect(try anonymous.repository.resolve("main").sha == sha)

        let locked = try GitHTTPServer(root: remote.served.path, user: "alice", password: "s3cr3t")
        defer { locked.stop() }
        // Credentials in the URL.
        let inURL = try GitMirror(url: RemoteURL(locked.url(remote.name, credentials: "alice:s3cr3t")), stateDirectory: state.path)
        _ = try inURL.fetch()
        #expect(try inURL.repository.resolve("main").sha == sha)
        // Credentials from the environment, for a URL without them.
        let plainURL = try RemoteURL(locked.url(remote.name))
        let fromEnvironment = try GitMirror(url: plainURL, stateDirectory: state.path + "/other")
        let credentials = GitCredentials.fromEnvironment(
            for: plainURL,
            environment: ["WINDLASS_GIT_USERNAME": "alice", "WINDLASS_GIT_PASSWORD": "s3cr3t"]
        )
        _ = try fromEnvironment.fetch(credentials: credentials)
        #expect(try fromEnvironment.repository.resolve("main").sha == sha)

        // Wrong password: an authentication error that never shows the password.
        let wrong = try GitMirror(url: RemoteURL(locked.url(remote.name, credentials: "alice:WRONG-pw")), stateDirectory: state.path + "/wrong")
        do {
            _ = try wrong.fetch()
            Issue.record("expected an authentication error")
        } catch {
            #expect(error.code == .authentication)
            #expect(!error.description.contains("WRONG-pw"))
            #expect(error.description.hasPrefix("fetch http://alice:***@127.0.0.1:\(locked.port)/cloud.git: "))
            #expect(!error.description.contains("\n"))
        }
        // No credentials at all.
        let none = try GitMirror(url: plainURL, stateDirectory: state.path + "/none")
        #expect(throws: GitError.self) { try none.fetch() }
    }

    @Test("network faults are one-line errors naming the redacted URL and the operation")
    func faults() throws {
        let state = try TemporaryDirectory()
        let port = try freePort()
        let refused = try GitMirror(url: RemoteURL("git://127.0.0.1:\(port)/nothing.git"), stateDirectory: state.path)
        do {
            _ = try refused.fetch()
            Issue.record("expected a connection error")
        } catch {
            #expect(error.code == .network)
            #expect(error.description.hasPrefix("fetch git://127.0.0.1:\(port)/nothing.git: "))
        }
        let unresolvable = try GitMirror(url: RemoteURL("https://user:topsecret@no-such-host.invalid/r.git"), stateDirectory: state.path)
        do {
            _ = try unresolvable.fetch()
            Issue.record("expected a resolution error")
        } catch {
            #expect(error.code == .network)
            #expect(!error.description.contains("topsecret"))
        }
        let remote = try Remote()
        try remote.push("one", files: ["a.yaml": configMapYAML("a")])
        let daemon = try GitDaemon(base: remote.served.path)
        defer { daemon.stop() }
        let missing = try GitMirror(url: RemoteURL(daemon.url("absent.git")), stateDirectory: state.path)
        #expect(throws: GitError.self) { try missing.fetch() }
    }

    @Test("a commit already mirrored is read without asking the remote; a branch or an unknown commit still fetches")
    func mirroredCommit() throws {
        let remote = try Remote()
        let first = try remote.push("one", files: ["deploy/a.yaml": configMapYAML("a")])
        let state = try TemporaryDirectory()
        var daemon: GitDaemon? = try GitDaemon(base: remote.served.path)
        let url = daemon!.url(remote.name)
        let fetched = try SourceResolver.resolve(SourceOptions(source: url, ref: "main", path: "deploy", stateDirectory: state.path))
        #expect(fetched.commit?.sha == first)
        let second = try remote.push("two", files: ["deploy/b.yaml": configMapYAML("b")])
        daemon?.stop()
        daemon = nil

        // The remote is gone: the mirrored commit still reads, with no fetch.
        let offline = try SourceResolver.resolve(SourceOptions(source: url, ref: first, path: "deploy", stateDirectory: state.path), fetchingMissingOnly: true)
        #expect(offline.commit?.sha == first)
        #expect(ManifestLoader.load(offline.tree).resources.map(\.id.name) == ["a"])
        // A branch can move and a commit not mirrored yet is not there: both ask the remote, which fails.
        #expect(throws: GitError.self) {
            try SourceResolver.resolve(SourceOptions(source: url, ref: "main", path: "deploy", stateDirectory: state.path), fetchingMissingOnly: true)
        }
        #expect(throws: GitError.self) {
            try SourceResolver.resolve(SourceOptions(source: url, ref: second, path: "deploy", stateDirectory: state.path), fetchingMissingOnly: true)
        }
        // Without the option, even a mirrored commit fetches first.
        #expect(throws: GitError.self) {
            try SourceResolver.resolve(SourceOptions(source: url, ref: first, path: "deploy", stateDirectory: state.path))
        }
    }

    @Test("SourceResolver reads directories, local repositories and remotes alike")
    func sources() throws {
        let remote = try Remote()
        let sha = try remote.push("one", files: ["deploy/a.yaml": configMapYAML("a")])
        let state = try TemporaryDirectory()

        let local = try SourceResolver.resolve(SourceOptions(source: remote.work.path, path: "deploy", stateDirectory: state.path))
        #expect(local.kind == .localRepository)
        #expect(local.commit?.sha == sha)

        let viaFile = try SourceResolver.resolve(
            SourceOptions(source: "file://" + remote.bare, ref: "main", path: "deploy", stateDirectory: state.path)
        )
        #expect(viaFile.kind == .remote)
        #expect(ManifestLoader.load(viaFile.tree).files == ["deploy/a.yaml@\(sha.prefix(7))"])

        let plain = try TemporaryDirectory()
        try plain.write("deploy/x.yaml", configMapYAML("x"))
        let directory = try SourceResolver.resolve(SourceOptions(source: plain.path, path: "deploy", stateDirectory: state.path))
        #expect(directory.kind == .directory)
        #expect(ManifestLoader.load(directory.tree).resources.map(\.id.name) == ["x"])
        #expect(throws: GitError.self) {
            try SourceResolver.resolve(SourceOptions(source: plain.path, ref: "main", path: "deploy", stateDirectory: state.path))
        }
        #expect(throws: GitError.self) {
            try SourceResolver.resolve(SourceOptions(source: plain.path, path: "absent", stateDirectory: state.path))
        }
    }
}

@Suite("ssh:// against a real sshd", .serialized, .enabled(if: SSHServer.isAvailable, "needs openssh-server and root"))
struct SSHMirrorTests {
    @Test("a key with a passphrase fetches; a wrong passphrase is an authentication error")
    func keyAuthentication() throws {
        let remote = try Remote()
        let sha = try remote.push("one", files: ["manifests/a.yaml": configMapYAML("a")])
        let server = try SSHServer()
        defer { server.stop() }
        let state = try TemporaryDirectory()
        let url = try RemoteURL(server.url(remote.bare))
        let mirror = try GitMirror(url: url, stateDirectory: state.path)
        let knownHosts = try state.write("known_hosts", "# test\n[127.0.0.1]:\(server.port) \(server.hostKey)\n")
        let credentials = GitCredentials.fromEnvironment(
            for: url,
            environment: [
                "WINDLASS_GIT_SSH_KEY": server.clientKey, "WINDLASS_GIT_SSH_KEY_PASSPHRASE": server.passphrase,
                "WINDLASS_GIT_SSH_KNOWN_HOSTS": knownHosts,
            ]
        )
        _ = try mirror.fetch(credentials: credentials)
        #expect(try mirror.repository.resolve("main").sha == sha)

        // A server whose host key is not known is refused.
        let unknown = try state.write("empty_known_hosts", "")
        var untrusted = credentials
        untrusted.sshKnownHosts = unknown
        do {
            _ = try GitMirror(url: url, stateDirectory: state.path + "/untrusted").fetch(credentials: untrusted)
            Issue.record("expected a host key error")
        } catch {
            #expect(error.message.contains("the host key of 127.0.0.1 is not listed in \(unknown)"), "\(error)")
        }

        let wrong = GitCredentials(sshKeyPath: server.clientKey, sshKeyPassphrase: "wrong passphrase", sshKnownHosts: knownHosts)
        let other = try GitMirror(url: url, stateDirectory: state.path + "/other")
        do {
            _ = try other.fetch(credentials: wrong)
            Issue.record("expected an authentication error")
        } catch {
            #expect(error.code == .authentication, "\(error)")
            #expect(!error.description.contains("wrong passphrase"))
        }
    }
}
