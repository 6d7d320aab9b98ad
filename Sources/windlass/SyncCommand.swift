import ArgumentParser
import WindlassCluster
import WindlassCore
import WindlassGit
import WindlassManifest
import WindlassPlan
import WindlassRollout
import WindlassPipeline
import WindlassServer

#if canImport(Glibc)
import Glibc
#endif

/// `windlass sync`: makes the cluster match the manifests, wave by wave.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Apply the plan to the embedded cluster: wave by wave, each waited on until healthy, hooks in their phases, pruning last.",
        discussion: """
            The policies (--policies, default ./policies when it exists) judge the manifests first: when an \
            Enforce rule fails, the sync names each failure and applies nothing.
            Exit status: 0 synced (or nothing to do), 1 the sync failed or was refused (the reason is printed), \
            2 usage or input error.
            """
    )

    @OptionGroup(title: "Source") var source: SourceFlags
    @OptionGroup(title: "Plan") var flags: PlanFlags
    @OptionGroup(title: "Sync") var sync: SyncFlags

    func run() async throws {
        try await Syncing.run(source: source, flags: flags, sync: sync, trigger: "manual")
    }
}

/// The flags of every command that syncs (`sync`, and the rollout verbs that resume one).
struct SyncFlags: ParsableArguments {
    @Option(help: "How long each wave may take to become healthy, in seconds.")
    var waveTimeout: Double = 300

    @Flag(help: "When the sync fails, roll the cluster back to the revision deployed before it.")
    var atomic = false

    @OptionGroup(title: "Policies") var policies: PolicyFlags

    @Option(help: "Serve the embedded cluster's simulated workload metrics at http://HOST:PORT/metrics while syncing (for Prometheus to scrape what canary gates query).")
    var metricsListen: ListenAddress?

    func validate() throws {
        guard waveTimeout > 0 else { throw ValidationError("--wave-timeout must be positive") }
    }
}

enum Syncing {
    /// An embedded cluster made by this sync (no `cluster init`, no `serve`) has no nodes: its
    /// pods would wait, unscheduled, until the wave times out. Said before the sync starts.
    static func warnWithoutNodes(_ cluster: DeferredCluster, stateDirectory: String) async {
        guard let nodes = try? await cluster.list(GroupKind(group: "", kind: "Node"), namespace: nil, options: ListOptions()), nodes.items.isEmpty else { return }
        printError("warning: the embedded cluster in \(stateDirectory) has no nodes, so its pods stay Pending; add some with `windlass cluster init --state-dir \(stateDirectory)`")
    }

    /// Syncs the application of the flags (or `application`, when given) and prints how it went.
    static func run(application given: Application? = nil, source: SourceFlags, flags: PlanFlags, sync: SyncFlags, trigger: String) async throws {
        let application = given ?? Wiring.application(source: source, flags: flags, policies: sync.policies, sync: sync)
        let cluster = DeferredCluster(stateDirectory: source.stateDirectory)
        if application.destination.isKubernetes, sync.metricsListen != nil {
            throw CommandFailure(message: "--metrics-listen serves the embedded cluster's simulated metrics; a Kubernetes cluster's come from its own workloads")
        }
        let pipeline = application.destination.isKubernetes
            ? try Wiring.pipeline(application, stateDirectory: source.stateDirectory) : Wiring.pipeline(application, over: cluster)
        let rendered = try await stopping(manifestsCode: 2) { try await pipeline.render() }
        if !application.destination.isKubernetes { await warnWithoutNodes(cluster, stateDirectory: source.stateDirectory) }
        let revision = rendered.source.commit.map { " at \($0.shortSHA)" } ?? ""
        let progress = ProgressLog()
        var endpoint: MetricsEndpoint?
        if let address = sync.metricsListen {
            do {
                endpoint = try await MetricsEndpoint.start(host: address.host, port: address.port, metrics: { (try? await cluster.opened().simulatedMetrics()) ?? "" })
            } catch {
                throw CommandFailure(message: "--metrics-listen \(address.host):\(address.port): \(error)")
            }
        }
        let outcome: Deployer.Outcome
        do {
            outcome = try await stopping(manifestsCode: 2) {
                try await pipeline.sync(rendered, trigger: trigger, onPolicyWarnings: Planning.warn) { event in
                    progress.start(application: flags.application, revision: revision)
                    progress.log(event)
                }
            }
        } catch let error as Deployer.PolicyDenied {
            await endpoint?.stop()
            printError(error.description)
            throw ExitCode(1)
        } catch let error as Deployer.PlanRefused {
            await endpoint?.stop()
            printError(error.description)
            throw ExitCode(1)
        } catch let error as Deployer.Busy {
            await endpoint?.stop()
            throw CommandFailure(message: error.description)
        } catch let error as Deployer.RollbackError {
            await endpoint?.stop()
            printError("sync failed, and so did the rollback: \(error.message)")
            throw ExitCode(1)
        } catch {
            await endpoint?.stop()
            throw error
        }
        await endpoint?.stop()
        // A manual sync ends the pause a rollback put on auto-sync.
        pipeline.unpin()
        switch outcome {
        case .inSync(let plan):
            for warning in plan.warnings { printError("warning: \(warning)") }
            printOut("application \"\(flags.application)\"\(revision): \(plan.summary.line())")
        case .deployed(let record, let result):
            let seconds = result.finishedAt - result.startedAt
            printOut("synced: revision \(record.number) deployed, \(result.resources.count) resource\(result.resources.count == 1 ? "" : "s") in \(String(format1: seconds)) s")
        case .paused(let record, let result):
            if case .paused(let reason) = result.outcome {
                printOut("paused (revision \(record.number) pending): \(reason)")
                printOut("continue with: windlass rollout promote NAME (or abort); a later sync resumes where this one stopped")
            }
        case .failed(let record, let result, let rollback):
            if case .failed(let reason) = result.outcome { printError("sync failed (revision \(record.number)): \(reason)") }
            if let rollback {
                printError("rolled back (\(rollback.trigger)): revision \(rollback.number) deployed (\(rollback.description))")
            }
            throw ExitCode(1)
        }
    }
}

/// `HOST:PORT` on the command line.
struct ListenAddress: ExpressibleByArgument {
    var host: String
    var port: Int

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        host = String(argument[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.port = port
        if host.isEmpty { return nil }
    }
}

/// Plain progress lines, one per event (waiting lines at most every 5 s per stage).
final class ProgressLog: @unchecked Sendable {
    private var lastWaiting: [String: Double] = [:]
    private var started = false
    private var lastCanary = ""
    private var lastMeasurement = 0.0
    private let createdAt = SystemClock().now()
    /// On a terminal, waiting is one status line redrawn in place; in a log, a line every 5 s.
    private let live = Console.isTerminal && ProcessEnvironment.value("TERM") != "dumb"
    private var statusShown = false

    /// Prints a line, first clearing the status line when one is shown.
    private func emit(_ line: String) {
        if statusShown {
            consoleWrite("\r\u{1B}[K")
            statusShown = false
        }
        consoleWrite(line + "\n")
    }

    private func status(_ line: String) {
        let width = 120
        let shown = line.count > width ? String(line.prefix(width - 1)) + "…" : line
        consoleWrite("\r\u{1B}[K" + shown)
        statusShown = true
        fflush(nil)
    }

    /// The first line, printed when the first event arrives (a sync with nothing to do prints none).
    func start(application: String, revision: String) {
        guard !started else { return }
        started = true
        emit("syncing application \"\(application)\"\(revision)")
    }

    func log(_ event: SyncEvent) {
        switch event {
        case .stageStarted(let stage, let count):
            emit("\(stage): \(count) resource\(count == 1 ? "" : "s")")
        case .applied(let id, let action):
            let verb: String
            switch action {
            case .create: verb = "created"
            case .update: verb = "configured"
            case .replace: verb = "replaced"
            case .delete: verb = "pruned"
            case .noop: verb = "unchanged"
            }
            emit("  \(RESTMapping.reference(id)) \(verb)")
        case .waiting(let stage, let pending):
            let now = SystemClock().now()
            if live {
                let list = pending.prefix(3).map { "\(RESTMapping.reference($0.0)) (\($0.1))" }.joined(separator: ", ")
                status("  \(stage): waiting for \(pending.count): \(list)")
            } else if now - (lastWaiting[stage.description] ?? 0) >= 5 {
                lastWaiting[stage.description] = now
                let list = pending.prefix(3).map { "\(RESTMapping.reference($0.0)) (\($0.1))" }.joined(separator: ", ")
                emit("  waiting for \(pending.count): \(list)\(pending.count > 3 ? ", …" : "")")
            }
        case .stageFinished(let stage):
            emit("  \(stage) healthy")
        case .hookFinished(let id, let succeeded, let message):
            emit("  hook \(RESTMapping.reference(id)) \(succeeded ? "succeeded" : "failed")\(message.isEmpty ? "" : ": \(message)")")
        case .retrying(let id, let attempt, let error):
            emit("  retrying \(RESTMapping.reference(id)) (attempt \(attempt + 1)): \(error)")
        case .canary(let progress):
            let step = min(progress.step + 1, progress.stepCount)
            var line = "  canary \(RESTMapping.reference(progress.target)): step \(step)/\(progress.stepCount), weight \(progress.weight)%, \(progress.phase.rawValue)"
            if !progress.message.isEmpty { line += ": \(progress.message)" }
            if line != lastCanary {
                lastCanary = line
                emit(line)
            }
            // Only measurements this process took (a resumed sync carries earlier ones).
            if let measurement = progress.measurements.last, measurement.at != lastMeasurement, measurement.at >= createdAt {
                lastMeasurement = measurement.at
                let values = measurement.values.map { String(format3: $0) }.joined(separator: ", ")
                emit("    \(measurement.metric): \(measurement.phase.rawValue) [\(values)] \(measurement.message)")
            }
        }
        fflush(nil)
    }
}

extension String {
    /// `0.995`: three decimals at most.
    init(format3 value: Double) {
        if value.isNaN {
            self = "NaN"
            return
        }
        let thousandths = Int((value * 1000).rounded())
        let sign = thousandths < 0 ? "-" : ""
        let magnitude = abs(thousandths)
        var fraction = String(magnitude % 1000)
        while fraction.count < 3 { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        self = sign + String(magnitude / 1000) + (fraction.isEmpty ? "" : "." + fraction)
    }

    /// `1.2`: one decimal.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
