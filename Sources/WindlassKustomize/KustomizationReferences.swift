import WindlassManifest

/// What a kustomization names outside itself, read before kustomize runs: the entries of
/// `resources`, `bases`, `components`, `generators`, `transformers` and `validators` (files,
/// directories, or remote targets), and whether it inflates Helm charts. Windlass checks these
/// (nothing remote unless allowed, nothing outside the repository) and learns which
/// kustomizations are bases of others; kustomize does the rest.
struct KustomizationReferences {
    struct Entry {
        var value: String
        var position: SourcePosition
        /// The field it is written in (`resources`, `components`, ...).
        var field: String
    }

    static let fields = ["resources", "bases", "components", "generators", "transformers", "validators"]

    var entries: [Entry] = []
    /// The objects its generators make, by kind and name (before any prefix or hash).
    var generated: [(kind: String, name: String)] = []
    /// Where `helmCharts` (or `helmChartInflationGenerator`) is written.
    var helm: SourcePosition?

    init(_ bytes: [UInt8]) throws(YAMLError) {
        guard let root = try YAMLReader.read(bytes).first?.root, case .mapping(let fields) = root.content else { return }
        for field in Self.fields {
            guard let value = fields[field], case .sequence(let items) = value.content else { continue }
            for item in items {
                if let text = item.stringValue { entries.append(Entry(value: text, position: item.span.start, field: field)) }
            }
        }
        for (key, kind) in [("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")] {
            for item in fields[key]?.sequenceValue ?? [] {
                if let name = item["name"]?.stringValue { generated.append((kind, name)) }
            }
        }
        for key in ["helmCharts", "helmChartInflationGenerator"] {
            if let entry = fields.entry(forKey: key) { helm = entry.keyPosition }
        }
    }

    /// Whether kustomize would fetch the entry: a URL, an scp-like `git@host:path`, or a
    /// `host.tld/org/repo` path (github.com and the like) not present in the repository.
    static func isRemote(_ entry: String, existsLocally: (String) -> Bool) -> Bool {
        if entry.contains("://") || entry.hasPrefix("git@") || entry.hasPrefix("git::") || entry.contains("?ref=") || entry.contains("?version=") {
            return true
        }
        guard let first = entry.split(separator: "/").first, first.contains("."), !first.hasPrefix(".") else { return false }
        // `github.com/org/repo`: a host, unless the repository has such a directory.
        return entry.contains("/") && !existsLocally(entry)
    }

    /// `relative` resolved against the repository directory `directory`; nil when it leaves
    /// the repository (more `..` than there are directories above it) or is absolute.
    static func resolve(_ relative: String, in directory: String) -> String? {
        if relative.hasPrefix("/") { return nil }
        var parts = directory.split(separator: "/").map(String.init)
        for part in relative.split(separator: "/") {
            switch part {
            case ".", "": continue
            case "..":
                if parts.isEmpty { return nil }
                parts.removeLast()
            default: parts.append(String(part))
            }
        }
        return parts.joined(separator: "/")
    }
}
