import ArgumentParser
import WindlassCluster
import WindlassCore
import WindlassGit
import WindlassManifest
import WindlassPlan
import WindlassPipeline

#if canImport(Glibc)
import Glibc
#endif

/// Flags shared by `plan`, `diff` and `drift`: which application, how objects without a
/// namespace are placed, and what pruning may do.
struct PlanFlags: ParsableArguments {
    @Option(name: .customLong("app"), help: "The application's name: its objects carry it as their tracking label.")
    var application: String = "default"

    @Option(name: .shortAndLong, help: "Namespace for namespaced objects that name none.")
    var namespace: String = "default"

    @Flag(name: .customLong("no-prune"), help: "Keep objects that are no longer in git (they are listed, not deleted).")
    var noPrune = false

    @Flag(help: "Let an empty set of manifests prune every tracked object.")
    var allowEmpty = false

    @Flag(help: "Take over objects another application tracks (else they are conflicts, and a sync refuses them).")
    var takeOwnership = false

    @Option(name: .customLong("sync-option"), help: "A sync option, as Argo CD writes it: CreateNamespace=true (repeatable).")
    var syncOptions: [String] = []

    @OptionGroup(title: "Cluster") var cluster: ClusterFlags

    func validate() throws {
        if let problem = NameRules.dns1123Label(namespace) {
            throw ValidationError("--namespace \"\(namespace)\" \(problem)")
        }
        if let problem = NameRules.labelValue(application), !application.isEmpty {
            throw ValidationError("--app \"\(application)\" \(problem)")
        }
        if application.isEmpty { throw ValidationError("--app must not be empty") }
        var probe = Application.SyncOptions()
        if let problem = Application.apply(syncOptions: syncOptions, to: &probe) { throw ValidationError("--sync-option: \(problem)") }
    }

}

/// What the planning commands share beyond the pipeline.
enum Planning {
    /// Colors on a terminal, unless `NO_COLOR` is set (https://no-color.org).
    static var useColor: Bool {
        Console.isTerminal && (ProcessEnvironment.value("NO_COLOR") ?? "").isEmpty && ProcessEnvironment.value("TERM") != "dumb"
    }

    /// Prints the warnings found reading the policies.
    static func warn(_ warnings: [Diagnostic]) {
        for warning in warnings { printError(warning.description) }
    }
}

enum PlanFormat: String, ExpressibleByArgument, CaseIterable {
    case text, markdown, json
}

/// What in a forecast fails `plan` (`--forecast-fail-on`).
enum ForecastFailure: String, ExpressibleByArgument, CaseIterable {
    case unschedulable
}

/// `windlass plan`: what a sync would change, or what a pull request would.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what a sync would change in the cluster, or what a pull request would (--base/--head).",
        discussion: """
            Compares the manifests with the embedded cluster in --state-dir. Each object is applied in memory \
            onto its live self, as server-side apply would with field manager windlass, so fields the \
            server or other managers own are not shown as changes.
            With --base REF (and --head REF, default --ref or HEAD), both revisions are read from git \
            objects: the plan shows what the pull request changes in the manifests, what it would \
            change in the cluster, and live drift it did not cause. --no-live compares base with head only.
            The policies (--policies, default ./policies when it exists) judge the manifests (head's, \
            for a pull request); their verdicts are a section of the plan.
            Exit status: 0 success; 1 error (invalid manifests, or an Enforce rule fails: a sync would \
            be refused); with --detailed-exitcode, 2 when there are changes. Usage and I/O errors: 2.
            """
    )

    @OptionGroup(title: "Source") var source: SourceFlags
    @OptionGroup(title: "Plan") var flags: PlanFlags
    @OptionGroup(title: "Policies") var policies: PolicyFlags

    @Option(help: "Output format: text, markdown (pull-request comments) or json.")
    var format: PlanFormat = .text

    @Flag(help: "Exit 2 when there are changes, 0 when there are none (as terraform plan).")
    var detailedExitcode = false

    @Option(help: "The pull request's base revision.")
    var base: String?

    @Option(help: "The pull request's head revision (default: --ref, or HEAD).")
    var head: String?

    @Flag(help: "With --base: compare base with head only, without a cluster.")
    var noLive = false

    @Flag(help: "No colors, even on a terminal.")
    var noColor = false

    @Option(help: "With --format markdown: also write each comment to DIR/comment-N.md (a long plan is split at 65,536 characters).")
    var commentDir: String?

    @Flag(help: "Apply each changed object with dryRun=All and diff the server's answer: its defaulting, admission and webhooks show in the plan.")
    var serverDryRun = false

    @Flag(help: "Forecast the sync: run it on a twin of the cluster (in memory, on a virtual clock) and report wave and canary durations, the surge's extra capacity, unschedulable pods, blocking budgets and final health.")
    var forecast = false

    @Option(help: "With --forecast: exit 1 when the forecast finds this (unschedulable: pods no node would take), as an Enforce policy failure does.")
    var forecastFailOn: ForecastFailure?

    func validate() throws {
        if serverDryRun && base != nil { throw ValidationError("--server-dry-run plans the source against the cluster; it does not combine with --base") }
        if head != nil && base == nil { throw ValidationError("--head needs --base") }
        if noLive && base == nil { throw ValidationError("--no-live needs --base") }
        if commentDir != nil && format != .markdown { throw ValidationError("--comment-dir needs --format markdown") }
        if forecastFailOn != nil && !forecast { throw ValidationError("--forecast-fail-on needs --forecast") }
        if forecast && noLive { throw ValidationError("--forecast needs the cluster: it does not combine with --no-live") }
    }

    func run() async throws {
        let application = Wiring.application(source: source, flags: flags, policies: policies)
        let pipeline = try Wiring.pipeline(application, stateDirectory: source.stateDirectory)
        var report = try await stopping(manifestsCode: 1) {
            if let base {
                return try await pipeline.pullRequestPlan(base: base, head: head ?? source.ref ?? "HEAD", live: !noLive)
            }
            return try await pipeline.plan(serverDryRun: serverDryRun)
        }
        if forecast { report.forecast = await pipeline.forecast(report) }
        Planning.warn(report.policyWarnings)
        try output(report)
        if report.deniedByPolicy { throw ExitCode(1) }
        if forecastFailOn == .unschedulable && report.forecastUnschedulable > 0 { throw ExitCode(1) }
        if detailedExitcode && report.plan.summary.hasChanges { throw ExitCode(2) }
    }

    private func output(_ plan: PlanReport) throws {
        switch format {
        case .text:
            printOut(TextRenderer(color: Planning.useColor && !noColor).render(plan), terminator: "")
        case .json:
            printOut(JSONRenderer(windlassVersion: Windlass.version).render(plan), terminator: "")
        case .markdown:
            let comments = MarkdownRenderer().render(plan)
            for (index, comment) in comments.enumerated() {
                if index > 0 { printOut("\n<!-- windlass: comment \(index + 1) of \(comments.count) -->\n") }
                printOut(comment, terminator: "")
            }
            if let commentDir {
                do {
                    try FileWriter.writeAll(comments, directory: commentDir)
                } catch {
                    throw CommandFailure(message: "writing comments to \(commentDir): \(error)")
                }
            }
        }
    }
}

/// `windlass diff`: `kubectl diff` for the manifests.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show, as kubectl diff does, how the cluster's objects would change.",
        discussion: "Exit status: 0 no differences, 1 differences, 2 error."
    )

    @OptionGroup(title: "Source") var source: SourceFlags
    @OptionGroup(title: "Plan") var flags: PlanFlags

    func run() async throws {
        let pipeline = try Wiring.pipeline(Wiring.application(source: source, flags: flags), stateDirectory: source.stateDirectory)
        let plan = try await stopping(manifestsCode: 2) { try await pipeline.plan(judging: false).plan }
        for warning in plan.warnings { printError("warning: \(warning)") }
        printOut(DiffRenderer().render(plan), terminator: "")
        if plan.summary.hasChanges { throw ExitCode(1) }
    }
}

/// `windlass drift`: where the cluster differs from git.
struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Report drift: managed objects changed or missing in the cluster, tracked objects gone from git, and (--unmanaged) objects nothing manages.",
        discussion: "Exit status: 0 no drift, 1 drift, 2 error."
    )

    @OptionGroup(title: "Source") var source: SourceFlags
    @OptionGroup(title: "Plan") var flags: PlanFlags

    @Option(help: "Output format: text, markdown or json.")
    var format: PlanFormat = .text

    @Flag(help: "Also report objects in the application's namespaces that no manifest describes.")
    var unmanaged = false

    func run() async throws {
        let pipeline = try Wiring.pipeline(Wiring.application(source: source, flags: flags), stateDirectory: source.stateDirectory)
        let report = try await stopping(manifestsCode: 2) { try await pipeline.drift(includeUnmanaged: unmanaged) }
        switch format {
        case .text: printOut(DriftRenderer().text(report), terminator: "")
        case .markdown: printOut(DriftRenderer().markdown(report), terminator: "")
        case .json: printOut(DriftRenderer().json(report), terminator: "")
        }
        if report.hasDrift { throw ExitCode(1) }
    }
}

enum FileWriter {
    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    static func writeAll(_ comments: [String], directory: String) throws {
        mkdir(directory, 0o755)
        for (index, comment) in comments.enumerated() {
            let path = "\(directory)/comment-\(index + 1).md"
            guard let file = fopen(path, "w") else { throw WriteError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { fclose(file) }
            guard fputs(comment, file) >= 0 else { throw WriteError(description: "cannot write \(path)") }
        }
    }
}
