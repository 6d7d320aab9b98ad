import ArgumentParser
import WindlassCluster
import WindlassCore
import WindlassGit
import WindlassManifest
import WindlassPlan
import WindlassRollout

#if canImport(Glibc)
import Glibc
#endif

/// `windlass sync`: makes the cluster match the manifests, wave by wave.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Apply the plan to the embedded cluster: wave by wave, each waited on until healthy, hooks in their phases, pruning last.",
        discussion: "Exit status: 0 synced (or nothing to do), 1 the sync failed (the reason is printed), 2 usage or input error."
    )

    @OptionGroup(title: "Source") var source: SourceFlags
    @OptionGroup(title: "Plan") var flags: PlanFlags

    @Option(help: "How long each wave may take to become healthy, in seconds.")
    var waveTimeout: Double = 300

    func validate() throws {
        guard waveTimeout > 0 else { throw ValidationError("--wave-timeout must be positive") }
    }

    func run() async throws {
        let planner = flags.planner
        let resolved = try source.resolve()
        let set = try Planning.load([.tree(resolved.tree)], namespace: flags.namespace, failureCode: 2)
        let cluster = try await StateOptions.open(source.stateDirectory)
        let live = try await Planning.snapshot(stateDirectory: source.stateDirectory, for: [set], planner: planner, cluster: cluster)
        let plan = planner.plan(set, source: Planning.source(resolved), live: live)
        try Planning.stopOnErrors(plan.diagnostics, failureCode: 2)
        for warning in plan.warnings { printError("warning: \(warning)") }
        let revision = resolved.commit.map { " at \($0.shortSHA)" } ?? ""
        guard plan.summary.hasChanges else {
            print("application \"\(flags.application)\"\(revision): \(plan.summary.line())")
            return
        }
        print("syncing application \"\(flags.application)\"\(revision): \(plan.summary.line())")
        fflush(nil)
        let clock = SystemClock()
        let driver = SyncDriver(
            now: { clock.now() },
            pass: { seconds in
                if seconds > 0 { try await Task.sleep(for: .milliseconds(Int(seconds * 1000))) }
                try await cluster.reconcile()
            })
        let executor = SyncExecutor(backend: cluster, driver: driver, options: SyncOptions(waveTimeout: waveTimeout))
        let progress = ProgressLog()
        let result = await executor.run(plan) { event in progress.log(event) }
        let seconds = (result.finishedAt - result.startedAt)
        switch result.outcome {
        case .succeeded:
            print("synced: \(result.resources.count) resource\(result.resources.count == 1 ? "" : "s") in \(String(format1: seconds)) s")
        case .failed(let reason):
            printError("sync failed: \(reason)")
            throw ExitCode(1)
        }
    }
}

/// Plain progress lines, one per event (waiting lines at most every 5 s per stage).
final class ProgressLog: @unchecked Sendable {
    private var lastWaiting: [String: Double] = [:]

    func log(_ event: SyncEvent) {
        switch event {
        case .stageStarted(let stage, let count):
            print("\(stage): \(count) resource\(count == 1 ? "" : "s")")
        case .applied(let id, let action):
            let verb: String
            switch action {
            case .create: verb = "created"
            case .update: verb = "configured"
            case .replace: verb = "replaced"
            case .delete: verb = "pruned"
            case .noop: verb = "unchanged"
            }
            print("  \(KindNames.reference(id)) \(verb)")
        case .waiting(let stage, let pending):
            let now = SystemClock().now()
            if now - (lastWaiting[stage.description] ?? 0) >= 5 {
                lastWaiting[stage.description] = now
                let list = pending.prefix(3).map { "\(KindNames.reference($0.0)) (\($0.1))" }.joined(separator: ", ")
                print("  waiting for \(pending.count): \(list)\(pending.count > 3 ? ", …" : "")")
            }
        case .stageFinished(let stage):
            print("  \(stage) healthy")
        case .hookFinished(let id, let succeeded, let message):
            print("  hook \(KindNames.reference(id)) \(succeeded ? "succeeded" : "failed"): \(message)")
        case .retrying(let id, let attempt, let error):
            print("  retrying \(KindNames.reference(id)) (attempt \(attempt + 1)): \(error)")
        }
        fflush(nil)
    }
}

extension String {
    /// `1.2`: one decimal.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
