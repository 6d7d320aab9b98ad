/// The outcome of validating a set, printed as compiler-style text or as JSON.
public struct ValidationReport: Sendable {
    public var set: ManifestSet
    public var diagnostics: [Diagnostic]

    /// Orders the diagnostics by file (in the order files were read), then line and column.
    public init(set: ManifestSet, diagnostics: [Diagnostic]) {
        self.set = set
        var fileOrder: [String: Int] = [:]
        for (index, path) in set.files.enumerated() where fileOrder[path] == nil {
            fileOrder[path] = index
        }
        self.diagnostics = diagnostics.enumerated().sorted { a, b in
            let fa = fileOrder[a.element.location.path] ?? -1
            let fb = fileOrder[b.element.location.path] ?? -1
            if fa != fb { return fa < fb }
            let pa = a.element.location.position ?? .unknown
            let pb = b.element.location.position ?? .unknown
            if pa != pb { return pa < pb }
            return a.offset < b.offset
        }.map(\.element)
    }

    public var errors: Int { diagnostics.count(of: .error) }
    public var warnings: Int { diagnostics.count(of: .warning) }

    /// `N resources in M files, K errors` (and warnings, when there are some).
    public var summary: String {
        var line = "\(plural(set.resources.count, "resource")) in \(plural(set.files.count, "file")), \(plural(errors, "error"))"
        if warnings > 0 { line += ", \(plural(warnings, "warning"))" }
        return line
    }

    /// One line per diagnostic, an optional table of resources, then the summary.
    public func text(listing: Bool) -> String {
        var out = ""
        for diagnostic in diagnostics {
            out += diagnostic.description + "\n"
        }
        if listing, !set.resources.isEmpty {
            out += resourceTable()
        }
        out += summary + "\n"
        return out
    }

    private func resourceTable() -> String {
        var rows = [["NAMESPACE", "KIND", "NAME", "SOURCE"]]
        for resource in set.resources {
            rows.append([
                resource.id.namespace ?? "-",
                resource.id.group.isEmpty ? resource.id.kind : "\(resource.id.kind).\(resource.id.group)",
                resource.id.name,
                set.location(of: resource).description,
            ])
        }
        var widths = Array(repeating: 0, count: 4)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        var out = ""
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 3)
            }
            out += line + "\n"
        }
        return out
    }

    /// The report as a JSON document: summary, diagnostics and resources.
    public func json() -> String {
        func diagnostic(_ d: Diagnostic) -> Value {
            var m = Mapping()
            m["severity"] = .string(d.severity.rawValue)
            m["file"] = .string(d.location.path)
            if let position = d.location.position, position.line > 0 {
                m["line"] = .int(Int(position.line))
                m["column"] = .int(Int(position.column))
            }
            m["message"] = .string(d.message)
            return .mapping(m)
        }
        func resource(_ r: Resource) -> Value {
            var m = Mapping()
            m["address"] = .string(r.id.description)
            m["apiVersion"] = .string(r.id.apiVersion)
            m["kind"] = .string(r.id.kind)
            m["namespace"] = r.id.namespace.map { .string($0) } ?? .null
            m["name"] = .string(r.id.name)
            m["location"] = .string(set.location(of: r).description)
            return .mapping(m)
        }
        var summary = Mapping()
        summary["resources"] = .int(set.resources.count)
        summary["files"] = .int(set.files.count)
        summary["errors"] = .int(errors)
        summary["warnings"] = .int(warnings)
        var root = Mapping()
        root["summary"] = .mapping(summary)
        root["diagnostics"] = .sequence(diagnostics.map(diagnostic))
        root["resources"] = .sequence(set.resources.map(resource))
        return JSONWriter(pretty: true).write(.mapping(root))
    }
}

func plural(_ count: Int, _ noun: String) -> String {
    count == 1 ? "1 \(noun)" : "\(count) \(noun)s"
}
