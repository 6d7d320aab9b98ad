public import WindlassPolicy
public import WindlassPlan
/// A plan as pull-request comments (REFERENCE.md §7): the summary line outside a `<details>`
/// block, each resource's diff inside in a `diff` fence, rollouts and warnings listed. A plan
/// longer than GitHub's comment limit is split into several comments, and says so.
public struct MarkdownRenderer: Sendable {
    /// GitHub's limit on a comment's length.
    public static let commentLimit = 65_536

    public var limit: Int

    public init(limit: Int = MarkdownRenderer.commentLimit) {
        self.limit = limit
    }

    /// One comment, or several when the plan is longer than ``limit``.
    /// Renders a plan with the policies' verdicts, as `plan` prints it.
    public func render(_ report: PlanReport) -> [String] { render(report.plan, policies: report.policies, forecast: report.forecast) }

    /// Renders a plan and, when given, the policies' verdicts on its manifests and its forecast.
    public func render(_ plan: Plan, policies: PolicyReport? = nil, forecast: ForecastSection? = nil) -> [String] {
        let head = header(plan, policies: policies, forecast: forecast)
        let blocks = plan.effectiveChanges.map(diffBlock)
        let footer = "\n</details>\n"
        let opening = "\n<details><summary>Diffs of \(blocks.count) resource\(blocks.count == 1 ? "" : "s")</summary>\n\n"
        if blocks.isEmpty { return [head] }
        let single = head + opening + blocks.joined() + footer
        if single.count <= limit { return [single] }

        // Pack the diffs into parts; the header (with the summary and table) goes first.
        let continuedNote = "\n> This plan is longer than GitHub's \(limit)-character comment limit, so its diffs follow in the next comments.\n"
        var parts: [[String]] = []
        var current: [String] = []
        var size = 0
        let budget = limit - 400  // room for each part's heading and the details wrapper
        for block in blocks {
            let piece = block.count > budget ? truncated(block, to: budget) : block
            if size + piece.count > budget && !current.isEmpty {
                parts.append(current)
                current = []
                size = 0
            }
            current.append(piece)
            size += piece.count
        }
        if !current.isEmpty { parts.append(current) }
        let total = parts.count + 1
        let firstHead = header(plan, policies: policies, forecast: forecast, part: "part 1 of \(total)")
        var comments = [
            (firstHead.count + continuedNote.count <= limit ? firstHead : truncated(firstHead, to: limit - continuedNote.count - 100)) + continuedNote
        ]
        for (index, part) in parts.enumerated() {
            var comment = "### Windlass plan for `\(plan.application)` (part \(index + 2) of \(total))\n"
            comment += "\n<details><summary>Diffs, continued</summary>\n\n" + part.joined() + footer
            comments.append(comment)
        }
        return comments
    }

    private func header(_ plan: Plan, policies: PolicyReport?, forecast: ForecastSection?, part: String? = nil) -> String {
        var out = "### Windlass plan for `\(plan.application)`" + (part.map { " (\($0))" } ?? "") + "\n\n"
        if let forecast { out += ForecastRenderer().markdownVerdict(forecast) + "\n" }
        out += "`\(ChangeText.sourceLine(plan))`\n\n"
        out += "**\(plan.summary.line(live: plan.comparedWithLive))**\n"
        if !plan.diagnostics.isEmpty {
            out += "\n"
            for diagnostic in plan.diagnostics { out += "- `\(diagnostic)`\n" }
        }
        let changes = plan.effectiveChanges
        if !changes.isEmpty {
            out += "\n| | Resource | Stage | Why |\n|---|---|---|---|\n"
            let shown = 500
            for change in changes.prefix(shown) {
                var why = escape(change.reason)
                if let origin = change.origin { why += " (\(origin.rawValue))" }
                out += "| `\(ChangeText.symbol(change.action))` | `\(change.id)` | \(change.stage) | \(why) |\n"
            }
            if changes.count > shown { out += "\n… and \(changes.count - shown) more resources.\n" }
        }
        if let manifestChanges = plan.manifestChanges, plan.comparedWithLive {
            out += "\nThe pull request changes \(manifestChanges.count) resource\(manifestChanges.count == 1 ? "" : "s") in the manifests.\n"
        }
        if !plan.drift.isEmpty {
            out += "\n#### Live drift the pull request did not cause\n\n"
            for change in plan.drift.prefix(100) {
                out += "- `\(change.id)`: \(escape(change.reason))"
                let fields = change.fields.prefix(5).map { "`\(ChangeText.fieldLine($0))`" }
                if !fields.isEmpty { out += ": " + fields.joined(separator: ", ") }
                out += "\n"
            }
        }
        if !plan.rollouts.isEmpty {
            out += "\n#### Rollouts\n\n"
            for rollout in plan.rollouts {
                out += "- `\(rollout.id)`: \(escape(rollout.summary))"
                let images = rollout.images.map { "`\($0.container)`: `\($0.from ?? "(new)")` → `\($0.to ?? "(removed)")`" }
                if !images.isEmpty { out += "; " + images.joined(separator: ", ") }
                out += "\n"
            }
        }
        if !plan.retained.isEmpty {
            out += "\n#### Not pruned\n\n"
            for retained in plan.retained { out += "- `\(retained.id)`: \(escape(retained.reason))\n" }
        }
        if let policies {
            out += "\n#### Policies\n\n" + (policies.source.map { "Judged by the policies in \(escape($0)).\n\n" } ?? "")
            out += "**\(policies.summaryLine)**"
            out += policies.summary.failures > 0 ? ": a sync of this plan is refused (an Enforce rule fails).\n" : "\n"
            let findings = policies.findings
            if !findings.isEmpty {
                out += "\n| | Resource | Policy | Message |\n|---|---|---|---|\n"
                let shown = 200
                for result in findings.prefix(shown) {
                    let label = result.status == .fail ? "FAIL" : result.status == .warn ? "WARN" : "SKIP"
                    out += "| \(label) | `\(result.resource)` | `\(result.policy)/\(result.rule)` | \(escape(result.message)) |\n"
                }
                if findings.count > shown { out += "\n… and \(findings.count - shown) more.\n" }
            }
        }
        if let forecast { out += ForecastRenderer().markdown(forecast) }
        for warning in plan.warnings {
            out += "\n> **Warning:** \(escape(warning))\n"
        }
        return out
    }

    private func diffBlock(_ change: Plan.Change) -> String {
        let lines = ChangeText.diffLines(change)
        let body = lines.joined(separator: "\n")
        var fence = "```"
        while body.contains(fence) { fence += "`" }
        var out = "#### `\(ChangeText.symbol(change.action))` `\(change.id)`\n\n"
        out += "\(ChangeText.verb(change.action).capitalizedFirst) (\(escape(change.reason))).\n\n"
        if lines.isEmpty { return out }
        out += fence + "diff\n" + body + "\n" + fence + "\n\n"
        return out
    }

    /// A block cut to `size` characters, its fence closed, with a note.
    private func truncated(_ block: String, to size: Int) -> String {
        let note = "\n```\n\n_(cut: this diff is longer than one comment can hold)_\n\n"
        return String(block.prefix(max(0, size - note.count))) + note
    }

    private func escape(_ text: String) -> String { Self.escape(text) }

    /// Text for a Markdown table cell or line: pipes escaped, angle brackets as entities.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "|": out += "\\|"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension String {
    var capitalizedFirst: String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}
