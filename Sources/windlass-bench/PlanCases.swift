import Glibc
import WindlassCluster
import WindlassGit
import WindlassManifest
import WindlassPlan
import WindlassPipeline
import WindlassTesting

/// One plan, end to end, of a generated set against the live objects a sync of it would leave
/// (server metadata and status included), with 1 % of the Deployments scaled by someone else.
struct PlanBench {
    struct Result {
        var resources: Int
        var changes: Int
        var load: Double
        var validate: Double
        var plan: Double
        var render: Double
        var jsonBytes: Int
        var total: Double { load + validate + plan + render }
    }

    let resources: Int

    func run() -> Result {
        let root = "/tmp/windlass-plan-bench-\(getpid())"
        defer { Peers.removeTree(root) }
        mkdir(root, 0o755)
        let applications = (resources + 2) / 3
        _ = TreeGenerator.write(count: applications, to: root + "/tree")

        // Not timed: the live side, as the cluster would hold it.
        var live: [ResourceID: Value] = [:]
        do {
            let synced = Planner().synced(ManifestLoader.load(DirectoryTree(root: root + "/tree")))
            var index = 0
            var deployments = 0
            for (id, object) in synced.objects.sorted(by: { $0.key < $1.key }) {
                var stamped = object
                stamped.set(.string("00000000-0000-0000-0000-\(String(index, radix: 16))"), at: ["metadata", "uid"])
                stamped.set(.string(String(index + 1)), at: ["metadata", "resourceVersion"])
                stamped.set("2026-11-27T10:00:00Z", at: ["metadata", "creationTimestamp"])
                if id.kind == "Deployment" {
                    stamped.set(1, at: ["metadata", "generation"])
                    let replicas = stamped[path: ["spec", "replicas"]] ?? 1
                    stamped.set(["observedGeneration": 1, "replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas], at: ["status"])
                    if deployments % 33 == 0 {  // a third of the set is Deployments: 1 % of all resources
                        stamped.set(9, at: ["spec", "replicas"])
                    }
                    deployments += 1
                }
                live[id] = stamped
                index += 1
            }
        }
        let snapshot = LiveSnapshot(objects: live)
        live = [:]
        settleDisk()

        var start = now()
        let set = ManifestLoader.load(DirectoryTree(root: root + "/tree"))
        let loaded = now()
        let diagnostics = ManifestValidator().validate(set)
        let validated = now()
        precondition(diagnostics.isEmpty && set.diagnostics.isEmpty, "the generated set should be clean")
        let plan = Planner().plan(set, source: Plan.Source(location: root, path: "tree", revision: nil), live: snapshot)
        let planned = now()
        let json = JSONRenderer(windlassVersion: "bench").render(plan)
        let rendered = now()
        let changes = plan.changes.filter { $0.action != .noop }.count
        precondition(changes > 0 && changes < set.resources.count / 50, "about 1 % should change, not \(changes)")
        start = start + 0
        return Result(
            resources: set.resources.count, changes: changes, load: loaded - start, validate: validated - loaded, plan: planned - validated,
            render: rendered - planned, jsonBytes: json.utf8.count)
    }
}

/// The pull-request plan of `plan --base --head --no-live`: two commits of a large repository
/// where a few files changed, read from git objects; only the changed files are parsed.
enum PullRequestPlanBench {
    static func run(repository: String, base: String, head: String, files: Int) throws -> (seconds: Double, fullParse: Double, changes: Int) {
        var start = now()
        let pair = try SourceResolver.resolve(SourceOptions(source: repository, path: "manifests", stateDirectory: "/tmp"), base: base, head: head)
        let changed = Set(pair.changedFiles)
        let headFiles = ManifestLoader.manifestFiles(in: pair.head.tree).files
        let baseFiles = ManifestLoader.manifestFiles(in: pair.base.tree).files
        let headSet = ManifestLoader.load([.files(headFiles.filter(changed.contains), in: pair.head.tree)])
        let baseSet = ManifestLoader.load([.files(baseFiles.filter(changed.contains), in: pair.base.tree)])
        precondition(ManifestValidator().validate(headSet).isEmpty)
        let plan = Planner().pullRequestPlan(
            base: baseSet, head: headSet, source: Plan.Source(location: repository, path: "manifests", revision: head, baseRevision: base), live: nil,
            headIsEmpty: headFiles.isEmpty)
        let json = JSONRenderer(windlassVersion: "bench").render(plan)
        let seconds = now() - start
        precondition(!json.isEmpty && plan.summary.hasChanges)

        // For scale: what parsing both commits in full would cost.
        start = now()
        let fullHead = ManifestLoader.load(pair.head.tree)
        let fullBase = ManifestLoader.load(pair.base.tree)
        let fullParse = now() - start
        precondition(fullHead.resources.count == files * 3 && fullBase.resources.count == files * 3)
        return (seconds, fullParse, plan.changes.filter { $0.action != .noop }.count)
    }
}
