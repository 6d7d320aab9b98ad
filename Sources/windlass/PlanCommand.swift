import ArgumentParser
import WindlassCluster
import WindlassCore
import WindlassGit
import WindlassManifest
import WindlassPlan
import WindlassPolicy

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

    func validate() throws {
        if let problem = NameRules.dns1123Label(namespace) {
            throw ValidationError("--namespace \"\(namespace)\" \(problem)")
        }
        if let problem = NameRules.labelValue(application), !application.isEmpty {
            throw ValidationError("--app \"\(application)\" \(problem)")
        }
        if application.isEmpty { throw ValidationError("--app must not be empty") }
    }

    var planner: Planner {
        Planner(options: PlanOptions(application: application, prune: !noPrune, allowEmpty: allowEmpty))
    }
}

/// The steps every planning command shares.
enum Planning {
    /// Loads and validates a tree; errors stop the command (exit `failureCode`) with every
    /// located error printed, so a plan is never made from part of a set.
    static func load(_ roots: [ManifestRoot], namespace: String, failureCode: Int32) throws -> ManifestSet {
        let set = ManifestLoader.load(roots, options: LoadOptions(defaultNamespace: namespace))
        try stopOnErrors(set.diagnostics + ManifestValidator().validate(set), failureCode: failureCode)
        return set
    }

    static func stopOnErrors(_ diagnostics: [Diagnostic], failureCode: Int32) throws {
        let errors = diagnostics.filter { $0.severity == .error }
        guard !errors.isEmpty else { return }
        for error in errors { printError(error.description) }
        printError("stopped: \(errors.count) error\(errors.count == 1 ? "" : "s") in the manifests; nothing was compared")
        throw ExitCode(failureCode)
    }

    /// The live snapshot from the embedded cluster in the state directory (controllers brought
    /// up to date first).
    static func snapshot(stateDirectory: String, for sets: [ManifestSet], planner: Planner, cluster given: EmbeddedCluster? = nil) async throws -> LiveSnapshot {
        let cluster: EmbeddedCluster
        if let given {
            cluster = given
        } else {
            cluster = try await StateOptions.open(stateDirectory)
        }
        let resources = sets.flatMap(\.resources)
        do throws(ClusterError) {
            return try await cluster.snapshot(
                desiredKinds: Set(resources.map(\.id.groupKind)),
                trackingSelector: Tracking(application: planner.options.application).selector,
                namespaces: Set(resources.compactMap(\.id.namespace)))
        } catch {
            throw CommandFailure(message: "reading the cluster in \(stateDirectory): \(error.message)")
        }
    }

    /// Resolves the source, loads and validates it, reads the cluster and plans: what `plan`,
    /// `diff` and `drift` share. Errors in the manifests stop with `failureCode`.
    static func planAgainstCluster(source: SourceFlags, flags: PlanFlags, failureCode: Int32) async throws -> (Plan, ManifestSet, LiveSnapshot) {
        let planner = flags.planner
        let resolved = try source.resolve()
        let set = try load([.tree(resolved.tree)], namespace: flags.namespace, failureCode: failureCode)
        let live = try await snapshot(stateDirectory: source.stateDirectory, for: [set], planner: planner)
        let plan = planner.plan(set, source: Self.source(resolved), live: live)
        try stopOnErrors(plan.diagnostics, failureCode: failureCode)
        return (plan, set, live)
    }

    static func source(_ resolved: ResolvedSource) -> Plan.Source {
        Plan.Source(location: resolved.location, path: resolved.path, revision: resolved.commit?.sha)
    }

    /// Colors on a terminal, unless `NO_COLOR` is set (https://no-color.org).
    static var useColor: Bool {
        Console.isTerminal && (ProcessEnvironment.value("NO_COLOR") ?? "").isEmpty && ProcessEnvironment.value("TERM") != "dumb"
    }
}

enum PlanFormat: String, ExpressibleByArgument, CaseIterable {
    case text, markdown, json
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

    func validate() throws {
        if head != nil && base == nil { throw ValidationError("--head needs --base") }
        if noLive && base == nil { throw ValidationError("--no-live needs --base") }
        if commentDir != nil && format != .markdown { throw ValidationError("--comment-dir needs --format markdown") }
    }

    func run() async throws {
        var plan: Plan
        if let base {
            let judged: ManifestSet
            let pair: RevisionPair
            (plan, judged, pair) = try await pullRequestPlan(base: base, head: head ?? source.ref ?? "HEAD", planner: flags.planner)
            try Planning.stopOnErrors(plan.diagnostics, failureCode: 1)
            if let (set, source) = try pullRequestPolicies(pair, base: base, manifests: judged, plan: &plan) {
                plan.policies = PolicyEngine.judge(judged, by: set, live: nil)
                plan.policies?.source = source
            }
        } else {
            let (planned, desired, live) = try await Planning.planAgainstCluster(source: source, flags: flags, failureCode: 1)
            plan = planned
            if let set = try policies.load(with: desired) {
                plan.policies = PolicyEngine.judge(desired, by: set, live: live)
            }
        }
        try output(plan)
        if plan.deniedByPolicy { throw ExitCode(1) }
        if detailedExitcode && plan.summary.hasChanges { throw ExitCode(2) }
    }

    private func output(_ plan: Plan) throws {
        switch format {
        case .text:
            print(TextRenderer(color: Planning.useColor && !noColor).render(plan), terminator: "")
        case .json:
            print(JSONRenderer(windlassVersion: Windlass.version).render(plan), terminator: "")
        case .markdown:
            let comments = MarkdownRenderer().render(plan)
            for (index, comment) in comments.enumerated() {
                if index > 0 { print("\n<!-- windlass: comment \(index + 1) of \(comments.count) -->\n") }
                print(comment, terminator: "")
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

    /// What judges a pull request: the policies already merged, i.e. the base commit's
    /// `policies/` when it has one (a pull request cannot loosen the rules it is judged by; its
    /// change to them takes effect once merged, and the plan says so). `--policies DIR` and
    /// `--no-policies` win; a base without `policies/` falls back to `./policies`.
    private func pullRequestPolicies(_ pair: RevisionPair, base: String, manifests: ManifestSet, plan: inout Plan) throws -> (PolicySet, String?)? {
        guard !policies.disabled else { return nil }
        guard policies.directory == nil, let tree = pair.basePolicies else {
            return try policies.load(with: manifests).map { ($0, nil) }
        }
        let set = PolicySet.load(tree: tree, directory: Self.policiesDirectory).adding(from: manifests)
        try Policies.stopOnErrors(set.diagnostics)
        let changed = pair.changedPolicyFiles
        if !changed.isEmpty {
            let listed = changed.prefix(5).joined(separator: ", ") + (changed.count > 5 ? ", …" : "")
            let files = changed.count == 1 ? "1 file" : "\(changed.count) files"
            plan.warnings.append(
                "this pull request changes \(files) under \(Self.policiesDirectory)/ (\(listed)): it is judged by the policies of its base, and the change takes effect once merged"
            )
        }
        return (set, "\(Self.policiesDirectory)/ at \(tree.commit.shortSHA), the base (\(base))")
    }

    /// Where a repository keeps its policies: `policies/` at its root, as `make run`'s repository does.
    static let policiesDirectory = "policies"

    /// Reads both revisions from git objects. Without a cluster, only the manifest files that
    /// differ are parsed; with one, head is read in full and base is head with the changed files
    /// swapped for their base versions.
    /// Returns the plan, the head manifests it read (all of them, or with --no-live the
    /// changed files only), which the policies judge, and the two revisions.
    private func pullRequestPlan(base: String, head: String, planner: Planner) async throws -> (Plan, ManifestSet, RevisionPair) {
        let pair: RevisionPair
        do {
            let basePolicies = policies.disabled || policies.directory != nil ? nil : Self.policiesDirectory
            pair = try SourceResolver.resolve(source.options, base: base, head: head, policies: basePolicies)
        } catch {
            throw CommandFailure(message: error.description)
        }
        let planSource = Plan.Source(location: pair.head.location, path: pair.head.path, revision: pair.head.commit?.sha, baseRevision: pair.base.commit?.sha)
        let headFiles = ManifestLoader.manifestFiles(in: pair.head.tree).files
        let baseFiles = ManifestLoader.manifestFiles(in: pair.base.tree).files
        let changed = Set(pair.changedFiles)
        let ignoreRulesChanged = changed.contains { $0 == ".windlassignore" || $0.hasSuffix("/.windlassignore") }
        let headChanged = ignoreRulesChanged ? headFiles : headFiles.filter(changed.contains)
        let baseChanged = ignoreRulesChanged ? baseFiles : baseFiles.filter(changed.contains)

        let baseDelta = try Planning.load([.files(baseChanged, in: pair.base.tree)], namespace: flags.namespace, failureCode: 1)
        if noLive {
            let headDelta = try Planning.load([.files(headChanged, in: pair.head.tree)], namespace: flags.namespace, failureCode: 1)
            return (planner.pullRequestPlan(base: baseDelta, head: headDelta, source: planSource, live: nil, headIsEmpty: headFiles.isEmpty), headDelta, pair)
        }
        let headSet = try Planning.load([.tree(pair.head.tree)], namespace: flags.namespace, failureCode: 1)
        // Base = head's resources from unchanged files + the base versions of the changed ones.
        let changedDisplay = Set(headChanged.map(pair.head.tree.displayPath))
        var baseResources = headSet.resources.filter { !changedDisplay.contains(headSet.path(of: $0.span.file)) }
        let offset = UInt32(headSet.files.count)
        for var resource in baseDelta.resources {
            resource.span.file = FileID(resource.span.file.rawValue + offset)
            baseResources.append(resource)
        }
        let baseSet = ManifestSet(files: headSet.files + baseDelta.files, resources: baseResources)
        let live = try await Planning.snapshot(stateDirectory: source.stateDirectory, for: [headSet, baseSet], planner: planner)
        return (planner.pullRequestPlan(base: baseSet, head: headSet, source: planSource, live: live), headSet, pair)
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
        let (plan, _, _) = try await Planning.planAgainstCluster(source: source, flags: flags, failureCode: 2)
        for warning in plan.warnings { printError("warning: \(warning)") }
        print(DiffRenderer().render(plan), terminator: "")
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
        let (plan, set, live) = try await Planning.planAgainstCluster(source: source, flags: flags, failureCode: 2)
        let report = DriftReport(plan: plan, live: live, desired: set, includeUnmanaged: unmanaged)
        switch format {
        case .text: print(DriftRenderer().text(report), terminator: "")
        case .markdown: print(DriftRenderer().markdown(report), terminator: "")
        case .json: print(DriftRenderer().json(report), terminator: "")
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
