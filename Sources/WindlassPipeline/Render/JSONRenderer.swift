public import WindlassPolicy
public import WindlassPlan
import WindlassManifest

/// A plan for machines, in the shape of Terraform's plan JSON (REFERENCE.md §7):
/// `format_version`, `resource_changes[]` with `address`, `change.actions`, `before`, `after`
/// and `action_reason`, plus `drift[]`, `policy_results[]` (failures, warnings and exceptions;
/// `policy_summary` counts them and the passes), and `rollouts[]`.
public struct JSONRenderer: Sendable {
    public static let formatVersion = "1.0"

    public var windlassVersion: String

    public init(windlassVersion: String) {
        self.windlassVersion = windlassVersion
    }

    /// Renders a plan with the policies' verdicts, as `plan` prints it.
    public func render(_ report: PlanReport) -> String { render(report.plan, policies: report.policies, forecast: report.forecast) }

    /// Renders a plan and, when given, the policies' verdicts on its manifests and its
    /// forecast (under `forecast`, present only when asked for).
    public func render(_ plan: Plan, policies: PolicyReport? = nil, forecast: ForecastSection? = nil) -> String {
        var out = "{"
        field("format_version", string: Self.formatVersion, into: &out, first: true)
        field("windlass_version", string: windlassVersion, into: &out)
        field("application", string: plan.application, into: &out)
        out += ",\"source\":{"
        field("location", string: plan.source.location, into: &out, first: true)
        field("path", string: plan.source.path, into: &out)
        out += ",\"revision\":" + optional(plan.source.revision)
        out += ",\"base_revision\":" + optional(plan.source.baseRevision)
        out += ",\"renderer\":" + optional(plan.source.renderer)
        out += "},\"compared_with_live\":\(plan.comparedWithLive)"
        let summary = plan.summary
        out += ",\"summary\":{\"add\":\(summary.add),\"change\":\(summary.change),\"destroy\":\(summary.destroy),\"hooks\":\(summary.hooks),"
        field("line", string: summary.line(live: plan.comparedWithLive), into: &out, first: true)
        out += "},\"resource_changes\":["
        for (index, change) in plan.changes.enumerated() {
            if index > 0 { out += "," }
            resourceChange(change, into: &out)
        }
        out += "],\"drift\":["
        for (index, change) in plan.drift.enumerated() {
            if index > 0 { out += "," }
            resourceChange(change, into: &out)
        }
        out += "]"
        if let manifestChanges = plan.manifestChanges {
            out += ",\"manifest_changes\":["
            for (index, change) in manifestChanges.enumerated() {
                if index > 0 { out += "," }
                out += "{"
                field("address", string: change.id.description, into: &out, first: true)
                out += ",\"actions\":" + strings(change.action.actions)
                out += ",\"changed_paths\":" + strings(change.fields.map(\.path))
                out += ",\"location\":" + optional(change.location?.description)
                out += "}"
            }
            out += "]"
        }
        // Failures, warnings and exceptions; passes are counted in policy_summary.
        out += ",\"policy_results\":["
        if let policies {
            let writer = JSONWriter()
            out += policies.findings.map { writer.write(PolicyReport.jsonValue($0)) }.joined(separator: ",")
            let s = policies.summary
            out += "],\"policy_summary\":{\"resources\":\(policies.resources),\"passed\":\(s.passed),\"warnings\":\(s.warnings),\"failures\":\(s.failures),\"exceptions\":\(s.exceptions)}"
            out += ",\"policy_source\":" + optional(policies.source)
        } else {
            out += "],\"policy_summary\":null,\"policy_source\":null"
        }
        out += ",\"rollouts\":["
        for (index, rollout) in plan.rollouts.enumerated() {
            if index > 0 { out += "," }
            out += "{"
            field("address", string: rollout.id.description, into: &out, first: true)
            field("strategy", string: rollout.strategy, into: &out)
            out += ",\"replicas\":" + (rollout.replicas.map(String.init) ?? "null")
            out += ",\"max_surge\":" + (rollout.maxSurge.map(String.init) ?? "null")
            out += ",\"max_unavailable\":" + (rollout.maxUnavailable.map(String.init) ?? "null")
            field("summary", string: rollout.summary, into: &out)
            out += ",\"images\":["
            for (i, image) in rollout.images.enumerated() {
                if i > 0 { out += "," }
                out += "{"
                field("container", string: image.container, into: &out, first: true)
                out += ",\"from\":" + optional(image.from) + ",\"to\":" + optional(image.to) + "}"
            }
            out += "]}"
        }
        out += "],\"retained\":["
        for (index, retained) in plan.retained.enumerated() {
            if index > 0 { out += "," }
            out += "{"
            field("address", string: retained.id.description, into: &out, first: true)
            field("reason", string: retained.reason, into: &out)
            out += "}"
        }
        out += "],\"warnings\":" + strings(plan.warnings)
        out += ",\"diagnostics\":" + strings(plan.diagnostics.map(\.description))
        if let forecast { out += ",\"forecast\":" + JSONWriter().write(ForecastRenderer().json(forecast)) }
        out += "}\n"
        return out
    }

    private func resourceChange(_ change: Plan.Change, into out: inout String) {
        out += "{"
        field("address", string: change.id.description, into: &out, first: true)
        field("group", string: change.id.group, into: &out)
        field("version", string: change.id.version, into: &out)
        field("kind", string: change.id.kind, into: &out)
        out += ",\"namespace\":" + optional(change.id.namespace)
        field("name", string: change.id.name, into: &out)
        field("mode", string: change.hook == nil ? "managed" : "hook", into: &out)
        field("phase", string: change.stage.phase.rawValue, into: &out)
        out += ",\"wave\":\(change.stage.wave)"
        field("stage", string: change.stage.description, into: &out)
        out += ",\"change\":{\"actions\":" + strings(change.action.actions)
        out += ",\"before\":" + (change.before.map { JSONWriter().write($0) } ?? "null")
        out += ",\"after\":" + (change.after.map { JSONWriter().write($0) } ?? "null")
        out += ",\"changed_paths\":" + strings(change.fields.map(\.path))
        out += "}"
        field("action_reason", string: change.reason, into: &out)
        out += ",\"origin\":" + optional(change.origin?.rawValue)
        out += ",\"tracked_by\":" + optional(change.trackedBy)
        out += ",\"location\":" + optional(change.location?.description)
        out += "}"
    }

    private func field(_ name: String, string value: String, into out: inout String, first: Bool = false) {
        if !first { out += "," }
        out += "\"" + name + "\":"
        JSONWriter.writeString(value, into: &out)
    }

    private func optional(_ value: String?) -> String {
        guard let value else { return "null" }
        return JSONWriter.quote(value)
    }

    private func strings(_ values: [String]) -> String {
        var out = "["
        for (index, value) in values.enumerated() {
            if index > 0 { out += "," }
            JSONWriter.writeString(value, into: &out)
        }
        return out + "]"
    }
}
