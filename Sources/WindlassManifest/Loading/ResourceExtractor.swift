/// Turns the documents of one file into resources: checks the identity fields (`apiVersion`,
/// `kind`, `metadata.name`, `metadata.namespace`), expands `kind: List`, skips empty documents.
struct ResourceExtractor {
    let path: String
    var resources: [Resource] = []
    var diagnostics: [Diagnostic] = []

    init(path: String) {
        self.path = path
    }

    private func location(_ position: SourcePosition) -> SourceLocation {
        SourceLocation(path: path, position: position)
    }

    private mutating func error(_ position: SourcePosition, _ message: String) {
        diagnostics.append(Diagnostic(.error, at: location(position), message))
    }

    mutating func extract(_ document: YAMLDocument) {
        if document.root.isNull { return }
        extract(document.root, depth: 0)
    }

    private mutating func extract(_ object: Value, depth: Int) {
        guard case .mapping(let fields) = object.content else {
            error(object.span.start, "a manifest must be a mapping (a Kubernetes object), found \(article(object.typeName))")
            return
        }
        let kind = requiredString(fields, "kind", in: object, what: "kind")
        let apiVersion = requiredString(fields, "apiVersion", in: object, what: "apiVersion")
        guard let kind, let apiVersion else { return }

        if let problem = Self.kindProblem(kind) {
            error(fields.entry(forKey: "kind")!.value.span.start, "kind \(quoted(kind)) \(problem)")
            return
        }
        if let problem = Self.apiVersionProblem(apiVersion) {
            error(fields.entry(forKey: "apiVersion")!.value.span.start, "apiVersion \(quoted(apiVersion)) \(problem)")
            return
        }

        // `kind: List` and the typed lists (`ConfigMapList`, …) hold their objects in `items`.
        if kind == "List" || (kind.hasSuffix("List") && fields["items"] != nil) {
            guard let items = fields["items"] else {
                error(object.span.start, "\(kind) has no items")
                return
            }
            guard case .sequence(let list) = items.content else {
                if !items.isNull {
                    error(items.span.start, "items of a \(kind) must be a sequence, found \(article(items.typeName))")
                }
                return
            }
            guard depth < 4 else {
                error(object.span.start, "lists nested more than 4 deep")
                return
            }
            for item in list {
                extract(item, depth: depth + 1)
            }
            return
        }

        guard let metadataEntry = fields.entry(forKey: "metadata"), !metadataEntry.value.isNull else {
            error(object.span.start, "\(kind) has no metadata; metadata.name is required")
            return
        }
        guard case .mapping(let metadata) = metadataEntry.value.content else {
            error(
                metadataEntry.value.span.start,
                "metadata must be a mapping, found \(article(metadataEntry.value.typeName))"
            )
            return
        }
        let gvk = GroupVersionKind(apiVersion: apiVersion, kind: kind)
        let name: String
        if let nameEntry = metadata.entry(forKey: "name"), !nameEntry.value.isNull {
            guard let text = nameEntry.value.stringValue else {
                error(
                    nameEntry.value.span.start,
                    "metadata.name must be a string, found \(article(nameEntry.value.typeName)) (quote it)"
                )
                return
            }
            name = text
            if name.isEmpty {
                error(nameEntry.value.span.start, "metadata.name of \(kind) must not be empty")
                return
            }
            if let problem = NameRules.objectName(name, kind: gvk.groupKind) {
                error(nameEntry.value.span.start, "metadata.name \(quoted(name)) is not a valid \(kind) name: it \(problem)")
            }
        } else if let generate = metadata.entry(forKey: "generateName"), let prefix = generate.value.stringValue, Self.isHook(metadata) {
            // A hook is created anew on every sync, as Argo CD creates it: its name is made
            // then; until then the prefix stands for it.
            guard !prefix.isEmpty else {
                error(generate.value.span.start, "metadata.generateName of \(kind) must not be empty")
                return
            }
            if let problem = NameRules.objectName(prefix + "x2b7q", kind: gvk.groupKind) {
                error(generate.value.span.start, "metadata.generateName \(quoted(prefix)) does not make a valid \(kind) name: it \(problem)")
            }
            name = prefix
        } else {
            let hint =
                metadata["generateName"] != nil
                ? "; generateName is supported only for hooks (created anew on each sync), because Windlass applies other objects by name" : ""
            error(metadataEntry.value.span.start, "\(kind) has no metadata.name\(hint)")
            return
        }
        var namespace: String? = nil
        if let namespaceEntry = metadata.entry(forKey: "namespace"), !namespaceEntry.value.isNull {
            guard let ns = namespaceEntry.value.stringValue else {
                error(
                    namespaceEntry.value.span.start,
                    "metadata.namespace must be a string, found \(article(namespaceEntry.value.typeName))"
                )
                return
            }
            if let problem = NameRules.dns1123Label(ns) {
                error(namespaceEntry.value.span.start, "metadata.namespace \(quoted(ns)) is not valid: it \(problem)")
            }
            namespace = ns.isEmpty ? nil : ns
        }
        resources.append(Resource(id: ResourceID(gvk, namespace: namespace, name: name), object: object, span: object.span))
    }

    /// A string field that must be present and non-empty; reports and returns nil otherwise.
    private mutating func requiredString(_ fields: Mapping, _ key: String, in object: Value, what: String) -> String? {
        guard let entry = fields.entry(forKey: key), !entry.value.isNull else {
            error(object.span.start, "missing required field \(quoted(key))")
            return nil
        }
        guard let string = entry.value.stringValue else {
            error(entry.value.span.start, "\(what) must be a string, found \(article(entry.value.typeName))")
            return nil
        }
        guard !string.isEmpty else {
            error(entry.value.span.start, "\(what) must not be empty")
            return nil
        }
        return string
    }

    /// Kinds are CamelCase identifiers: `Deployment`, `VirtualMachine`.
    static func kindProblem(_ kind: String) -> String? {
        guard let first = kind.utf8.first, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) else {
            return "must start with an upper-case letter"
        }
        let ok = kind.utf8.allSatisfy {
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
        }
        return ok ? nil : "must contain only letters and digits"
    }

    /// `version` or `group/version`: the group a DNS subdomain, the version a DNS label.
    static func apiVersionProblem(_ apiVersion: String) -> String? {
        let gvk = GroupVersionKind(apiVersion: apiVersion, kind: "")
        if gvk.version.contains("/") { return "is not of the form group/version or version" }
        if apiVersion.hasPrefix("/") || (!gvk.group.isEmpty && NameRules.dns1123Subdomain(gvk.group) != nil) {
            return "has an invalid group: it must be a lower-case DNS name such as apps or kubevirt.io"
        }
        if NameRules.dns1123Label(gvk.version) != nil {
            return "has an invalid version: it must be a lower-case name such as v1 or v1beta1"
        }
        return nil
    }

    /// Whether the object's annotations make it a hook (of a phase; `Skip` is not one). A Helm
    /// hook (`helm.sh/hook`, other than `crd-install`) counts when no other hook annotation is set.
    static func isHook(_ metadata: Mapping) -> Bool {
        var named = false
        for key in ["windlass.dev/hook", "argocd.argoproj.io/hook"] {
            guard let value = metadata["annotations"]?[key]?.stringValue else { continue }
            named = true
            let phases = value.split(separator: ",").map { $0.trimmingWhitespace() }
            if phases.contains(where: { ["PreSync", "Sync", "PostSync", "SyncFail"].contains($0) }) { return true }
        }
        guard !named, let helm = metadata["annotations"]?[HelmHookAnnotation.key]?.stringValue else { return false }
        return HelmHookAnnotation.makesHook(helm)
    }
}

/// Helm's `helm.sh/hook` annotation, as far as reading a manifest needs it (the planner maps
/// its values to phases).
public enum HelmHookAnnotation {
    public static let key = "helm.sh/hook"

    /// Whether a value makes the object a hook (of a phase, or left out of syncs): every value
    /// but `crd-install`, which Helm also uses for ordinary CustomResourceDefinitions.
    public static func makesHook(_ value: String) -> Bool {
        value.trimmingWhitespace() != "crd-install"
    }
}
