import Glibc
import WindlassManifest
import WindlassTesting

/// `windlass-bench`: measures Windlass against its floor and its peers in the same run and
/// rewrites BENCHMARKS.md. Each case runs in a child process, so its peak RSS is its own.
///
///     windlass-bench [--sizes 1000,10000,50000] [--runs 5] [--output BENCHMARKS.md] [--no-python] [--smoke]
///     windlass-bench --generate DIR N          write a tree only
///     windlass-bench --child CASE DIR [--runs R]   run one case over a written tree
struct Options {
    var sizes = [1_000, 10_000, 50_000]
    var runs = 5
    var output: String? = nil
    var python = true
    var gitFiles = 10_000
    var clusterSizes = [1_000, 10_000]
    var planSizes = [10_000, 100_000]
    /// Only run the plan case with this many resources (a child of the main run).
    var planOnly: Int? = nil
    /// Only run the executor's cases (a child of the main run).
    var syncOnly = false
    /// Only run the policy case with this many resources (a child of the main run).
    var policyOnly: Int? = nil
    var policyResources = 10_000
    /// Only run the daemon's push → synced case (a child of the main run).
    var serveOnly = false
    var pushes = 50
    /// Only run the idle daemon with this many resources (a child of the main run).
    var serveIdle: Int? = nil
    /// Where the idle case keeps its repository and state (default: a temporary directory).
    var idleRoot: String? = nil
    /// Only restart the idle case's daemon on the state under this directory (its child).
    var serveRestart: String? = nil
    var idleResources = 10_000
    var idleSeconds = 30.0
    var child: (name: String, root: String)? = nil
    /// Only run the cluster case with this many Deployments (for profiling).
    var clusterOnly: Int? = nil
    var clusterDeployments = 1_000
    /// Only write a tree (for profiling a case by hand with `--child`).
    var generate: (root: String, size: Int)? = nil
    /// Only run the whole-process cases (the `windlass` binary as users run it).
    var processOnly = false
    var processApps = 1_000
    /// Only run the Kubernetes API cases.
    var kubeAPIOnly = false
    var kubeDestOnly = false
    var kustomizeOnly = false
    /// Only run the web UI's cases.
    var uiOnly = false
    var uiApps = 200
    var uiResources = 10_000
    var uiChanges = 10
    var kubeRSS: (String, String)? = nil
    /// Only run the forecast cases (a child of the main run).
    var forecastOnly = false
    var forecastDeployments = 1_000
    var kubeDestPlanApps = 3_333
    var kubeAPIWatchers = 100
    var kubeAPIIdleWatches = 1_000

    init(_ arguments: [String]) {
        var i = 1
        func value() -> String {
            i += 1
            guard i < arguments.count else { fail("missing value for \(arguments[i - 1])") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--sizes": sizes = value().split(separator: ",").compactMap { Int($0) }
            case "--runs": runs = Int(value()) ?? 5
            case "--output": output = value()
            case "--no-python": python = false
            case "--git-files": gitFiles = Int(value()) ?? 10_000
            case "--smoke":
                sizes = [200]
                runs = 1
                gitFiles = 100
                clusterSizes = [20]
                planSizes = [300]
                policyResources = 300
                pushes = 5
                idleResources = 300
                idleSeconds = 3
                processApps = 20
                kubeAPIWatchers = 10
                kubeAPIIdleWatches = 50
                kubeDestPlanApps = 100
                uiApps = 10
                uiResources = 300
                uiChanges = 3
                forecastDeployments = 20
            case "--cluster-only": clusterOnly = Int(value())
            case "--plan-only": planOnly = Int(value())
            case "--sync-only": syncOnly = true
            case "--policy-only": policyOnly = Int(value())
            case "--serve-only": serveOnly = true
            case "--serve-idle": serveIdle = Int(value())
            case "--root": idleRoot = value()
            case "--serve-restart": serveRestart = value()
            case "--cluster-deployments": clusterDeployments = Int(value()) ?? 1_000
            case "--process-only": processOnly = true
            case "--kube-api-only": kubeAPIOnly = true
            case "--kube-dest-only": kubeDestOnly = true
            case "--kustomize-only": kustomizeOnly = true
            case "--ui-only": uiOnly = true
            case "--forecast-only": forecastOnly = true
            case "--forecast-deployments": forecastDeployments = Int(value()) ?? 1_000
            case "--ui-apps": uiApps = Int(value()) ?? 200
            case "--ui-resources": uiResources = Int(value()) ?? 10_000
            case "--ui-changes": uiChanges = Int(value()) ?? 10
            case "--kube-rss":
                let mode = value()
                kubeRSS = (mode, value())
            case "--process-apps": processApps = Int(value()) ?? 1_000
            case "--generate":
                let root = value()
                generate = (root, Int(value()) ?? 1_000)
            case "--child":
                let name = value()
                child = (name, value())
            default: fail("unknown argument \(arguments[i])")
            }
            i += 1
        }
    }
}

func fail(_ message: String) -> Never {
    _ = "windlass-bench: \(message)\n".withCString { write(2, $0, strlen($0)) }
    exit(2)
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let options = Options(CommandLine.arguments)

if options.processOnly {
    for result in ProcessBench.run(apps: options.processApps, runs: options.runs) {
        print("PROCESS \(result.median) \(result.peakRSSKiB) \(result.name)")
    }
    exit(0)
}

if let (mode, argument) = options.kubeRSS {
    try await KubeDestinationBench.rss(mode: mode, argument: argument)
    exit(0)
}

if options.kubeDestOnly {
    let r = try await KubeDestinationBench.run(syncApps: max(options.processApps / 3, 7), planApps: options.kubeDestPlanApps, runs: options.runs)
    print("KUBEDEST \(r.syncObjects) \(r.syncSeconds) \(r.kubectlSeconds) \(r.planObjects) \(r.coldPlanSeconds) \(r.warmPlanSeconds) \(r.embeddedPlanSeconds) \(r.driftP50) \(r.driftP90) \(r.informerObjects) \(r.informerKiBPerObject) \(r.embeddedKiBPerObject)")
    print("kube-dest: sync \(r.syncObjects) objects \(format(r.syncSeconds, 2)) s (kubectl apply --server-side \(format(r.kubectlSeconds, 2)) s); plan \(r.planObjects) cold \(format(r.coldPlanSeconds, 2)) s, warm \(format(r.warmPlanSeconds, 3)) s, embedded \(format(r.embeddedPlanSeconds, 3)) s; drift p50 \(format(r.driftP50 * 1000, 0)) ms p90 \(format(r.driftP90 * 1000, 0)) ms; cache \(format(r.informerKiBPerObject, 2)) KiB/object, embedded store \(format(r.embeddedKiBPerObject, 2)) KiB/object")
    exit(0)
}

if options.uiOnly {
    let r = try await UIBench.run(apps: options.uiApps, resources: options.uiResources, changes: options.uiChanges)
    print("UIBENCH \(r.apps) \(r.resources) \(r.listResponse) \(r.treeResponse) \(r.treeColdResponse) \(r.listRender) \(r.appRender) \(r.changeP50) \(r.changeP90) \(r.changes)")
    print("ui: \(r.apps) applications: answer \(format(r.listResponse * 1000, 1)) ms, first render \(format(r.listRender, 3)) s; \(r.resources) resources: tree answer \(format(r.treeResponse * 1000, 1)) ms (first \(format(r.treeColdResponse * 1000, 0)) ms), first render \(format(r.appRender, 3)) s; change → page p50 \(format(r.changeP50 * 1000, 0)) ms, p90 \(format(r.changeP90 * 1000, 0)) ms")
    exit(0)
}

if options.forecastOnly {
    for measured in [try await ForecastBench.large(deployments: options.forecastDeployments, nodes: 100, runs: min(options.runs, 3), keep: options.idleRoot), try await ForecastBench.canary(runs: options.runs)] {
        print("FORECAST \(measured.commandSeconds) \(measured.planSeconds) \(measured.forecastSeconds) \(measured.virtualSeconds) \(measured.peakRSSKiB) \(measured.name)")
        print("VERDICT \(measured.verdict)")
        print("forecast: \(measured.name): plan --forecast \(format(measured.commandSeconds, 3)) s (plan alone \(format(measured.planSeconds, 3)) s), the forecast \(format(measured.forecastSeconds, 3)) s for \(format(measured.virtualSeconds, 0)) s of cluster time, peak RSS \(measured.peakRSSKiB / 1024) MiB; \(measured.verdict)")
    }
    exit(0)
}

if options.kustomizeOnly {
    let r = try KustomizeBench.run(resources: 1_000, runs: options.runs)
    print("KUSTOMIZE \(r.resources) \(r.kubectlSeconds) \(r.coldSeconds) \(r.warmSeconds) \(r.coldBuilds) \(r.warmBuilds)")
    print("kustomize: overlay of \(r.resources) resources: kubectl kustomize \(format(r.kubectlSeconds, 3)) s; windlass plan cold \(format(r.coldSeconds, 3)) s (\(r.coldBuilds) builds), warm \(format(r.warmSeconds, 3)) s (\(r.warmBuilds) builds)")
    exit(0)
}

if options.kubeAPIOnly {
    let r = try await KubeAPIBench.run(apps: options.processApps, watchers: options.kubeAPIWatchers, idleWatches: options.kubeAPIIdleWatches, runs: options.runs)
    print("KUBEAPI \(r.pods) \(r.listSeconds) \(r.listBytes) \(r.encodeFloor) \(r.watchers) \(r.fanOutP50) \(r.fanOutP99) \(r.idleWatches) \(r.idleRSSDeltaKiB) \(r.kubectlDeployments) \(r.kubectlSeconds) \(r.serverCPUSeconds)")
    print("kube-api: LIST \(r.pods) pods \(format(r.listSeconds, 3)) s (\(r.listBytes / 1024) KiB; encoding in process \(format(r.encodeFloor, 3)) s); a write reaches \(r.watchers) watchers p50 \(format(r.fanOutP50 * 1000, 2)) ms, p99 \(format(r.fanOutP99 * 1000, 2)) ms; \(r.idleWatches) idle watches +\(r.idleRSSDeltaKiB / 1024) MiB; kubectl apply --server-side \(r.kubectlDeployments) Deployments \(format(r.kubectlSeconds, 2)) s, server CPU \(format(r.serverCPUSeconds, 2)) s")
    exit(0)
}

if let n = options.clusterOnly {
    let result = try await ClusterBench(deployments: n).run()
    print("cluster: \(result.deployments) deployments, \(result.pods) pods: apply \(format(result.applySeconds, 2)) s, apply+converge \(format(result.convergeSeconds, 2)) s, rolling update \(format(result.rolloutSeconds, 2)) s")
    print("CLUSTER \(result.deployments) \(result.pods) \(result.applySeconds) \(result.convergeSeconds) \(result.rolloutSeconds)")
    exit(0)
}

if let n = options.planOnly {
    let r = PlanBench(resources: n).run()
    print("plan: \(r.resources) resources, \(r.changes) changes: load \(format(r.load, 3)) s, validate \(format(r.validate, 3)) s, plan \(format(r.plan, 3)) s, JSON \(format(r.render, 3)) s (\(r.jsonBytes / 1024) KiB)")
    print("PLAN \(r.resources) \(r.changes) \(r.load) \(r.validate) \(r.plan) \(r.render)")
    exit(0)
}

if let n = options.policyOnly {
    let r = PolicyBench.run(resources: n, runs: options.runs)
    print("policy: \(r.resources) resources, \(r.policies) policies, \(r.results) results: median \(format(r.median * 1000, 1)) ms; \(r.subsetResources) resources end to end \(format(r.subset * 1000, 1)) ms, checkov \(r.checkov.map { format($0, 2) + " s" } ?? "not installed")")
    print("POLICY \(r.resources) \(r.policies) \(r.results) \(r.median) \(r.subsetResources) \(r.subset) \(r.checkov ?? -1)")
    exit(0)
}

if options.serveOnly {
    let latencies = try await ServeBench.pushToSynced(pushes: options.pushes).sorted()
    func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)] }
    print("serve: \(latencies.count) pushes, push → synced p50 \(format(percentile(0.5) * 1000, 1)) ms, p99 \(format(percentile(0.99) * 1000, 1)) ms")
    print("SERVE \(latencies.count) \(percentile(0.5)) \(percentile(0.99))")
    exit(0)
}

if let n = options.serveIdle {
    let scratch = options.idleRoot == nil ? try TemporaryDirectory() : nil
    let r = try await ServeBench.idle(resources: n, seconds: options.idleSeconds, root: options.idleRoot ?? scratch!.path)
    print("serve idle: \(n) resources synced in \(format(r.syncSeconds, 1)) s; idle RSS \(r.rssKiB / 1024) MiB, CPU \(format(r.cpu * 100, 2)) % of a core")
    print("IDLE \(n) \(r.rssKiB) \(r.cpu) \(r.syncSeconds)")
    exit(0)
}

if let root = options.serveRestart {
    let (rss, seconds) = try await ServeBench.restarted(root: root)
    print("RESTART \(rss) \(seconds)")
    exit(0)
}

if options.syncOnly {
    let canaries = try await SyncBench.canaries(instantPods: true)
    let slowPods = try await SyncBench.canaries(instantPods: false)
    let (direct, executor) = try await SyncBench.overhead(deployments: options.clusterDeployments)
    print("sync: bundled release with two canaries \(format(canaries, 2)) s (\(format(slowPods, 2)) s with 1 s pod starts); \(options.clusterDeployments) Deployments direct \(format(direct, 2)) s, through the executor \(format(executor, 2)) s")
    print("SYNC \(canaries) \(direct) \(executor) \(options.clusterDeployments) \(slowPods)")
    exit(0)
}

// In a child: run one case `runs` times, printing the seconds of each run.
if let (name, root) = options.child {
    guard let benchCase = BenchCase(rawValue: name) else { fail("unknown case \(name)") }
    let files = BenchCase.readFile(root + "/files.txt").split(separator: UInt8(ascii: "\n")).map {
        String(decoding: $0, as: UTF8.self)
    }
    var check = 0
    for _ in 0..<options.runs {
        let start = now()
        var (count, result) = benchCase.run(root: root + "/tree", files: files)
        let seconds = now() - start
        check &+= count
        result = nil
        _ = result
        print(seconds)
    }
    if check == 0 { fail("case \(name) did no work") }
    exit(0)
}

if let (root, size) = options.generate {
    mkdir(root, 0o755)
    let (files, _) = TreeGenerator.write(count: size, to: root + "/tree")
    TreeGenerator.writeFile(root + "/files.txt", files.joined(separator: "\n") + "\n")
    exit(0)
}

let python = options.python ? Peers.findPython() : nil
var results: [PeerMeasurement] = []
for size in options.sizes {
    let root = "/tmp/windlass-bench-\(getpid())-\(size)"
    mkdir(root, 0o755)
    let (files, bytes) = TreeGenerator.write(count: size, to: root + "/tree")
    TreeGenerator.writeFile(root + "/files.txt", files.joined(separator: "\n") + "\n")
    settleDisk()
    print("N = \(size): \(files.count) files, \(bytes / 1024) KiB")
    for benchCase in BenchCase.allCases {
        let measured = Peers.runChild(
            [CommandLine.arguments[0], "--child", benchCase.rawValue, root, "--runs", String(options.runs)],
            name: benchCase.rawValue,
            size: size,
            bytes: bytes
        )
        print("  \(measured.line)")
        results.append(measured)
    }
    if let python {
        let measured = Peers.runPyYAML(python: python, root: root, runs: options.runs, size: size, bytes: bytes)
        print("  \(measured.line)")
        results.append(measured)
    }
    Peers.removeTree(root)
    settleDisk()
}

print("git: \(options.gitFiles)-file repository")
let gitResults: [GitBench.Result]
do {
    gitResults = try GitBench(files: options.gitFiles, runs: options.runs).run()
} catch {
    fail("git cases failed: \(error)")
}
for result in gitResults {
    print("  \(result.name): median \(format(result.ours * 1000, 1)) ms" + (result.peer.map { ", \($0) \(format(result.theirs * 1000, 1)) ms" } ?? ""))
}

var clusterResults: [ClusterMeasurement] = []
settleDisk()
for size in options.clusterSizes {
    let (output, status, rss) = Peers.spawn([CommandLine.arguments[0], "--cluster-only", String(size)])
    guard status == 0, let line = output.split(separator: "\n").first(where: { $0.hasPrefix("CLUSTER ") }) else {
        fail("cluster case failed at \(size) deployments: \(output)")
    }
    let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    let measured = ClusterMeasurement(deployments: Int(fields[0]), pods: Int(fields[1]), apply: fields[2], converge: fields[3], rollout: fields[4], peakRSSKiB: rss)
    print("  cluster \(size) deployments: converge \(format(measured.converge, 2)) s, rolling update \(format(measured.rollout, 2)) s, peak RSS \(rss / 1024) MiB")
    clusterResults.append(measured)
}

var planResults: [PlanMeasurement] = []
for size in options.planSizes {
    var runs: [PlanMeasurement] = []
    for _ in 0..<(size >= 100_000 ? 1 : options.runs) {
        let (output, status, rss) = Peers.spawn([CommandLine.arguments[0], "--plan-only", String(size)])
        guard status == 0, let line = output.split(separator: "\n").first(where: { $0.hasPrefix("PLAN ") }) else {
            fail("plan case failed at \(size) resources: \(output)")
        }
        let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        runs.append(PlanMeasurement(resources: Int(f[0]), changes: Int(f[1]), load: f[2], validate: f[3], plan: f[4], render: f[5], peakRSSKiB: rss))
    }
    let median = runs.sorted { $0.total < $1.total }[runs.count / 2]
    print("  plan \(median.resources) resources (\(median.changes) changed): \(format(median.total, 3)) s end to end, peak RSS \(median.peakRSSKiB / 1024) MiB")
    planResults.append(median)
}

settleDisk()
var syncResult: SyncMeasurement?
do {
    var arguments = [CommandLine.arguments[0], "--sync-only"]
    if options.clusterSizes == [20] { arguments += ["--cluster-deployments", "20"] }
    let (output, status, rss) = Peers.spawn(arguments)
    guard status == 0, let line = output.split(separator: "\n").first(where: { $0.hasPrefix("SYNC ") }) else {
        fail("sync cases failed: \(output)")
    }
    let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    syncResult = SyncMeasurement(canaries: f[0], direct: f[1], executor: f[2], deployments: Int(f[3]), slowPods: f[4], peakRSSKiB: rss)
    print("  sync: release with two canaries \(format(f[0], 2)) s; \(Int(f[3])) Deployments: direct \(format(f[1], 2)) s, executor \(format(f[2], 2)) s")
}

var policyResult: PolicyMeasurement?
do {
    let (output, status, rss) = Peers.spawn([CommandLine.arguments[0], "--policy-only", String(options.policyResources), "--runs", String(options.runs)])
    guard status == 0, let line = output.split(separator: "\n").first(where: { $0.hasPrefix("POLICY ") }) else {
        fail("policy case failed: \(output)")
    }
    let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    policyResult = PolicyMeasurement(
        resources: Int(f[0]), policies: Int(f[1]), results: Int(f[2]), median: f[3], subsetResources: Int(f[4]), subset: f[5],
        checkov: f[6] < 0 ? nil : f[6], peakRSSKiB: rss)
    print("  policy: \(Int(f[0])) resources against \(Int(f[1])) policies: \(format(f[3] * 1000, 1)) ms")
}

var serveResult: ServeMeasurement?
do {
    let (output, status, _) = Peers.spawn([CommandLine.arguments[0], "--serve-only"] + (options.pushes == 5 ? ["--smoke"] : []))
    // The idle daemon, then (once its process has ended and let go of the state) the same
    // daemon restarted on the state it left.
    let idleRoot = try TemporaryDirectory()
    let (idleOutput, idleStatus, idlePeak) = Peers.spawn(
        [CommandLine.arguments[0], "--serve-idle", String(options.idleResources), "--root", idleRoot.path] + (options.pushes == 5 ? ["--smoke"] : []))
    let (restartOutput, restartStatus, _) = Peers.spawn([CommandLine.arguments[0], "--serve-restart", idleRoot.path])
    guard status == 0, idleStatus == 0, restartStatus == 0, let line = output.split(separator: "\n").first(where: { $0.hasPrefix("SERVE ") }),
        let idle = idleOutput.split(separator: "\n").first(where: { $0.hasPrefix("IDLE ") }),
        let restart = restartOutput.split(separator: "\n").first(where: { $0.hasPrefix("RESTART ") })
    else { fail("serve cases failed: \(output)\(idleOutput)\(restartOutput)") }
    let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    let g = idle.split(separator: " ").dropFirst().compactMap { Double($0) } + restart.split(separator: " ").dropFirst().compactMap { Double($0) }
    serveResult = ServeMeasurement(
        pushes: Int(f[0]), p50: f[1], p99: f[2], idleResources: Int(g[0]), idleRSSKiB: Int(g[1]), idleCPU: g[2], idleSync: g[3], idlePeakKiB: idlePeak,
        restartRSSKiB: Int(g[4]), restartSeconds: g[5])
    print("  serve: push → synced p50 \(format(f[1] * 1000, 1)) ms, p99 \(format(f[2] * 1000, 1)) ms; idle with \(Int(g[0])) resources: \(Int(g[1]) / 1024) MiB, \(format(g[2] * 100, 2)) % CPU; restarted: \(Int(g[4]) / 1024) MiB")
}

settleDisk()
var processResults: [ProcessMeasurement] = []
do {
    let (output, status, _) = Peers.spawn(
        [CommandLine.arguments[0], "--process-only", "--process-apps", String(options.processApps), "--runs", String(min(options.runs, 3))])
    guard status == 0 else { fail("whole-process cases failed: \(output)") }
    for line in output.split(separator: "\n") where line.hasPrefix("PROCESS ") {
        let fields = line.split(separator: " ", maxSplits: 3)
        guard fields.count == 4, let seconds = Double(fields[1]), let rss = Int(fields[2]) else { continue }
        processResults.append(ProcessMeasurement(name: String(fields[3]), median: seconds, peakRSSKiB: rss))
        print("  process: \(fields[3]): \(format(seconds, 2)) s, peak RSS \(rss / 1024) MiB")
    }
}

settleDisk()
var kubeAPIResult: KubeAPIBench.Result? = nil
do {
    let (output, status, _) = Peers.spawn(
        [CommandLine.arguments[0], "--kube-api-only", "--process-apps", String(options.processApps), "--runs", String(min(options.runs, 5))])
    guard status == 0 else { fail("Kubernetes API cases failed: \(output)") }
    for line in output.split(separator: "\n") where line.hasPrefix("KUBEAPI ") {
        let f = line.split(separator: " ").dropFirst().map { Double($0) ?? 0 }
        guard f.count == 12 else { continue }
        kubeAPIResult = KubeAPIBench.Result(
            pods: Int(f[0]), listSeconds: f[1], listBytes: Int(f[2]), encodeFloor: f[3], fanOutP50: f[5], fanOutP99: f[6], watchers: Int(f[4]),
            idleWatches: Int(f[7]), idleRSSDeltaKiB: Int(f[8]), kubectlDeployments: Int(f[9]), kubectlSeconds: f[10], serverCPUSeconds: f[11])
    }
    if let r = kubeAPIResult { print("  kube-api: LIST \(r.pods) pods \(format(r.listSeconds, 3)) s, fan-out p50 \(format(r.fanOutP50 * 1000, 2)) ms") }
}

settleDisk()
var kubeDestinationResult: KubeDestinationBench.Result? = nil
do {
    let (output, status, _) = Peers.spawn([CommandLine.arguments[0], "--kube-dest-only", "--process-apps", String(options.processApps), "--runs", String(min(options.runs, 5))])
    guard status == 0 else { fail("Kubernetes destination cases failed: \(output)") }
    for line in output.split(separator: "\n") where line.hasPrefix("KUBEDEST ") {
        let f = line.split(separator: " ").dropFirst().map { Double($0) ?? 0 }
        guard f.count == 12 else { continue }
        kubeDestinationResult = KubeDestinationBench.Result(
            syncObjects: Int(f[0]), syncSeconds: f[1], kubectlSeconds: f[2], planObjects: Int(f[3]), coldPlanSeconds: f[4], warmPlanSeconds: f[5],
            embeddedPlanSeconds: f[6], driftP50: f[7], driftP90: f[8], informerObjects: Int(f[9]), informerKiBPerObject: f[10], embeddedKiBPerObject: f[11])
    }
    if let r = kubeDestinationResult { print("  kube-dest: sync \(r.syncObjects) objects \(format(r.syncSeconds, 2)) s, kubectl \(format(r.kubectlSeconds, 2)) s") }
}

settleDisk()
var kustomizeResult: KustomizeBench.Result? = nil
do {
    let (output, status, _) = Peers.spawn([CommandLine.arguments[0], "--kustomize-only", "--runs", String(min(options.runs, 5))])
    guard status == 0 else { fail("kustomize cases failed: \(output)") }
    for line in output.split(separator: "\n") where line.hasPrefix("KUSTOMIZE ") {
        let f = line.split(separator: " ").dropFirst().map { Double($0) ?? 0 }
        guard f.count == 6 else { continue }
        kustomizeResult = KustomizeBench.Result(
            resources: Int(f[0]), kubectlSeconds: f[1], coldSeconds: f[2], warmSeconds: f[3], warmBuilds: Int(f[5]), coldBuilds: Int(f[4]))
    }
    if let r = kustomizeResult { print("  kustomize: plan cold \(format(r.coldSeconds, 3)) s, kubectl kustomize \(format(r.kubectlSeconds, 3)) s") }
}

settleDisk()
var uiResult: UIBench.Result? = nil
do {
    let (output, status, _) = Peers.spawn(
        [CommandLine.arguments[0], "--ui-only", "--ui-apps", String(options.uiApps), "--ui-resources", String(options.uiResources), "--ui-changes", String(options.uiChanges)])
    guard status == 0 else { fail("web UI cases failed: \(output)") }
    for line in output.split(separator: "\n") where line.hasPrefix("UIBENCH ") {
        let f = line.split(separator: " ").dropFirst().map { Double($0) ?? 0 }
        guard f.count == 10 else { continue }
        uiResult = UIBench.Result(
            apps: Int(f[0]), resources: Int(f[1]), listResponse: f[2], treeResponse: f[3], treeColdResponse: f[4], listRender: f[5], appRender: f[6],
            changeP50: f[7], changeP90: f[8], changes: Int(f[9]))
    }
    if let r = uiResult { print("  ui: first render \(format(r.listRender, 3)) s / \(format(r.appRender, 3)) s, change → page p50 \(format(r.changeP50 * 1000, 0)) ms") }
}

settleDisk()
var forecastResults: [ForecastBench.Case] = []
do {
    var arguments = [CommandLine.arguments[0], "--forecast-only", "--runs", String(min(options.runs, 3))]
    if options.forecastDeployments != 1_000 { arguments += ["--forecast-deployments", String(options.forecastDeployments)] }
    let (output, status, _) = Peers.spawn(arguments)
    guard status == 0 else { fail("forecast cases failed: \(output)") }
    let verdicts = output.split(separator: "\n").filter { $0.hasPrefix("VERDICT ") }.map { String($0.dropFirst("VERDICT ".count)) }
    for line in output.split(separator: "\n") where line.hasPrefix("FORECAST ") {
        let fields = line.split(separator: " ", maxSplits: 6)
        guard fields.count == 7, let command = Double(fields[1]), let plan = Double(fields[2]), let forecast = Double(fields[3]),
            let virtual = Double(fields[4]), let rss = Int(fields[5])
        else { continue }
        forecastResults.append(ForecastBench.Case(
            name: String(fields[6]), commandSeconds: command, planSeconds: plan, forecastSeconds: forecast, virtualSeconds: virtual, peakRSSKiB: rss,
            verdict: forecastResults.count < verdicts.count ? verdicts[forecastResults.count] : ""))
    }
    for line in output.split(separator: "\n") where line.hasPrefix("forecast: ") { print("  " + line) }
}

var report = Report(
    results: results, gitResults: gitResults, clusterResults: clusterResults, planResults: planResults, syncResult: syncResult,
    policyResult: policyResult, serveResult: serveResult, processResults: processResults, kubeAPIResult: kubeAPIResult, runs: options.runs, python: python)
report.kubeDestinationResult = kubeDestinationResult
report.kustomizeResult = kustomizeResult
report.uiResult = uiResult
report.forecastResults = forecastResults
print()
print(report.table())
print(report.targets())
if let output = options.output {
    TreeGenerator.writeFile(output, report.markdown())
    print("wrote \(output)")
}
