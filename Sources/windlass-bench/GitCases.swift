import Foundation
import WindlassGit
import WindlassManifest
import WindlassTesting

/// The git source's cases, on a 10,000-file repository served by a real `git daemon` on
/// 127.0.0.1, each measured beside its peer in the same run.
struct GitBench {
    struct Result {
        var name: String
        var seconds: [Double]
        var peer: String?
        var peerSeconds: [Double]

        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return .nan }
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }

        var ours: Double { median(seconds) }
        var theirs: Double { median(peerSeconds) }
    }

    let files: Int
    let runs: Int

    func run() throws -> [Result] {
        let root = try TemporaryDirectory()
        let work = root.path + "/work"
        let served = root.path + "/served"
        let environment = [
            "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com", "GIT_CONFIG_NOSYSTEM": "1",
        ]
        func git(_ arguments: [String], in directory: String = work) throws {
            try WindlassTesting.run("git", arguments, in: directory, environment: environment)
        }
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        _ = TreeGenerator.write(count: files, to: work + "/manifests")
        try git(["init", "-q", "-b", "main"])
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", "\(files) applications"])
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try git(["init", "-q", "--bare", "-b", "main", served + "/cloud.git"], in: root.path)
        try git(["push", "-q", served + "/cloud.git", "HEAD:refs/heads/main"])
        settleDisk()
        let daemon = try GitDaemon(base: served)
        defer { daemon.stop() }

        // Both mirrors start from a full clone; only the incremental fetches are timed.
        let mirror = try GitMirror(url: RemoteURL(daemon.url("cloud.git")), stateDirectory: root.path + "/state")
        _ = try mirror.fetch()
        try git(["clone", "-q", "--mirror", daemon.url("cloud.git"), root.path + "/git-mirror"], in: root.path)
        let first = try mirror.repository.resolve("main").sha

        var fetch = Result(name: "fetch one new commit (git://, \(files) files)", seconds: [], peer: "git fetch", peerSeconds: [])
        for run in 0..<runs {
            let path = work + "/manifests/team-0/app-\(run).yaml"
            try (TreeGenerator.application(run) + "# change \(run)\n").write(toFile: path, atomically: false, encoding: .utf8)
            try git(["commit", "-q", "-am", "change \(run)"])
            try git(["push", "-q", served + "/cloud.git", "HEAD:refs/heads/main"])
            // Alternate who goes first, so neither always meets a cold server.
            let ours = { () throws -> Double in
                let start = now()
                _ = try mirror.fetch()
                return now() - start
            }
            let theirs = { () throws -> Double in
                let start = now()
                try WindlassTesting.run("git", ["fetch", "-q", "--prune", "origin"], in: root.path + "/git-mirror")
                return now() - start
            }
            if run % 2 == 0 {
                fetch.seconds.append(try ours())
                fetch.peerSeconds.append(try theirs())
            } else {
                fetch.peerSeconds.append(try theirs())
                fetch.seconds.append(try ours())
            }
        }
        let last = try mirror.repository.resolve("main")

        var load = Result(name: "load \(files) manifests from the object database", seconds: [], peer: "from a checkout", peerSeconds: [])
        let tree = try mirror.repository.tree(at: last, path: "manifests")
        for _ in 0..<runs {
            var start = now()
            var set: ManifestSet? = ManifestLoader.load(tree)
            load.seconds.append(now() - start)
            precondition(set?.resources.count == files * 3 && set?.diagnostics.isEmpty == true)
            set = nil
            start = now()
            set = ManifestLoader.load(DirectoryTree(root: work + "/manifests"))
            load.peerSeconds.append(now() - start)
            precondition(set?.resources.count == files * 3)
            set = nil
        }

        var changed = Result(name: "changed paths between two commits (\(files) files)", seconds: [], peer: nil, peerSeconds: [])
        for _ in 0..<runs {
            let start = now()
            let paths = try mirror.repository.changedPaths(from: first, to: last.sha)
            changed.seconds.append(now() - start)
            precondition(paths.count == runs)
        }
        // A pull request: ten files changed on a branch.
        try git(["checkout", "-q", "-b", "pull-request"])
        for i in 0..<10 {
            let app = i * max(1, files / 10)
            let path = work + "/manifests/team-\(app / 100)/app-\(app).yaml"
            let text = TreeGenerator.application(app).replacingOccurrences(of: "replicas: ", with: "replicas: 1") + "# pull request\n"
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        }
        try git(["commit", "-q", "-am", "ten changed applications"])
        settleDisk()
        var pullRequest = Result(name: "pull-request plan, 10 of \(files) files changed (--no-live)", seconds: [], peer: "parsing both commits in full", peerSeconds: [])
        for _ in 0..<runs {
            let measured = try PullRequestPlanBench.run(repository: work, base: "main", head: "pull-request", files: files)
            pullRequest.seconds.append(measured.seconds)
            pullRequest.peerSeconds.append(measured.fullParse)
            precondition(measured.changes == 10, "ten Deployments change, not \(measured.changes)")
        }
        return [fetch, load, changed, pullRequest]
    }
}
