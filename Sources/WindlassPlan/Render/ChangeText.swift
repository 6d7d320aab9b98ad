public import WindlassManifest

/// The textual pieces every renderer shares.
public enum ChangeText {
    /// The YAML lines of a shown object (keys sorted, so both sides line up).
    public static func yamlLines(_ value: Value?) -> [String] {
        guard let value else { return [] }
        var text = YAMLWriter(sortKeys: true).write(value)
        if text.hasSuffix("\n") { text.removeLast() }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// The unified diff of a change, live → after the sync: whole objects for creates and deletes.
    public static func diffLines(_ change: Plan.Change, context: Int = 3) -> [String] {
        let before = yamlLines(change.before)
        let after = yamlLines(change.after)
        if before.isEmpty && after.isEmpty { return [] }
        return LineDiff.unified(before, after, context: context)
    }

    /// `+`, `~`, `-`, `-/+` or ` `.
    public static func symbol(_ action: Plan.Action) -> String {
        switch action {
        case .create: return "+"
        case .update: return "~"
        case .delete: return "-"
        case .replace: return "-/+"
        case .noop: return " "
        }
    }

    /// `will be created`, …
    public static func verb(_ action: Plan.Action) -> String {
        switch action {
        case .create: return "will be created"
        case .update: return "will be updated in place"
        case .delete: return "will be destroyed"
        case .replace: return "must be replaced"
        case .noop: return "is in sync"
        }
    }

    /// `~ spec.replicas: 3 => 5`, as drift reports list changed fields.
    public static func fieldLine(_ field: FieldChange) -> String {
        switch (field.before, field.after) {
        case (nil, let after?): return "+ \(field.path): \(scalar(after))"
        case (let before?, nil): return "- \(field.path): \(scalar(before))"
        case (let before?, let after?): return "~ \(field.path): \(scalar(before)) => \(scalar(after))"
        default: return "~ \(field.path)"
        }
    }

    /// A value on one line: scalars as written, anything else as compact JSON (shortened).
    public static func scalar(_ value: Value) -> String {
        let text: String
        switch value.content {
        case .string(let s): text = s.contains(where: { $0 == " " || $0 == "\n" || $0 == "\"" }) || s.isEmpty ? JSONWriter.quote(s) : s
        case .mapping, .sequence: text = JSONWriter().write(value)
        default: text = FieldDiff.scalarText(value)
        }
        return text.count > 120 ? String(text.prefix(117)) + "..." : text
    }

    /// The revision as shown: the first 12 characters of a commit id.
    public static func short(_ revision: String?) -> String? {
        guard let revision else { return nil }
        return revision.count == 40 ? String(revision.prefix(12)) : revision
    }

    public static func sourceLine(_ plan: Plan) -> String {
        var line = "\(plan.source.location) (\(plan.source.path))"
        if let base = short(plan.source.baseRevision), let head = short(plan.source.revision) {
            line += " \(base)..\(head)"
        } else if let head = short(plan.source.revision) {
            line += " at \(head)"
        }
        return line
    }
}
