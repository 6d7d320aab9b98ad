import Glibc
import WindlassManifest
import WindlassPolicy

/// The built-in pack (policies/ of the working directory) over the generated set: every rule of
/// every policy on every resource, as plan and sync judge them. Where Checkov is installed, it
/// runs over a 1,000-resource subset in the same run, for the record.
enum PolicyBench {
    struct Result {
        var resources: Int
        var policies: Int
        var results: Int
        var median: Double
        /// Windlass on the 1,000-resource subset, end to end as `windlass policy check` runs
        /// (load and judge).
        var subset: Double
        var subsetResources: Int
        /// `checkov -d` on the same subset (nil: not installed).
        var checkov: Double?
    }

    static func run(resources: Int, runs: Int) -> Result {
        let pack: PolicySet
        do {
            pack = try PolicySet.load("policies")
        } catch {
            fail("policy case: \(error) (run from the repository root)")
        }
        guard pack.errorCount == 0 else { fail("policy case: the pack has errors: \(pack.diagnostics)") }
        let root = "/tmp/windlass-policy-bench-\(getpid())"
        defer { Peers.removeTree(root) }
        mkdir(root, 0o755)
        _ = TreeGenerator.write(count: (resources + 2) / 3, to: root + "/tree")
        let set = ManifestLoader.load(DirectoryTree(root: root + "/tree"))
        var times: [Double] = []
        var count = 0
        for _ in 0..<runs {
            let start = now()
            let report = PolicyEngine.judge(set, by: pack)
            times.append(now() - start)
            count = report.results.count
        }
        let median = times.sorted()[times.count / 2]

        // The 1,000-resource subset: Windlass end to end, and Checkov where it is installed.
        _ = TreeGenerator.write(count: 334, to: root + "/subset")
        settleDisk()
        var start = now()
        let subsetSet = ManifestLoader.load(DirectoryTree(root: root + "/subset"))
        _ = PolicyEngine.judge(subsetSet, by: pack)
        let subset = now() - start
        var checkov: Double?
        if let binary = findCheckov() {
            start = now()
            let (_, status, _) = Peers.spawn([
                "/bin/sh", "-c", "\"$0\" -d \"$1\" --framework kubernetes --compact --quiet --skip-download -o json >/dev/null 2>&1", binary, root + "/subset",
            ])
            // Checkov exits 1 when a check fails, which the generated set does.
            if status == 0 || status == 256 { checkov = now() - start }
        }
        return Result(
            resources: set.resources.count, policies: pack.policies.count, results: count, median: median, subset: subset,
            subsetResources: subsetSet.resources.count, checkov: checkov)
    }

    /// `$CHECKOV`, `checkov` on the PATH, or the venv scripts/checkov-corpus.sh suggests.
    static func findCheckov() -> String? {
        var candidates: [String] = []
        if let env = getenv("CHECKOV") { candidates.append(String(cString: env)) }
        for directory in (getenv("PATH").map { String(cString: $0) } ?? "").split(separator: ":") {
            candidates.append(directory + "/checkov")
        }
        candidates.append("/opt/checkov-venv/bin/checkov")
        return candidates.first { access($0, X_OK) == 0 }
    }
}
