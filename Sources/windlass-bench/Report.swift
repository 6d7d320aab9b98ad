import Glibc

/// The table and the target checks, as text and as BENCHMARKS.md.
/// The embedded cluster at one size.
struct ClusterMeasurement {
    var deployments: Int
    var pods: Int
    var apply: Double
    var converge: Double
    var rollout: Double
    var peakRSSKiB: Int
}

/// One end-to-end plan (median of the runs at one size).
struct PlanMeasurement {
    var resources: Int
    var changes: Int
    var load: Double
    var validate: Double
    var plan: Double
    var render: Double
    var peakRSSKiB: Int
    var total: Double { load + validate + plan + render }
}

/// The rollout executor's cases.
struct SyncMeasurement {
    var canaries: Double
    var direct: Double
    var executor: Double
    var deployments: Int
    /// The same release with the simulation's default 1 s pod start.
    var slowPods: Double
    var peakRSSKiB: Int
}

/// The built-in pack over the generated set, and Checkov on a subset.
struct PolicyMeasurement {
    var resources: Int
    var policies: Int
    var results: Int
    var median: Double
    var subsetResources: Int
    var subset: Double
    var checkov: Double?
    var peakRSSKiB: Int
}

/// The daemon's cases.
struct ServeMeasurement {
    var pushes: Int
    var p50: Double
    var p99: Double
    var idleResources: Int
    var idleRSSKiB: Int
    var idleCPU: Double
    var idleSync: Double
    var idlePeakKiB: Int
    /// The same daemon restarted on the state it left, once synced again.
    var restartRSSKiB: Int
    var restartSeconds: Double
}

/// One whole-process case: the median wall time of the `windlass` binary and its peak RSS.
struct ProcessMeasurement {
    var name: String
    var median: Double
    var peakRSSKiB: Int
}

struct Report {
    var results: [PeerMeasurement]
    var gitResults: [GitBench.Result]
    var clusterResults: [ClusterMeasurement]
    var planResults: [PlanMeasurement]
    var syncResult: SyncMeasurement?
    var policyResult: PolicyMeasurement?
    var serveResult: ServeMeasurement?
    var processResults: [ProcessMeasurement] = []
    var kubeAPIResult: KubeAPIBench.Result? = nil
    var kubeDestinationResult: KubeDestinationBench.Result? = nil
    var kustomizeResult: KustomizeBench.Result? = nil
    var uiResult: UIBench.Result? = nil
    var forecastResults: [ForecastBench.Case] = []
    var runs: Int
    var python: String?

    private func find(_ name: String, _ size: Int) -> PeerMeasurement? {
        results.first { $0.name == name && $0.size == size }
    }

    func table() -> String {
        var out = "| N | MiB | case | median s | × floor | MB/s | peak RSS MiB |\n|---:|---:|---|---:|---:|---:|---:|\n"
        for m in results {
            let floor = find(BenchCase.libyamlScan.rawValue, m.size)?.median ?? .nan
            out += "| \(m.size) | \(format(Double(m.bytes) / 1_048_576, 1)) | \(m.name) | \(format(m.median, 3)) | "
            out += "\(format(m.median / floor, 2)) | \(format(Double(m.bytes) / 1e6 / m.median, 1)) | \(m.peakRSSKiB / 1024) |\n"
        }
        return out
    }

    /// The issue's targets, each with its measured value and whether it was met.
    func targets() -> String {
        var lines: [String] = []
        func check(_ met: Bool, _ text: String) {
            lines.append("- \(met ? "met" : "MISSED"): \(text)")
        }
        let n = 10_000
        if let floor = find(BenchCase.libyamlScan.rawValue, n)?.median {
            if let load = find(BenchCase.load.rawValue, n)?.median {
                check(load <= 2 * floor, "load of 10,000 Deployments ≤ 2× the libyaml scan: \(format(load / floor, 2))× (all cores)")
            }
            if let one = find(BenchCase.loadOneThread.rawValue, n)?.median {
                lines.append("  - on one thread: \(format(one / floor, 2))×")
            }
            if let validate = find(BenchCase.loadValidate.rawValue, n)?.median {
                check(validate <= 4 * floor, "load + schema validation ≤ 4× the libyaml scan: \(format(validate / floor, 2))×")
            }
        }
        if let py = find("PyYAML CSafeLoader", n)?.median, let load = find(BenchCase.load.rawValue, n)?.median {
            check(py >= 8 * load, "≥ 8× faster than PyYAML's C loader: \(format(py / load, 1))× faster")
            if let one = find(BenchCase.loadOneThread.rawValue, n)?.median {
                lines.append("  - on one thread: \(format(py / one, 1))× faster")
            }
        }
        if gitResults.count >= 3 {
            let fetch = gitResults[0]
            let load = gitResults[1]
            let changed = gitResults[2]
            check(fetch.ours <= 1.5 * fetch.theirs, "incremental fetch ≤ 1.5× `git fetch`: \(format(fetch.ours / fetch.theirs, 2))× (\(format(fetch.ours * 1000, 1)) ms vs \(format(fetch.theirs * 1000, 1)) ms)")
            check(load.ours <= 1.2 * load.theirs, "loading a commit from the object database ≤ 1.2× a checkout: \(format(load.ours / load.theirs, 2))× (\(format(load.ours * 1000, 1)) ms vs \(format(load.theirs * 1000, 1)) ms)")
            check(changed.ours <= 0.020, "changed paths between two commits ≤ 20 ms: \(format(changed.ours * 1000, 2)) ms")
        }
        if gitResults.count >= 4 {
            let pullRequest = gitResults[3]
            check(pullRequest.ours <= 0.300, "\(pullRequest.name) ≤ 300 ms: \(format(pullRequest.ours * 1000, 1)) ms (parsing both commits in full: \(format(pullRequest.theirs * 1000, 1)) ms)")
        }
        if let plan = planResults.first(where: { $0.resources >= 10_000 && $0.resources < 100_000 }) {
            check(plan.total <= 1.0, "plan of \(plan.resources) resources against as many live (1 % changed) ≤ 1.0 s end to end: \(format(plan.total, 3)) s")
            check(plan.peakRSSKiB <= 600 * 1000, "… within 600 MB RSS: \(plan.peakRSSKiB / 1024) MiB")
        }
        if let api = kubeAPIResult {
            check(api.listSeconds <= 0.3, "LIST of \(api.pods) pods as JSON ≤ 0.3 s: \(format(api.listSeconds, 3)) s")
            check(api.listSeconds <= 1.5 * api.encodeFloor, "… ≤ 1.5× encoding the same objects in process: \(format(api.listSeconds / api.encodeFloor, 2))×")
            check(api.fanOutP50 <= 0.005, "a write reaches \(api.watchers) watchers, p50 ≤ 5 ms: \(format(api.fanOutP50 * 1000, 2)) ms")
            check(api.fanOutP99 <= 0.050, "… p99 ≤ 50 ms: \(format(api.fanOutP99 * 1000, 2)) ms")
            check(api.idleRSSDeltaKiB <= 50 * 1000, "\(api.idleWatches) idle watches ≤ 50 MB more RSS: \(api.idleRSSDeltaKiB / 1024) MiB")
            if api.kubectlDeployments > 0 {
                check(api.serverCPUSeconds < api.kubectlSeconds / 2, "kubectl apply --server-side of \(api.kubectlDeployments) Deployments: \(format(api.kubectlSeconds, 2)) s, the server's CPU \(format(api.serverCPUSeconds, 2)) s (not what makes it slow)")
            }
        }
        if let dest = kubeDestinationResult {
            check(dest.syncSeconds * 5 <= dest.kubectlSeconds, "sync of \(dest.syncObjects) objects to a Kubernetes API ≥ 5× faster than kubectl apply --server-side: \(format(dest.kubectlSeconds / dest.syncSeconds, 1))× (\(format(dest.syncSeconds, 2)) s vs \(format(dest.kubectlSeconds, 2)) s)")
            check(dest.warmPlanSeconds <= 1.3 * dest.embeddedPlanSeconds, "plan of \(dest.planObjects) objects from the watch cache ≤ 1.3× the embedded plan: \(format(dest.warmPlanSeconds / dest.embeddedPlanSeconds, 2))× (\(format(dest.warmPlanSeconds, 3)) s vs \(format(dest.embeddedPlanSeconds, 3)) s)")
            check(dest.coldPlanSeconds <= 3, "… cold, the windlass binary listing the cluster, ≤ 3 s: \(format(dest.coldPlanSeconds, 2)) s")
            check(dest.driftP50 <= 1, "a change made with kubectl reported as drift through the watch, p50 ≤ 1 s: \(format(dest.driftP50 * 1000, 0)) ms")
            check(dest.informerKiBPerObject <= 2 * dest.embeddedKiBPerObject, "the watch cache per object ≤ 2× the embedded store's: \(format(dest.informerKiBPerObject / dest.embeddedKiBPerObject, 2))× (\(format(dest.informerKiBPerObject, 2)) KiB vs \(format(dest.embeddedKiBPerObject, 2)) KiB)")
        }
        if let k = kustomizeResult {
            check(k.coldSeconds <= 1.2 * k.kubectlSeconds, "plan of a kustomize overlay of \(k.resources) resources ≤ 1.2× kubectl kustomize alone: \(format(k.coldSeconds / k.kubectlSeconds, 2))× (\(format(k.coldSeconds, 3)) s vs \(format(k.kubectlSeconds, 3)) s)")
            check(k.warmBuilds == 0, "… a second plan of the same commit runs no kustomize: \(k.warmBuilds) builds (\(format(k.warmSeconds, 3)) s)")
        }
        if let ui = uiResult {
            check(ui.listRender <= 1, "web UI: the applications page with \(ui.apps) applications, first render ≤ 1 s: \(format(ui.listRender, 3)) s")
            check(ui.appRender <= 1, "… an application page with \(ui.resources) resources, first render ≤ 1 s: \(format(ui.appRender, 3)) s")
            check(ui.listResponse <= 0.1 && ui.treeResponse <= 0.1, "… the daemon's answers for them ≤ 100 ms: \(format(ui.listResponse * 1000, 1)) ms and \(format(ui.treeResponse * 1000, 1)) ms (the tree's first answer, which plans: \(format(ui.treeColdResponse * 1000, 0)) ms)")
            check(ui.changeP50 <= 1, "… a change on the cluster reaches an open page, p50 ≤ 1 s: \(format(ui.changeP50 * 1000, 0)) ms (p90 \(format(ui.changeP90 * 1000, 0)) ms)")
        }
        if let large = forecastResults.first, forecastResults.count == 2 {
            let canary = forecastResults[1]
            check(large.forecastSeconds <= 2, "forecast of a change to \(large.name): ≤ 2 s wall for \(format(large.virtualSeconds / 3600, 1)) h of cluster time: \(format(large.forecastSeconds, 2)) s (the whole plan --forecast \(format(large.commandSeconds, 2)) s, plan alone \(format(large.planSeconds, 2)) s)")
            check(canary.forecastSeconds <= 0.5, "forecast of \(canary.name) ≤ 0.5 s: \(format(canary.forecastSeconds, 3)) s (the whole plan --forecast \(format(canary.commandSeconds, 3)) s)")
        }
        if let apply = processResults.first(where: { $0.name.hasPrefix("cluster apply -f") }) {
            check(apply.median <= 5, "\(apply.name) ≤ 5 s, as users run it: \(format(apply.median, 2)) s")
        }
        if let plan = planResults.first(where: { $0.resources >= 100_000 }) {
            check(plan.total <= 10, "plan of \(plan.resources) resources ≤ 10 s: \(format(plan.total, 2)) s")
            check(plan.peakRSSKiB <= 3 * 1000 * 1000, "… within 3 GB RSS: \(plan.peakRSSKiB / 1024) MiB")
        }
        if let sync = syncResult {
            check(sync.canaries <= 5, "sync of the bundled manifests' release with two canaries (pauses 0 s, health gates) ≤ 5 s: \(format(sync.canaries, 2)) s")
            check(sync.executor <= 1.3 * sync.direct, "executor overhead for \(sync.deployments) Deployments ≤ 1.3× applying them directly: \(format(sync.executor / sync.direct, 2))× (\(format(sync.executor, 2)) s vs \(format(sync.direct, 2)) s)")
        }
        if let policy = policyResult {
            check(policy.median <= 0.300, "\(policy.resources) resources against the built-in pack (\(policy.policies) policies) ≤ 300 ms: \(format(policy.median * 1000, 1)) ms")
        }
        if let serve = serveResult {
            check(serve.p50 <= 0.5, "push → synced through the webhook, one-resource change, over \(serve.pushes) pushes: p50 ≤ 500 ms: \(format(serve.p50 * 1000, 1)) ms")
            check(serve.p99 <= 1.5, "… p99 ≤ 1.5 s: \(format(serve.p99 * 1000, 1)) ms")
            check(serve.idleRSSKiB * 1024 <= 400_000_000, "idle daemon tracking \(serve.idleResources) resources: RSS ≤ 400 MB: \(serve.idleRSSKiB / 1024) MiB")
            check(serve.restartRSSKiB * 1024 <= 400_000_000, "… restarted on its state: RSS ≤ 400 MB: \(serve.restartRSSKiB / 1024) MiB")
            check(serve.idleCPU <= 0.02, "… CPU ≤ 2 % of one core: \(format(serve.idleCPU * 100, 2)) %")
        }
        if let thousand = clusterResults.first(where: { $0.deployments == 1_000 }) {
            check(thousand.converge <= 5, "1,000 Deployments × 10 replicas applied and converged ≤ 5 s: \(format(thousand.converge, 2)) s")
            check(thousand.peakRSSKiB <= 1024 * 1024, "… within 1 GB RSS: \(thousand.peakRSSKiB / 1024) MiB")
            check(thousand.rollout <= 10, "a rolling update of all 1,000 converged ≤ 10 s: \(format(thousand.rollout, 2)) s")
        }
        if let large = clusterResults.first(where: { $0.pods >= 100_000 }) {
            check(large.peakRSSKiB <= 3 * 1024 * 1024, "100,000 pods held: RSS ≤ 3 GB: \(large.peakRSSKiB / 1024) MiB (peak, rolling update included)")
        }
        let peak = results.filter { $0.size == 50_000 && $0.name != "PyYAML CSafeLoader" }.map(\.peakRSSKiB).max()
        if let peak {
            check(peak <= 1_536 * 1024, "50,000 Deployments: peak RSS ≤ 1.5 GB: \(peak / 1024) MiB (largest Windlass case)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func gitTable() -> String {
        var out = "| case | median ms | peer | peer median ms | ratio |\n|---|---:|---|---:|---:|\n"
        for r in gitResults {
            out += "| \(r.name) | \(format(r.ours * 1000, 2)) | \(r.peer ?? "") | "
            out += r.peer == nil ? "| |\n" : "\(format(r.theirs * 1000, 2)) | \(format(r.ours / r.theirs, 2)) |\n"
        }
        return out
    }

    func clusterTable() -> String {
        var out = "| Deployments | pods | apply s | apply + converge s | rolling update s | peak RSS MiB |\n|---:|---:|---:|---:|---:|---:|\n"
        for c in clusterResults {
            out += "| \(c.deployments) | \(c.pods) | \(format(c.apply, 2)) | \(format(c.converge, 2)) | \(format(c.rollout, 2)) | \(c.peakRSSKiB / 1024) |\n"
        }
        return out
    }

    func processTable() -> String {
        var out = "| case | median s | peak RSS MiB |\n|---|---:|---:|\n"
        for p in processResults {
            out += "| \(p.name) | \(format(p.median, 2)) | \(p.peakRSSKiB / 1024) |\n"
        }
        return out
    }

    func planTable() -> String {
        var out = "| resources | changed | load s | validate s | diff + order s | JSON s | total s | peak RSS MiB |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for p in planResults {
            out += "| \(p.resources) | \(p.changes) | \(format(p.load, 3)) | \(format(p.validate, 3)) | \(format(p.plan, 3)) | \(format(p.render, 3)) | \(format(p.total, 3)) | \(p.peakRSSKiB / 1024) |\n"
        }
        return out
    }

    func forecastTable() -> String {
        guard !forecastResults.isEmpty else { return "" }
        var out = "| case | plan --forecast s | plan alone s | forecast s | cluster time s | peak RSS MiB | verdict |\n|---|---:|---:|---:|---:|---:|---|\n"
        for r in forecastResults {
            out += "| \(r.name) | \(format(r.commandSeconds, 3)) | \(format(r.planSeconds, 3)) | \(format(r.forecastSeconds, 3)) | \(format(r.virtualSeconds, 0)) | \(r.peakRSSKiB / 1024) | \(r.verdict) |\n"
        }
        return out
    }

    func markdown() -> String {
        var info = utsname()
        uname(&info)
        let machine = withUnsafeBytes(of: &info.machine) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        let release = withUnsafeBytes(of: &info.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        var date = ""
        var t = time(nil)
        var tm = tm()
        gmtime_r(&t, &tm)
        var buffer = [CChar](repeating: 0, count: 64)
        strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M UTC", &tm)
        date = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return """
            # Benchmarks

            Written by `make bench` (`windlass-bench`, release build) on \(date), on \(cores) cores, \
            Linux \(release) \(machine). Do not edit by hand: run `make bench` again.

            Each case runs in its own child process, \(runs) times over the same files; the table shows
            the median and the child's peak RSS. The tree is synthetic and deterministic: N applications,
            each a Deployment, a Service and a ConfigMap in one file (about 1.2 KB), 100 per directory.

            - **libyaml-scan** is the floor: libyaml's event scan of the same files, a Swift `String` per
              scalar, on one thread (file reads included, directory walk excluded).
            - **load** is Windlass's loader into Resources as users run it (walk, read, parse into
              `Value` with spans, identity checks, namespaces, duplicates), on all cores.
            - **load-1-thread** is the same on one thread, like for like with the floor.
            - **load+validate** adds schema validation, as `windlass validate` does.
            - **PyYAML CSafeLoader** is PyYAML's C loader (`yaml.load_all`) over the same files\
            \(python.map { " (`\($0)`)" } ?? ", not found on this machine").

            \(table())
            ## Git source

            A repository of \(gitResults.first.map { _ in "generated" } ?? "no") manifests (the same generator, one
            application per file), served by `git daemon` on 127.0.0.1. **fetch** adds one commit per run and
            fetches it into an existing mirror (Windlass's libgit2 mirror vs `git fetch --prune` in a
            `git clone --mirror`); **load** reads every manifest of the last commit from the mirror's object
            database vs from the work tree on disk (both on all cores); **changed paths** diffs the first and
            last commits' trees.

            \(gitTable())
            ## Embedded cluster

            Deployments of 10 replicas (start delay 0) applied one by one through server-side apply to an
            embedded cluster of 20 large nodes, then reconciled until every Deployment is Available;
            then all rolled to a new image. Wall times include the SQLite writes (WAL,
            synchronous=FULL); each size runs in its own process for its peak RSS.

            \(clusterTable())
            ## The CLI as users run it

            The `windlass` binary run as a child process (its start, reading its state, its controller
            rounds all counted), median of 3 runs, on a tree of N applications, each a Deployment of
            10 replicas and a Service in one file: `cluster apply -f` into a fresh cluster of 20 nodes
            (converged when it returns), then a read, a plan and a sync against what that left;
            `validate` and `policy check` of the same files, and kubernetes-validate (PyPI, from
            `.venv`; `make pydeps`) on them for comparison.

            \(processTable())
            ## Kubernetes API

            `windlass cluster serve` (release build) as a child process on the state a `cluster apply -f` of
            the N applications above left (N × 10 pods), driven over HTTPS from the bench's process
            (AsyncHTTPClient). **LIST**: `GET /api/v1/pods` as JSON, median of 5, against the floor of encoding
            the same list in process (`JSONWriter.encode`). **Fan-out**: \(kubeAPIResult.map { String($0.watchers) } ?? "N") watches
            of one namespace's ConfigMaps, then 100 merge patches 10 ms apart; the clock runs from sending a
            patch (its durable write included) to each watcher reading the event. **Idle watches**: the
            server's RSS before and after opening that many watches that see nothing. **kubectl**:
            `kubectl.1.33 apply --server-side -f` of N Deployments into a new namespace (the server's
            controllers starting their pods meanwhile), and the server's CPU seconds over the same time.

            \(kubeAPIResult.map { "| case | result |\n|---|---:|\n| LIST \($0.pods) pods (\($0.listBytes / 1024) KiB) | \(format($0.listSeconds, 3)) s |\n| encoding the same in process (floor) | \(format($0.encodeFloor, 3)) s |\n| a write reaches \($0.watchers) watchers, p50 | \(format($0.fanOutP50 * 1000, 2)) ms |\n| … p99 | \(format($0.fanOutP99 * 1000, 2)) ms |\n| \($0.idleWatches) idle watches, RSS added | \($0.idleRSSDeltaKiB / 1024) MiB |\n| kubectl apply --server-side, \($0.kubectlDeployments) Deployments | \(format($0.kubectlSeconds, 2)) s |\n| … the server's CPU meanwhile | \(format($0.serverCPUSeconds, 2)) s |\n" } ?? "")
            ## Kubernetes destinations

            `windlass cluster serve` (release build) as the Kubernetes cluster, reached through its kubeconfig
            (HTTPS, a bearer token), as Windlass reaches any cluster. **Sync**: the `windlass` binary syncs
            \(kubeDestinationResult.map { String($0.syncObjects) } ?? "N") objects (a Deployment with no replicas, a Service and a ConfigMap per
            application, and their Namespace), health waits included; then `kubectl.1.33 apply --server-side -f` of the same
            directory into another namespace. **Plan**: \(kubeDestinationResult.map { String($0.planObjects) } ?? "N") objects synced
            first; *cold* is `windlass plan` as a child process (discovery and every list included, median of 3);
            *warm* is the pipeline in process reading the watch cache (median of the runs); *embedded* is the same
            plan in process over the server's own state directory, opened as the embedded cluster once the server
            stopped. **Drift**: `kubectl patch` of one ConfigMap of the 1,000-object application, timed from
            starting kubectl to a drift report (in process, from the watch cache) that names it; 10 changes.
            **Memory**: RSS added per object by a watch cache of the Deployments, Services and ConfigMaps (a child
            process; the client's own start not counted; lists read in pages of 500, as client-go's reflector reads
            them), beside the RSS per object of an embedded object store holding the same objects (read from the
            server's state, interned as the embedded cluster keeps them).

            \(kubeDestinationResult.map { "| case | result |\n|---|---:|\n| windlass sync, \($0.syncObjects) objects | \(format($0.syncSeconds, 2)) s |\n| kubectl apply --server-side, the same | \(format($0.kubectlSeconds, 2)) s |\n| plan of \($0.planObjects), cold (windlass plan) | \(format($0.coldPlanSeconds, 2)) s |\n| … warm (watch cache) | \(format($0.warmPlanSeconds, 3)) s |\n| … the embedded cluster's plan | \(format($0.embeddedPlanSeconds, 3)) s |\n| kubectl change reported as drift, p50 | \(format($0.driftP50 * 1000, 0)) ms |\n| … p90 | \(format($0.driftP90 * 1000, 0)) ms |\n| watch cache, \($0.informerObjects) objects, per object | \(format($0.informerKiBPerObject, 2)) KiB |\n| embedded store, the same objects, per object | \(format($0.embeddedKiBPerObject, 2)) KiB |\n" } ?? "")
            ## Kustomize sources

            A git repository with a base of \(kustomizeResult.map { String($0.resources) } ?? "N") resources (Deployments and Services, a file
            each pair) and an overlay (namespace, namePrefix, labels, image tags): `windlass plan --path overlays/prod`
            as a child process against an empty embedded cluster, beside `kubectl kustomize overlays/prod` alone
            (median of the runs each). *Cold*: a new state directory each run (the commit's tree written out,
            kustomize run); *warm*: the same commit planned again. kustomize is run through a script that counts
            its builds.

            \(kustomizeResult.map { "| case | result |\n|---|---:|\n| kubectl kustomize | \(format($0.kubectlSeconds, 3)) s |\n| windlass plan, cold | \(format($0.coldSeconds, 3)) s (\($0.coldBuilds) builds) |\n| windlass plan, warm | \(format($0.warmSeconds, 3)) s (\($0.warmBuilds) builds) |\n" } ?? "")
            ## Web UI

            `windlass serve` (a child process) with \(uiResult.map { String($0.apps) } ?? "N") applications on the embedded cluster, one of them
            (`big`) holding \(uiResult.map { String($0.resources) } ?? "N") ConfigMaps, another (`small`) a Deployment. *Answers*: the daemon's
            `GET /api/v1/applications` and `GET /api/v1/applications/big/resources` over HTTP, median of 10 (the tree's first
            answer after the sync, which plans, apart). *First render*, in headless chromium driven by Selenium
            (`scripts/ui-bench.py`): from navigation to the page showing every row or tree item, median of 3.
            *Change → page*: from starting `windlass cluster scale deployment/web` beside the daemon to the open
            page of `small` showing that many pods (the CLI's start, the controllers and the event stream included).

            \(uiResult.map { "| case | result |\n|---|---:|\n| applications answer (\($0.apps)) | \(format($0.listResponse * 1000, 1)) ms |\n| resource tree answer (\($0.resources)) | \(format($0.treeResponse * 1000, 1)) ms |\n| … its first answer (plans) | \(format($0.treeColdResponse * 1000, 0)) ms |\n| applications page, first render | \(format($0.listRender, 3)) s |\n| application page, first render | \(format($0.appRender, 3)) s |\n| change → page, p50 | \(format($0.changeP50 * 1000, 0)) ms |\n| … p90 | \(format($0.changeP90 * 1000, 0)) ms |\n" } ?? "")
            ## Forecasts

            `windlass plan --forecast --format json` as a child process on a state synced beforehand, beside the
            same `windlass plan` without the forecast (median of the runs each). *Forecast*: the forecast's own
            wall time as it reports it (`wall_seconds`: reading the cluster for the twin, the twin's runs — the
            sync with gates assumed to pass, and the first gate's abort path when there is one). *Cluster time*:
            the virtual time both runs covered. Large: 1,000 Deployments × 10 replicas on 100 nodes, in 20
            waves of 50, pods ready 25 s after they start, one extra pod at a time; the change is a new image
            for all. Canary: the bundled manifests, a new Keystone image through its canary (weights, pauses,
            a Prometheus gate assumed to pass).

            \(forecastTable())
            ## Plans

            `windlass plan` end to end without the cluster read: load and validate the generated set, diff it
            against the live objects a sync of it leaves (tracking metadata, managed fields, defaults,
            server metadata and status, 1 % of the resources scaled by someone else), order it into waves,
            and render the JSON plan. The live objects are built before the clock starts; the peak RSS is
            the whole child's, live objects included. The pull-request plan is in the git table above.

            \(planTable())
            ## Sync

            On the real clock (pods start after 1 s unless told otherwise). **Release with two canaries**: the
            bundled manifests synced once (not timed), then Keystone and Nova API released together, each
            through its canary (pauses set to 0 s, gates on the canary's health instead of Prometheus, pods
            Ready as they start, as in the cluster case), each promoted; and the same with the simulation's
            default 1 s pod start, where each of the two waves waits for two canary sizes and a promotion. **Executor overhead**: \(syncResult.map { String($0.deployments) } ?? "N") Deployments of 10 replicas
            applied directly and reconciled until Available, against a sync of the same objects through the
            executor (snapshot, plan, revision, applies, health waits), each on a fresh cluster.

            \(syncResult.map { "| case | seconds |\n|---|---:|\n| release with two canaries | \(format($0.canaries, 2)) |\n| the same with 1 s pod starts (for the record) | \(format($0.slowPods, 2)) |\n| \($0.deployments) Deployments applied directly | \(format($0.direct, 2)) |\n| the same through the executor | \(format($0.executor, 2)) |\n" } ?? "")
            ## Policies

            The built-in pack (`policies/`) judging the generated set as plan and sync do: every rule of every
            policy on every resource, workloads' pod templates included, on all cores (the set is loaded
            before the clock starts). Then a subset of about 1,000 resources end to end (load and judge), and
            `checkov -d` on the same files where Checkov is installed (its own start-up included), for the record.

            \(policyResult.map { "| case | result |\n|---|---:|\n| \($0.resources) resources × \($0.policies) policies (\($0.results) verdicts), median | \(format($0.median * 1000, 1)) ms |\n| \($0.subsetResources) resources, load + judge | \(format($0.subset * 1000, 1)) ms |\n| `checkov -d` on the same \($0.subsetResources) | \($0.checkov.map { format($0, 2) + " s" } ?? "not installed") |\n| peak RSS | \($0.peakRSSKiB / 1024) MiB |\n" } ?? "")
            ## Daemon

            `windlass serve` in the bench's process. **Push → synced**: a repository behind `git daemon` on
            127.0.0.1, one application polling hourly; each of \(serveResult.map { String($0.pushes) } ?? "N") times a ConfigMap
            changes in a new commit, is pushed, and a signed generic webhook is sent; the clock runs from the
            webhook until `/api/v1/applications/cloud` shows the commit synced (fetch, load, plan, sync, health).
            **Idle**: a daemon tracking the generated set (synced first, on 20 nodes), then left alone; its CPU
            over the measured seconds as a share of one core, and its resident set then.

            \(serveResult.map { "| case | result |\n|---|---:|\n| push → synced, p50 | \(format($0.p50 * 1000, 1)) ms |\n| push → synced, p99 | \(format($0.p99 * 1000, 1)) ms |\n| idle, \($0.idleResources) resources: first sync | \(format($0.idleSync, 1)) s |\n| idle: RSS | \($0.idleRSSKiB / 1024) MiB (peak \($0.idlePeakKiB / 1024) MiB) |\n| idle: CPU | \(format($0.idleCPU * 100, 2)) % of a core |\n| restarted on its state: synced | \(format($0.restartSeconds, 1)) s |\n| restarted: RSS | \($0.restartRSSKiB / 1024) MiB |\n" } ?? "")
            ## Targets

            \(targets())
            """
    }
}
