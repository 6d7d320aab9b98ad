import ArgumentParser
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassPlan
import WindlassRollout
import WindlassPipeline

#if canImport(Glibc)
import Glibc
#endif

/// `windlass rollout`: the canaries of an application, as `kubectl argo rollouts` users drive them.
struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Show and steer canaries: status, promote, abort, retry.",
        subcommands: [Status.self, Promote.self, Abort.self, Retry.self]
    )

    /// Which canary: a Deployment (or `statefulset/NAME`) in a namespace.
    struct Target: ParsableArguments {
        @Argument(help: "The workload: NAME (a Deployment) or statefulset/NAME (its namespace: -n).") var name: String

        func id(namespace: String) -> ResourceID {
            let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
            let kind = parts.count == 2 && parts[0].lowercased().hasPrefix("statefulset") ? "StatefulSet" : "Deployment"
            return ResourceID(group: "apps", version: "v1", kind: kind, namespace: namespace, name: parts.last ?? name)
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Where a canary is: step, weight, phase, last measurements.")

        @OptionGroup var target: Target
        @Option(name: .shortAndLong, help: "Namespace.") var namespace: String = "default"
        @Option(name: .customLong("app"), help: "The application (default: the one whose sync runs the workload's canary).") var applicationOption: String?
        @Option(name: .customLong("state-dir"), help: "The state directory (default: $WINDLASS_STATE_DIR or .windlass).") var stateOption: String?
        @OptionGroup(title: "Cluster") var cluster: ClusterFlags

        func run() async throws {
            let state = stateOption ?? ProcessEnvironment.value("WINDLASS_STATE_DIR") ?? ".windlass"
            let store = try Planning.revisions(try cluster.historyDirectory(stateDirectory: state))
            let id = target.id(namespace: namespace)
            let application = try RolloutCommand.owner(of: id, store: store, named: applicationOption)
            guard let operation = try? store.operation(application), let progress = Deployer.canaries(in: operation.state)[id] else {
                printOut("\(RESTMapping.reference(id)): no canary in progress")
                if let deployed = try? store.deployed(application) {
                    printOut("application \"\(application)\": revision \(deployed.number) deployed (\(deployed.description))")
                }
                return
            }
            printOut("Name:         \(id.name)")
            printOut("Namespace:    \(id.namespace ?? "")")
            printOut("Revision:     \(operation.revision)")
            printOut("Status:       \(progress.phase.rawValue)\(progress.message.isEmpty ? "" : ": " + progress.message)")
            printOut("Step:         \(min(progress.step + 1, progress.stepCount))/\(progress.stepCount)")
            printOut("Weight:       \(progress.weight)%")
            printOut("Step started: \(Timestamp.rfc3339(progress.stepStartedAt))")
            if !progress.measurements.isEmpty {
                printOut("Measurements:")
                for measurement in progress.measurements.suffix(10) {
                    let values = measurement.values.map { String(format3: $0) }.joined(separator: ", ")
                    printOut("  \(Timestamp.rfc3339(measurement.at))  \(measurement.metric)  \(measurement.phase.rawValue)  [\(values)]  \(measurement.message)")
                }
            }
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Skip the canary's current pause (or inconclusive analysis); --full skips every remaining step.",
            discussion: "Resumes the paused sync at once (with the source flags given), unless another process is running it.")

        @OptionGroup var target: Target
        @Flag(help: "Skip every remaining step.") var full = false
        @OptionGroup(title: "Source") var source: SourceFlags
        @OptionGroup(title: "Plan") var flags: PlanFlags
        @OptionGroup(title: "Sync") var sync: SyncFlags

        func run() async throws {
            try await request(full ? .promoteFull : .promote, target: target.id(namespace: flags.namespace), source: source, flags: flags, sync: sync)
        }
    }

    struct Abort: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the canary: the canary goes, the stable workload is back at full size, the revision is rolled back.")

        @OptionGroup var target: Target
        @OptionGroup(title: "Source") var source: SourceFlags
        @OptionGroup(title: "Plan") var flags: PlanFlags
        @OptionGroup(title: "Sync") var sync: SyncFlags

        func run() async throws {
            try await request(.abort, target: target.id(namespace: flags.namespace), source: source, flags: flags, sync: sync)
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start an aborted canary's steps again (a new sync of the same manifests).")

        @OptionGroup var target: Target
        @OptionGroup(title: "Source") var source: SourceFlags
        @OptionGroup(title: "Plan") var flags: PlanFlags
        @OptionGroup(title: "Sync") var sync: SyncFlags

        func run() async throws {
            try await request(.retry, target: target.id(namespace: flags.namespace), source: source, flags: flags, sync: sync)
        }
    }

    /// The application whose sync runs `target`'s canary: `named` when given (or when it runs
    /// it), else the one application with a canary of `target` in progress. Several: an error
    /// naming them. None: `named`, or "default".
    static func owner(of target: ResourceID, store: RevisionStore, named: String?) throws -> String {
        let holding = ((try? store.operations()) ?? []).filter { Deployer.canaries(in: $0.state)[target] != nil }.map(\.application)
        if let named, named != "default" || holding.contains(named) || holding.isEmpty { return named }
        switch holding.count {
        case 0: return named ?? "default"
        case 1: return holding[0]
        default:
            throw CommandFailure(
                message: "\(RESTMapping.reference(target)) has canaries in progress in applications \(holding.joined(separator: ", ")): give --app")
        }
    }

    /// Records the request for the revision in progress; then, unless a running sync holds the
    /// lease (it takes the request itself), resumes the sync here, reading the revision's own
    /// source at its commit (the manifests it was started with).
    static func request(_ request: RolloutRequest, target: ResourceID, source: SourceFlags, flags: PlanFlags, sync: SyncFlags) async throws {
        var flags = flags
        flags.application = try owner(of: target, store: try Planning.revisions(try flags.cluster.historyDirectory(stateDirectory: source.stateDirectory)), named: flags.application)
        var application = Wiring.application(source: source, flags: flags, policies: sync.policies, sync: sync)
        var pipeline = try Wiring.pipeline(application, stateDirectory: source.stateDirectory)
        if request != .retry, let pending = pipeline.pendingRevision(), let commit = pending.commit {
            application.source = Application.Source(repository: pending.source, revision: commit, path: pending.path)
            pipeline = try Wiring.pipeline(application, stateDirectory: source.stateDirectory)
        }
        do {
            if let operation = try pipeline.request(request, for: target) {
                printOut("\(request.rawValue) requested for \(RESTMapping.reference(target)); the sync running as \(operation.holder) takes it")
                return
            }
        } catch {
            throw CommandFailure(message: "\(error)")
        }
        printOut("\(request.rawValue) requested for \(RESTMapping.reference(target)); resuming the sync")
        try await Syncing.run(application: application, source: source, flags: flags, sync: sync, trigger: request == .retry ? "retry" : "manual")
    }
}
