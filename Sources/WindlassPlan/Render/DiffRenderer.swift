import WindlassManifest

/// `kubectl diff`'s output: for each object that would change, a `diff -u -N` of the live object
/// and the object merged with the manifest, named `group.version.Kind.namespace.name`.
public struct DiffRenderer: Sendable {
    public init() {}

    public func render(_ plan: Plan) -> String {
        var out = ""
        for change in plan.effectiveChanges where change.hook == nil {
            let id = change.id
            let name = [id.group.isEmpty ? nil : id.group, id.version, id.kind, id.namespace, id.name].compactMap { $0 }.joined(separator: ".")
            out += "diff -u -N live/\(name) merged/\(name)\n"
            out += "--- live/\(name)\n+++ merged/\(name)\n"
            for line in ChangeText.diffLines(change) { out += line + "\n" }
        }
        return out
    }
}

/// Drift reports (REFERENCE.md §8) for terminals, pull requests and machines.
public struct DriftRenderer: Sendable {
    public init() {}

    static func symbol(_ kind: DriftReport.Kind) -> String {
        switch kind {
        case .changed: return "~"
        case .missing: return "!"
        case .extraneous: return "-"
        case .unmanaged: return "?"
        }
    }

    public func text(_ report: DriftReport) -> String {
        var out = "Drift report for application \"\(report.application)\": \(Self.sourceLine(report.source))\n"
        for item in report.items {
            out += "  \(Self.symbol(item.kind)) \(item.id) (\(item.kind.rawValue): \(item.reason))\n"
            for field in item.fields { out += "      \(ChangeText.fieldLine(field))\n" }
        }
        for warning in report.warnings { out += "Warning: \(warning)\n" }
        return out + report.summaryLine + "\n"
    }

    public func markdown(_ report: DriftReport) -> String {
        var out = "### Windlass drift report for `\(report.application)`\n\n`\(Self.sourceLine(report.source))`\n\n**\(report.summaryLine)**\n"
        if !report.items.isEmpty {
            out += "\n| | Resource | Drift | Fields |\n|---|---|---|---|\n"
            for item in report.items {
                let fields = item.fields.prefix(10).map { "`\(ChangeText.fieldLine($0).replacing("|", with: "\\|"))`" }.joined(separator: "<br>")
                out += "| `\(Self.symbol(item.kind))` | `\(item.id)` | \(item.kind.rawValue) | \(fields) |\n"
            }
        }
        for warning in report.warnings { out += "\n> **Warning:** \(warning)\n" }
        return out
    }

    public func json(_ report: DriftReport) -> String {
        var out = "{\"format_version\":\"1.0\",\"application\":" + JSONWriter.quote(report.application)
        out += ",\"source\":{\"location\":" + JSONWriter.quote(report.source.location) + ",\"path\":" + JSONWriter.quote(report.source.path)
        out += ",\"revision\":" + (report.source.revision.map(JSONWriter.quote) ?? "null") + "}"
        out += ",\"summary\":{"
        out += DriftReport.Kind.allCases.map { "\"\($0.rawValue)\":\(report.count($0))" }.joined(separator: ",")
        out += ",\"managed\":\(report.managed),\"in_sync\":\(report.inSync),\"line\":" + JSONWriter.quote(report.summaryLine) + "}"
        out += ",\"items\":["
        for (index, item) in report.items.enumerated() {
            if index > 0 { out += "," }
            out += "{\"address\":" + JSONWriter.quote(item.id.description) + ",\"drift\":\"\(item.kind.rawValue)\",\"reason\":" + JSONWriter.quote(item.reason)
            out += ",\"location\":" + (item.location.map { JSONWriter.quote($0.description) } ?? "null")
            out += ",\"fields\":["
            for (i, field) in item.fields.enumerated() {
                if i > 0 { out += "," }
                out += "{\"path\":" + JSONWriter.quote(field.path)
                out += ",\"before\":" + (field.before.map(JSONWriter().write) ?? "null")
                out += ",\"after\":" + (field.after.map(JSONWriter().write) ?? "null") + "}"
            }
            out += "]}"
        }
        out += "],\"warnings\":[" + report.warnings.map(JSONWriter.quote).joined(separator: ",") + "]}\n"
        return out
    }

    static func sourceLine(_ source: Plan.Source) -> String {
        var line = "\(source.location) (\(source.path))"
        if let revision = ChangeText.short(source.revision) { line += " at \(revision)" }
        return line
    }
}
