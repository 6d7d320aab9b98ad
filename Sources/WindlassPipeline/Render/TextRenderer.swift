public import WindlassPolicy
public import WindlassPlan
import WindlassManifest

/// A plan for a terminal: per stage, one line per changed resource and its unified diff, then
/// rollouts, warnings and the summary line. Colors only when asked (the caller checks for a
/// tty and `NO_COLOR`).
public struct TextRenderer: Sendable {
    public var color: Bool
    /// Whether to print each resource's diff (off: one line per resource).
    public var showDiffs: Bool

    public init(color: Bool = false, showDiffs: Bool = true) {
        self.color = color
        self.showDiffs = showDiffs
    }

    private func paint(_ text: String, _ code: String) -> String {
        color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    private func paintDiffLine(_ line: String) -> String {
        switch line.first {
        case "+": return paint(line, "32")
        case "-": return paint(line, "31")
        case "@": return paint(line, "36")
        default: return line
        }
    }

    private func actionColor(_ action: Plan.Action) -> String {
        switch action {
        case .create: return "32"
        case .update: return "33"
        case .delete, .replace: return "31"
        case .noop: return "0"
        }
    }

    /// Renders a plan with the policies' verdicts, as `plan` prints it.
    public func render(_ report: PlanReport) -> String { render(report.plan, policies: report.policies, forecast: report.forecast) }

    /// Renders a plan and, when given, the policies' verdicts on its manifests and its forecast.
    public func render(_ plan: Plan, policies: PolicyReport? = nil, forecast: ForecastSection? = nil) -> String {
        var out = ""
        out += paint("Windlass plan", "1") + " for application \"\(plan.application)\": \(ChangeText.sourceLine(plan))\n"
        for diagnostic in plan.diagnostics {
            out += "\(diagnostic)\n"
        }
        if let manifestChanges = plan.manifestChanges {
            out += "\nThe pull request changes \(manifestChanges.count) resource\(manifestChanges.count == 1 ? "" : "s") in the manifests:\n"
            for change in manifestChanges {
                out += "  \(paint(ChangeText.symbol(change.action), actionColor(change.action))) \(change.id)"
                if let location = change.location { out += "  (\(location))" }
                out += "\n"
                for field in change.fields.prefix(20) { out += "      \(ChangeText.fieldLine(field))\n" }
                if change.fields.count > 20 { out += "      … and \(change.fields.count - 20) more fields\n" }
            }
        }
        var stage: Plan.Stage?
        for change in plan.effectiveChanges {
            if change.stage != stage {
                stage = change.stage
                out += "\n" + paint("\(change.stage):", "1") + "\n"
            }
            var line = "  \(paint(ChangeText.symbol(change.action), actionColor(change.action))) \(change.id) \(ChangeText.verb(change.action))"
            line += " (\(change.reason))"
            if let origin = change.origin { line += " [\(origin.rawValue)]" }
            out += line + "\n"
            guard showDiffs else { continue }
            for diffLine in ChangeText.diffLines(change) {
                out += "      " + paintDiffLine(diffLine) + "\n"
            }
        }
        if !plan.drift.isEmpty {
            out += "\n" + paint("Live drift the pull request did not cause:", "1") + "\n"
            for change in plan.drift {
                out += "  \(ChangeText.symbol(change.action)) \(change.id) (\(change.reason))\n"
                for field in change.fields.prefix(20) { out += "      \(ChangeText.fieldLine(field))\n" }
            }
        }
        if !plan.rollouts.isEmpty {
            out += "\n" + paint("Rollouts:", "1") + "\n"
            for rollout in plan.rollouts {
                out += "  \(rollout.id): \(rollout.summary)\n"
                for image in rollout.images {
                    out += "      \(image.container): \(image.from ?? "(new)") → \(image.to ?? "(removed)")\n"
                }
            }
        }
        if !plan.retained.isEmpty {
            out += "\n" + paint("Not pruned:", "1") + "\n"
            for retained in plan.retained { out += "  \(retained.id): \(retained.reason)\n" }
        }
        if let policies {
            out += "\n" + paint("Policies:", "1") + (policies.source.map { " (\($0))" } ?? "") + "\n"
            for result in policies.findings {
                let color = result.status == .fail ? "31" : result.status == .warn ? "33" : "36"
                let line = PolicyReport.line(result)
                out += "  " + paint(String(line.prefix(4)), color) + line.dropFirst(4) + "\n"
            }
            out += "  " + policies.summaryLine + "\n"
            if policies.summary.failures > 0 {
                out += "  " + paint("A sync of this plan is refused: an Enforce rule fails.", "31") + "\n"
            }
        }
        if let forecast { out += ForecastRenderer().text(forecast, paint: paint) }
        for warning in plan.warnings {
            out += "\n" + paint("Warning:", "33") + " \(warning)\n"
        }
        out += "\n" + paint(plan.summary.line(live: plan.comparedWithLive), "1") + "\n"
        return out
    }
}
