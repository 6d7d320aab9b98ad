import Foundation
import Testing
import WindlassTesting

/// Runs the built `windlass` executable, which sits beside the test bundle.
struct CLI {
    static let executable: String = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("windlass").path
    }()

    static func run(_ arguments: [String], in directory: String = repositoryRoot) throws -> CommandResult {
        try WindlassTesting.run(executable, arguments, in: directory, check: false)
    }
}

@Suite("windlass validate, as a user runs it")
struct ValidateCommandTests {
    @Test("the bundled manifests are clean: exit 0 and the summary line")
    func bundled() throws {
        let result = try CLI.run(["validate"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary.wholeMatch(of: /\d+ resources in 13 files, 0 errors/) != nil, "\(summary)")
    }

    @Test("--list prints a table of the resources")
    func list() throws {
        let result = try CLI.run(["validate", "manifests", "--list"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("NAMESPACE"))
        #expect(result.stdout.contains("Deployment.apps              keystone"))
        #expect(result.stdout.contains("VirtualMachine.kubevirt.io   demo-web"))
    }

    @Test("a broken manifest: compiler-style lines, a summary, exit 1")
    func findings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("windlass-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  labels: {version: 1.0}\n".utf8)
            .write(to: dir.appendingPathComponent("app.yaml"))
        try Data("key: [unclosed\n".utf8).write(to: dir.appendingPathComponent("broken.yml"))
        let result = try CLI.run(["validate", "."], in: dir.path)
        #expect(result.status == 1)
        #expect(
            result.stdout == """
                app.yaml:5:21: error: ConfigMap app: metadata.labels.version: expected a string, found number 1.0
                broken.yml:1:6: error: this flow sequence is never closed (did not find expected ',' or ']' at 2:1)
                1 resource in 2 files, 2 errors

                """
        )
    }

    @Test("--output json is a JSON document with the summary, diagnostics and resources")
    func json() throws {
        let result = try CLI.run(["validate", "manifests", "--output", "json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let summary = try #require(object["summary"] as? [String: Int])
        #expect(summary["errors"] == 0)
        #expect(summary["files"] == 13)
        let resources = try #require(object["resources"] as? [[String: Any]])
        #expect(resources.contains { $0["address"] as? String == "apps/Deployment/openstack/keystone" })
    }

    @Test("usage and I/O errors exit 2", arguments: [
        ["validate", "does-not-exist"],
        ["validate", "--output", "xml"],
        ["validate", "--namespace", "Bad_NS"],
        ["no-such-command"],
    ])
    func usage(arguments: [String]) throws {
        let result = try CLI.run(arguments)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("Error: "))
    }

    @Test("--version prints the version")
    func version() throws {
        let result = try CLI.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("0."))
    }
}

@Suite("windlass-bench")
struct BenchHarnessTests {
    /// A smoke size only: benchmarks are not timed tests, but the harness must keep working.
    @Test("a smoke run measures every case and prints the table")
    func smoke() throws {
        let bench = URL(fileURLWithPath: CLI.executable).deletingLastPathComponent().appendingPathComponent("windlass-bench")
        let process = Process()
        process.executableURL = bench
        process.arguments = ["--smoke", "--no-python"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(text)")
        for name in ["libyaml-scan", "load", "load-1-thread", "load+validate"] {
            #expect(text.contains("| 200 | 0.3 | \(name) |"), "\(name) missing from \(text)")
        }
    }
}

@Suite("Sources on the command line", .serialized)
struct SourceCommandTests {
    /// A served bare repository with one commit of manifests.
    func served() throws -> (TemporaryDirectory, GitFixture, String) {
        let served = try TemporaryDirectory()
        let work = try GitFixture()
        try work.write("deploy/app.yaml", configMapYAML("app"))
        try work.write("deploy/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad\n")
        let sha = try work.commit("Add app")
        try WindlassTesting.run("git", ["init", "-q", "--bare", "-b", "main", served.path + "/cloud.git"])
        try work.git(["push", "-q", served.path + "/cloud.git", "HEAD:refs/heads/main"])
        return (served, work, sha)
    }

    @Test("validate --source git://… reads the commit, names files path@shortsha, exit 1 on findings")
    func validateRemote() throws {
        let (served, _, sha) = try served()
        let daemon = try GitDaemon(base: served.path)
        defer { daemon.stop() }
        let state = try TemporaryDirectory()
        let result = try CLI.run([
            "validate", "--source", daemon.url("cloud.git"), "--ref", "main", "--path", "deploy", "--state-dir", state.path,
        ])
        #expect(result.status == 1)
        #expect(result.stdout.contains("deploy/bad.yaml@\(sha.prefix(7)):4:9: error: metadata.name \"Bad\""))
        #expect(result.stdout.hasSuffix("2 resources in 2 files, 1 error\n"))
    }

    @Test("source info prints the commit and the number of manifest files, as text and JSON")
    func info() throws {
        let (served, _, sha) = try served()
        let state = try TemporaryDirectory()
        let url = "file://" + served.path + "/cloud.git"
        let text = try CLI.run(["source", "info", "--source", url, "--path", "deploy", "--state-dir", state.path])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("commit:     \(sha)\n"))
        #expect(text.stdout.contains("author:     Ada Lovelace <ada@example.com>\n"))
        #expect(text.stdout.contains("subject:    Add app\n"))
        #expect(text.stdout.contains("manifests:  2 files under deploy\n"))
        let json = try CLI.run(["source", "info", "--source", url, "--path", "deploy", "--state-dir", state.path, "-o", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["commit"] as? [String: Any])?["sha"] as? String == sha)
        #expect(object["manifestFiles"] as? Int == 2)
    }

    @Test("source faults exit 2 with one line naming the redacted URL, ref and operation")
    func faults() throws {
        let state = try TemporaryDirectory()
        let port = try freePort()
        let refused = try CLI.run(["validate", "--source", "http://u:hunter2@127.0.0.1:\(port)/x.git", "--state-dir", state.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.hasPrefix("Error: fetch http://u:***@127.0.0.1:\(port)/x.git: "))
        #expect(!refused.stderr.contains("hunter2"))
        #expect(refused.stderr.split(separator: "\n").count == 1)

        let (served, _, _) = try served()
        let url = "file://" + served.path + "/cloud.git"
        let unknownRef = try CLI.run(["validate", "--source", url, "--ref", "nope", "--path", "deploy", "--state-dir", state.path])
        #expect(unknownRef.status == 2)
        #expect(unknownRef.stderr.contains("resolve \(url) at nope: no branch, tag or commit named \"nope\""))

        let missingPath = try CLI.run(["validate", "--source", url, "--state-dir", state.path])
        #expect(missingPath.status == 2)
        #expect(missingPath.stderr.contains("path \"manifests\" does not exist at"))

        let both = try CLI.run(["validate", "manifests", "--source", url])
        #expect(both.status == 2)

        // A blob over --max-file-size is refused with its size, as a finding.
        let small = try CLI.run(["validate", "--source", url, "--path", "deploy", "--state-dir", state.path, "--max-file-size", "40"])
        #expect(small.status == 1)
        #expect(small.stdout.contains("deploy/app.yaml@"))
        #expect(small.stdout.contains("blob is 72 bytes, larger than the limit of 40 bytes"))
    }
}
