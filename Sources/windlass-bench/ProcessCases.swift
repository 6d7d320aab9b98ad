import Glibc
import WindlassTesting

/// What users run: the `windlass` binary as a child process (its start, its state's load, its
/// reconcile rounds all counted), on generated trees, beside kubernetes-validate on the same
/// files when `.venv` has it.
enum ProcessBench {
    struct Result {
        var name: String
        var seconds: [Double]
        var peakRSSKiB: Int
        var median: Double { seconds.sorted()[seconds.count / 2] }
    }

    /// `app-0042`.
    static func appName(_ i: Int) -> String {
        let digits = String(i)
        return "app-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The `windlass` binary built beside this one.
    static var windlass: String {
        let me = CommandLine.arguments[0]
        let directory = me.lastIndex(of: "/").map { String(me[..<$0]) } ?? "."
        return directory + "/windlass"
    }

    /// Deployments (10 replicas) and a Service each, one file per application.
    static func writeApps(_ count: Int, to root: String) {
        mkdir(root, 0o755)
        for i in 0..<count {
            let name = appName(i)
            TreeGenerator.writeFile(
                root + "/\(name).yaml",
                """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: \(name), namespace: bench}
                spec:
                  replicas: 10
                  selector: {matchLabels: {app: \(name)}}
                  template:
                    metadata: {labels: {app: \(name)}}
                    spec:
                      containers: [{name: app, image: "registry.example/app:1", resources: {requests: {cpu: 10m, memory: 16Mi}}}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: \(name), namespace: bench}
                spec:
                  selector: {app: \(name)}
                  ports: [{port: 80}]

                """)
        }
        TreeGenerator.writeFile(root + "/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: bench}\n")
    }

    /// Runs `arguments` `runs` times (after `prepare`, not timed), wall time and peak RSS each.
    static func measure(_ name: String, runs: Int, prepare: () -> Void = {}, _ arguments: [String]) -> Result {
        var seconds: [Double] = []
        var peak = 0
        for _ in 0..<runs {
            prepare()
            let start = now()
            let (output, status, rss) = Peers.spawn(arguments)
            let elapsed = now() - start
            // Exit 1 is a verdict (policy failures, invalid files), not a failed run.
            guard status == 0 || status == 256 else { fail("\(name) failed (status \(status)): \(output.suffix(400))") }
            seconds.append(elapsed)
            peak = max(peak, rss)
        }
        return Result(name: name, seconds: seconds, peakRSSKiB: peak)
    }

    static func run(apps: Int, runs: Int) -> [Result] {
        let root = "/tmp/windlass-bench-process-\(getpid())"
        mkdir(root, 0o755)
        defer { Peers.removeTree(root) }
        let tree = root + "/apps"
        writeApps(apps, to: tree)
        let state = root + "/state"
        func fresh() {
            Peers.removeTree(state)
            _ = Peers.spawn([windlass, "cluster", "init", "--state-dir", state, "--nodes", "20", "--cpu", "1000", "--memory", "4000Gi"])
        }
        var results: [Result] = []
        results.append(measure("cluster apply -f (\(apps) Deployments × 10 + \(apps) Services, converged)", runs: runs, prepare: fresh, [windlass, "cluster", "apply", "-f", tree, "--state-dir", state]))
        // On the state the last apply left: a read, a plan and a sync with nothing to change.
        results.append(measure("cluster get deployments (on that state)", runs: runs, [windlass, "cluster", "get", "deployments", "-n", "bench", "--state-dir", state]))
        results.append(measure("plan --source DIR (on that state)", runs: runs, [windlass, "plan", "--source", tree, "--path", ".", "--no-policies", "--state-dir", state]))
        results.append(measure("sync --source DIR, into an empty cluster", runs: runs, prepare: fresh, [windlass, "sync", "--source", tree, "--path", ".", "--no-policies", "--state-dir", state]))
        results.append(measure("validate DIR", runs: runs, [windlass, "validate", tree]))
        results.append(measure("policy check DIR --policies builtin", runs: runs, [windlass, "policy", "check", tree, "--policies", "builtin"]))
        let peer = ".venv/bin/kubernetes-validate"
        if access(peer, X_OK) == 0 {
            let files = (0..<apps).map { tree + "/" + appName($0) + ".yaml" }
            results.append(measure("kubernetes-validate --strict (the same files)", runs: runs, [peer, "--strict", "--quiet", "-k", "1.33.0"] + files))
        }
        return results
    }
}
