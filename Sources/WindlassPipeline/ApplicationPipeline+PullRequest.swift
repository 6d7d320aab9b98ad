public import WindlassGit
public import WindlassManifest
public import WindlassPlan
import WindlassPolicy

extension ApplicationPipeline {
    /// Where a repository keeps its policies: `policies/` at its root.
    public static let repositoryPoliciesDirectory = "policies"

    /// What a pull request from `base` to `head` changes: in the manifests, in the cluster
    /// (with `live`) and which live drift it did not cause, judged by the policies of its base
    /// (the rules it is merged into; see ``Application/PolicySource``).
    ///
    /// Both revisions are read from git objects. Without a cluster only the files that differ
    /// are parsed; with one, head is read in full and base is head with the changed files
    /// swapped for their base versions.
    public func pullRequestPlan(base: String, head: String, live: Bool = true) async throws(PipelineError) -> PlanReport {
        let fromBase: String?
        if case .repository(let path, _) = application.policies { fromBase = path } else { fromBase = nil }
        let options = sourceOptions(nil)
        let pair: RevisionPair
        do {
            pair = try await GitRepository.offloaded { () throws(GitError) in
                try SourceResolver.resolve(options, base: base, head: head, policies: fromBase)
            }
        } catch {
            throw PipelineError(.source, error.description)
        }
        var report = try await plan(pair, live: live)
        if let stop = PipelineError.stopping(.manifests, on: report.plan.diagnostics) { throw stop }
        try judge(&report, pair: pair, base: base)
        return report
    }

    private func plan(_ pair: RevisionPair, live: Bool) async throws(PipelineError) -> PlanReport {
        let planSource = Plan.Source(location: pair.head.location, path: pair.head.path, revision: pair.head.commit?.sha, baseRevision: pair.base.commit?.sha)
        let headListing = ManifestLoader.listing(of: pair.head.tree)
        // A head whose walk failed (a limit, a loop) is not planned from part of its files.
        if let stop = PipelineError.stopping(.manifests, on: headListing.diagnostics) { throw stop }
        let baseListing = ManifestLoader.listing(of: pair.base.tree)
        if !headListing.kustomizations.isEmpty || !baseListing.kustomizations.isEmpty {
            return try await renderedPlan(pair, source: planSource, live: live)
        }
        let headFiles = headListing.files
        let baseFiles = baseListing.files
        let changed = Set(pair.changedFiles)
        let ignoreRulesChanged = changed.contains { $0 == ".windlassignore" || $0.hasSuffix("/.windlassignore") }
        let headChanged = ignoreRulesChanged ? headFiles : headFiles.filter(changed.contains)
        let baseChanged = ignoreRulesChanged ? baseFiles : baseFiles.filter(changed.contains)

        let baseDelta = try await load([.files(baseChanged, in: pair.base.tree)])
        guard live else {
            let headDelta = try await load([.files(headChanged, in: pair.head.tree)])
            let plan = planner.pullRequestPlan(base: baseDelta, head: headDelta, source: planSource, live: nil, headIsEmpty: headFiles.isEmpty)
            return PlanReport(plan: plan, manifests: headDelta, live: nil)
        }
        let headSet = try await load([.tree(pair.head.tree)])
        // Base = head's resources from unchanged files + the base versions of the changed ones.
        let changedDisplay = Set(headChanged.map(pair.head.tree.displayPath))
        var baseResources = headSet.resources.filter { !changedDisplay.contains(headSet.path(of: $0.span.file)) }
        let offset = UInt32(headSet.files.count)
        for var resource in baseDelta.resources {
            resource.span.file = FileID(resource.span.file.rawValue + offset)
            baseResources.append(resource)
        }
        let baseSet = ManifestSet(files: headSet.files + baseDelta.files, resources: baseResources)
        let snapshot = try await snapshot(for: [headSet, baseSet])
        return PlanReport(plan: planner.pullRequestPlan(base: baseSet, head: headSet, source: planSource, live: snapshot), manifests: headSet, live: snapshot)
    }

    /// A pull request whose path holds kustomizations: both sides rendered in full (a change
    /// to a base changes every overlay built on it, wherever the base lives, so the
    /// changed-files shortcut does not apply); renders of an unchanged tree come from the cache.
    private func renderedPlan(_ pair: RevisionPair, source planSource: Plan.Source, live: Bool) async throws(PipelineError) -> PlanReport {
        let head = try await render(pair.head)
        let base = try await render(pair.base)
        var planSource = planSource
        planSource.renderer = head.planSource.renderer
        guard live else {
            let plan = planner.pullRequestPlan(
                base: base.manifests, head: head.manifests, source: planSource, live: nil, headIsEmpty: head.manifests.resources.isEmpty)
            return PlanReport(plan: plan, manifests: head.manifests, live: nil)
        }
        let snapshot = try await snapshot(for: [head.manifests, base.manifests])
        let plan = planner.pullRequestPlan(base: base.manifests, head: head.manifests, source: planSource, live: snapshot)
        return PlanReport(plan: plan, manifests: head.manifests, live: snapshot)
    }

    /// Judges a pull request's head by the policies already merged: the base commit's
    /// `policies/` when the application follows the repository's convention and the base has
    /// one (a pull request cannot loosen the rules it is judged by; its change to them takes
    /// effect once merged, and the plan says so); otherwise as any plan is judged.
    private func judge(_ report: inout PlanReport, pair: RevisionPair, base: String) throws(PipelineError) {
        guard case .repository(let directory, _) = application.policies, let tree = pair.basePolicies else {
            if case .repository(let directory, true) = application.policies {
                throw PipelineError(.policies, "the policies directory \(directory) is not in the base (\(base))")
            }
            if let set = try policies(for: report.manifests, source: nil, warnings: &report.policyWarnings) {
                report.policies = PolicyEngine.judge(report.manifests, by: set)
            }
            return
        }
        guard let set = try checked(PolicySet.load(tree: tree, directory: directory).adding(from: report.manifests), warnings: &report.policyWarnings)
        else { return }
        let changed = pair.changedPolicyFiles
        if !changed.isEmpty {
            let listed = changed.prefix(5).joined(separator: ", ") + (changed.count > 5 ? ", …" : "")
            let files = changed.count == 1 ? "1 file" : "\(changed.count) files"
            report.plan.warnings.append(
                "this pull request changes \(files) under \(directory)/ (\(listed)): it is judged by the policies of its base, and the change takes effect once merged"
            )
        }
        report.policies = PolicyEngine.judge(report.manifests, by: set)
        report.policies?.source = "\(directory)/ at \(tree.commit.shortSHA), the base (\(base))"
    }
}
