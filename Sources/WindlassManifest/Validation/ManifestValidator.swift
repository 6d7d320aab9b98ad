/// Checks a loaded set the way the API server would before accepting it: each object against
/// its kind's OpenAPI schema (unknown fields, wrong types, missing required fields, unsupported
/// enum values), label and annotation keys and values, and custom resources against the
/// CustomResourceDefinitions in the same set. Kinds with no schema are accepted with a note.
public struct ManifestValidator: Sendable {
    /// Windlass's own kinds, checked by the plan's canary reader rather than by a schema here.
    static let windlassKinds: Set<String> = ["RolloutStrategy", "AnalysisTemplate", "Policy", "PolicyException"]

    public var concurrency: Int
    /// The Kubernetes minor version to check against (`--kubernetes-version 1.29`): a kind it does
    /// not serve is an error. Nil: any version the schemas cover.
    public var kubernetesVersion: Int?

    /// The versions `kubernetesVersion` may name: those the built-in schemas cover.
    public static var coveredVersions: ClosedRange<Int> { kubernetesSchemaVersions }

    public init(concurrency: Int = ManifestLoader.processorCount, kubernetesVersion: Int? = nil) {
        self.concurrency = concurrency
        self.kubernetesVersion = kubernetesVersion
    }

    /// The diagnostics for a set, in resource order (notes about kinds without a schema last).
    public func validate(_ set: ManifestSet) -> [Diagnostic] {
        var table = SchemaTable.kubernetes
        var diagnostics: [Diagnostic] = []
        addCustomResourceSchemas(from: set, to: &table, diagnostics: &diagnostics)

        let schemaTable = table
        let resources = set.resources
        let files = set.files
        let perResource = parallelMap(count: resources.count, concurrency: concurrency) { index in
            let file = Int(resources[index].span.file.rawValue)
            var checker = ObjectChecker(table: schemaTable, path: file < files.count ? files[file] : "<input>")
            checker.kubernetesVersion = kubernetesVersion
            checker.check(resources[index])
            return checker.diagnostics
        }
        for list in perResource { diagnostics += list }

        // One note per kind without a schema, at its first resource.
        var unknownKinds: [GroupVersionKind: (first: Resource, count: Int)] = [:]
        var order: [GroupVersionKind] = []
        for resource in resources where table.kinds[resource.id.groupVersionKind] == nil {
            let gvk = resource.id.groupVersionKind
            if SchemaTable.completeGroupVersions.contains(gvk.apiVersion) { continue }
            // Windlass's own kinds (RolloutStrategy, AnalysisTemplate) are checked where they
            // are read: the plan's canary reader, which `windlass validate` runs too.
            if gvk.group == "windlass.dev" && Self.windlassKinds.contains(gvk.kind) { continue }
            if let seen = unknownKinds[gvk] {
                unknownKinds[gvk] = (seen.first, seen.count + 1)
            } else {
                unknownKinds[gvk] = (resource, 1)
                order.append(gvk)
            }
        }
        for gvk in order {
            let (first, count) = unknownKinds[gvk]!
            let plural = count == 1 ? "1 resource" : "\(count) resources"
            diagnostics.append(
                Diagnostic(
                    .note,
                    at: set.location(of: first),
                    "no schema known for \(gvk) (\(plural)); only apiVersion, kind and metadata were checked"
                )
            )
        }
        return diagnostics
    }

    /// Compiles the schema of each version of each CustomResourceDefinition in the set.
    private func addCustomResourceSchemas(
        from set: ManifestSet,
        to table: inout SchemaTable,
        diagnostics: inout [Diagnostic]
    ) {
        for crd in set.resources where crd.id.kind == "CustomResourceDefinition" && crd.id.group == "apiextensions.k8s.io" {
            guard let spec = crd.object["spec"], let group = spec["group"]?.stringValue,
                let kind = spec[path: ["names", "kind"]]?.stringValue
            else { continue }
            for version in spec["versions"]?.sequenceValue ?? [] {
                guard let name = version["name"]?.stringValue,
                    let schema = version[path: ["schema", "openAPIV3Schema"]]
                else { continue }
                do {
                    let root = try SchemaCompiler.append(schema, to: &table)
                    table.kinds[GroupVersionKind(group: group, version: name, kind: kind)] = root
                } catch let error as SchemaError {
                    diagnostics.append(
                        Diagnostic(
                            .error,
                            at: SourceLocation(path: set.path(of: crd.span.file), position: error.position),
                            "CustomResourceDefinition \(crd.id.name): \(error.message)"
                        )
                    )
                } catch {
                    continue
                }
            }
        }
    }
}

/// Walks one object against its schema, collecting located diagnostics.
private struct ObjectChecker {
    enum PathComponent {
        case key(String)
        case index(Int)
    }

    let table: SchemaTable
    let path: String
    var kubernetesVersion: Int?
    var diagnostics: [Diagnostic] = []
    var fieldPath: [PathComponent] = []
    var subject = ""

    init(table: SchemaTable, path: String) {
        self.table = table
        self.path = path
    }

    /// Only the object against its kind's schema (no served-version, label or size checks).
    mutating func checkSchemaOnly(_ resource: Resource) {
        subject = "\(resource.id.kind) \(resource.id.name)"
        if let root = table.kinds[resource.id.groupVersionKind] { check(resource.object, against: root) }
    }

    mutating func check(_ resource: Resource) {
        let gvk = resource.id.groupVersionKind
        subject = "\(gvk.kind) \(resource.id.name)"
        if let minor = kubernetesVersion, let served = SchemaTable.servingVersions(of: gvk), !served.contains(minor) {
            let at = resource.object.mappingValue?.entry(forKey: "apiVersion")?.value.span.start ?? resource.span.start
            let when = minor < served.lowerBound ? "it is served from 1.\(served.lowerBound)" : "it was removed in 1.\(served.upperBound + 1)"
            report(at, "\(quoted(gvk.apiVersion)) \(gvk.kind) is not served by Kubernetes 1.\(minor): \(when)")
        }
        if let root = table.kinds[gvk] {
            check(resource.object, against: root)
        } else {
            if gvk.group == "windlass.dev" && !ManifestValidator.windlassKinds.contains(gvk.kind) {
                let hint = Self.suggestion(for: gvk.kind, among: ManifestValidator.windlassKinds.sorted()).map { " (did you mean \"\($0)\"?)" } ?? ""
                let at = resource.object.mappingValue?.entry(forKey: "kind")?.value.span.start ?? resource.span.start
                report(at, "no kind \(quoted(gvk.kind)) is registered for version \(quoted(gvk.apiVersion))\(hint)")
                return
            }
            if SchemaTable.completeGroupVersions.contains(gvk.apiVersion) {
                let known = table.kindNames(in: gvk.apiVersion)
                let hint = Self.suggestion(for: gvk.kind, among: known).map { " (did you mean \"\($0)\"?)" } ?? ""
                let at = resource.object.mappingValue?.entry(forKey: "kind")?.value.span.start ?? resource.span.start
                report(at, "no kind \(quoted(gvk.kind)) is registered for version \(quoted(gvk.apiVersion))\(hint)")
                return
            }
            if let meta = table.objectMeta, let metadata = resource.object["metadata"] {
                fieldPath = [.key("metadata")]
                check(metadata, against: meta)
                fieldPath = []
            }
        }
        checkLabelsAndAnnotations(resource.object["metadata"])
        if Self.encodedSize(of: resource.object, stoppingAbove: Self.maxObjectBytes) > Self.maxObjectBytes {
            report(resource.span.start, "the object is larger than 1.5 MiB as JSON; Kubernetes stores objects of at most 1.5 MiB (etcd's request limit)")
        }
        if gvk.group == "", gvk.kind == "ConfigMap" || gvk.kind == "Secret" {
            checkDataSize(resource.object, isSecret: gvk.kind == "Secret")
        }
        if gvk.kind.hasSuffix("Template") || gvk.group == "apps" || gvk.group == "batch" {
            checkTemplateLabels(resource.object)
        }
    }

    private mutating func report(_ position: SourcePosition, _ message: String) {
        diagnostics.append(Diagnostic(.error, at: SourceLocation(path: path, position: position), "\(subject): \(message)"))
    }

    private var renderedPath: String {
        var out = ""
        for component in fieldPath {
            switch component {
            case .key(let key):
                if !out.isEmpty { out += "." }
                out += key
            case .index(let i):
                out += "[\(i)]"
            }
        }
        return out
    }

    private mutating func check(_ value: Value, against index: Int) {
        let node = table.nodes[index]
        // null means "not set" to the API server, for any field.
        if value.isNull { return }
        if !node.types.isEmpty, !Self.accepts(node.types, value) {
            report(value.span.start, "\(renderedPath): expected \(Self.describe(node.types)), found \(Self.describe(value))")
            return
        }
        switch value.content {
        case .mapping(let mapping):
            for entry in mapping.entries {
                fieldPath.append(.key(entry.key))
                defer { fieldPath.removeLast() }
                if let child = node.properties[entry.key] {
                    check(entry.value, against: child)
                    continue
                }
                switch node.additional {
                case .any:
                    continue
                case .schema(let child):
                    check(entry.value, against: child)
                case .forbidden:
                    let hint = Self.suggestion(for: entry.key, among: Array(node.properties.keys))
                        .map { " (did you mean \"\($0)\"?)" } ?? ""
                    report(entry.keySpan.start, "unknown field \(quoted(renderedPath))\(hint)")
                }
            }
            for name in node.required where mapping[name] == nil {
                fieldPath.append(.key(name))
                report(value.span.start, "\(renderedPath): required field is missing")
                fieldPath.removeLast()
            }
        case .sequence(let items):
            guard let child = node.items else { return }
            for (i, item) in items.enumerated() {
                fieldPath.append(.index(i))
                check(item, against: child)
                fieldPath.removeLast()
            }
        case .string(let s):
            if let allowed = node.enumValues, !allowed.contains(s) {
                let list = allowed.map { quoted($0) }.joined(separator: ", ")
                report(value.span.start, "\(renderedPath): unsupported value \(quoted(s)): supported values: \(list)")
            }
        case .int(let i):
            if node.isInt32, i > Int(Int32.max) || i < Int(Int32.min) {
                report(value.span.start, "\(renderedPath): \(i) does not fit in a 32-bit integer")
            }
        default:
            break
        }
    }

    /// Label keys and values, and annotation keys, must have the shapes the API server accepts.
    private mutating func checkLabelsAndAnnotations(_ metadata: Value?, prefix: String = "metadata") {
        guard let metadata else { return }
        if let labels = metadata["labels"]?.mappingValue {
            for entry in labels.entries {
                if let problem = NameRules.qualifiedName(entry.key) {
                    report(entry.keySpan.start, "\(prefix).labels: invalid label key \(quoted(entry.key)): \(problem)")
                }
                if let value = entry.value.stringValue, let problem = NameRules.labelValue(value) {
                    report(entry.value.span.start, "\(prefix).labels.\(entry.key): invalid label value \(quoted(value)): \(problem)")
                }
            }
        }
        if let annotations = metadata["annotations"]?.mappingValue {
            var total = 0
            for entry in annotations.entries {
                if let problem = NameRules.qualifiedName(entry.key) {
                    report(entry.keySpan.start, "\(prefix).annotations: invalid annotation key \(quoted(entry.key)): \(problem)")
                }
                total += entry.key.utf8.count + (entry.value.stringValue?.utf8.count ?? 0)
            }
            if total > Self.maxAnnotationBytes, let at = metadata.mappingValue?.entry(forKey: "annotations")?.keySpan.start {
                report(at, "\(prefix).annotations: too long: \(total) bytes, at most \(Self.maxAnnotationBytes) (the API server's limit)")
            }
        }
    }

    /// All annotations of an object together, keys and values (the API server's limit).
    static let maxAnnotationBytes = 256 << 10
    /// An object as stored: etcd's default request limit.
    static let maxObjectBytes = 3 << 19

    /// The length of `value` as compact JSON (strings without their escapes), counted until it
    /// passes `limit`: a walk of the tree, nothing written.
    static func encodedSize(of value: Value, stoppingAbove limit: Int) -> Int {
        var total = 0
        func walk(_ value: Value) {
            guard total <= limit else { return }
            switch value.content {
            case .null: total += 4
            case .bool(let flag): total += flag ? 4 : 5
            case .int, .double: total += value.scalarText?.utf8.count ?? 8
            case .string(let text): total += text.utf8.count + 2
            case .sequence(let items):
                total += 1 + max(items.count, 1)
                for item in items { walk(item) }
            case .mapping(let mapping):
                total += 1 + max(mapping.count, 1)
                for entry in mapping.entries {
                    total += entry.key.utf8.count + 3
                    walk(entry.value)
                }
            }
        }
        walk(value)
        return total
    }
    /// A ConfigMap's or Secret's data together (the API server's limit).
    static let maxDataBytes = 1 << 20

    /// A ConfigMap's `data` and `binaryData`, or a Secret's `data` (decoded) and `stringData`,
    /// may hold at most 1 MiB together, as the API server checks.
    private mutating func checkDataSize(_ object: Value, isSecret: Bool) {
        var total = 0
        for field in isSecret ? ["data", "stringData"] : ["data", "binaryData"] {
            for entry in object[field]?.mappingValue?.entries ?? [] {
                let length = entry.value.stringValue?.utf8.count ?? 0
                // base64: three bytes for every four characters.
                let encoded = field == "binaryData" || (isSecret && field == "data")
                total += (isSecret ? 0 : entry.key.utf8.count) + (encoded ? length / 4 * 3 : length)
            }
        }
        guard total > Self.maxDataBytes else { return }
        let at = object.mappingValue?.entry(forKey: "data")?.keySpan.start ?? object.mappingValue?.entry(forKey: isSecret ? "stringData" : "binaryData")?.keySpan.start ?? object.span.start
        report(at, "data: too long: \(total) bytes, at most \(Self.maxDataBytes) (the API server's limit for a \(isSecret ? "Secret" : "ConfigMap"))")
    }

    /// A workload's selector must match its pod template's labels, or the API server refuses it.
    private mutating func checkTemplateLabels(_ object: Value) {
        guard let spec = object["spec"], let template = spec["template"] else { return }
        checkLabelsAndAnnotations(template["metadata"], prefix: "spec.template.metadata")
        guard let matchLabels = spec[path: ["selector", "matchLabels"]]?.mappingValue else { return }
        let labels = template[path: ["metadata", "labels"]]?.mappingValue
        for entry in matchLabels.entries {
            guard let wanted = entry.value.stringValue else { continue }
            if labels?[entry.key]?.stringValue != wanted {
                report(
                    entry.keySpan.start,
                    "spec.selector.matchLabels.\(entry.key): selector does not match template labels (the template has \(labels?[entry.key].map { Self.describe($0) } ?? "no such label"))"
                )
            }
        }
    }

    static func accepts(_ types: SchemaTable.Types, _ value: Value) -> Bool {
        switch value.content {
        case .null: return true
        case .bool: return types.contains(.boolean)
        case .int: return types.contains(.integer) || types.contains(.number)
        case .double: return types.contains(.number)
        case .string: return types.contains(.string)
        case .sequence: return types.contains(.array)
        case .mapping: return types.contains(.object)
        }
    }

    static func describe(_ types: SchemaTable.Types) -> String {
        var names: [String] = []
        if types.contains(.object) { names.append("an object") }
        if types.contains(.array) { names.append("an array") }
        if types.contains(.string) { names.append("a string") }
        if types.contains(.number) {
            names.append("a number")
        } else if types.contains(.integer) {
            names.append("an integer")
        }
        if types.contains(.boolean) { names.append("a boolean") }
        return names.joined(separator: " or ")
    }

    /// What was found, as the user wrote it: `string "80"`, `boolean yes`, `integer 3`.
    static func describe(_ value: Value) -> String {
        switch value.content {
        case .string(let s): return "string \(quoted(s))"
        case .sequence: return "an array"
        case .mapping: return "an object"
        default: return "\(value.typeName) \(value.scalarText ?? value.description)"
        }
    }

    /// The closest name within a small edit distance, for "did you mean" hints.
    static func suggestion(for name: String, among candidates: [String]) -> String? {
        let lowered = name.lowercased()
        var best: (String, Int)? = nil
        for candidate in candidates {
            let distance = editDistance(Array(lowered.utf8), Array(candidate.lowercased().utf8))
            let threshold = max(1, min(3, candidate.count / 3))
            if distance <= threshold, best == nil || distance < best!.1 || (distance == best!.1 && candidate < best!.0) {
                best = (candidate, distance)
            }
        }
        return best?.0
    }

    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

extension ManifestValidator {
    /// The schema problems of one object, as an API server's validation reports them
    /// (`spec.size: expected integer, found string`, a missing required field, an unsupported
    /// enum value), each with the field path it is about; unknown fields are left to the
    /// caller's field validation. `customSchema` is a custom resource's `openAPIV3Schema`;
    /// without it the built-in schema of `kind` is used. Empty when there is no schema.
    public static func problems(in object: Value, kind: GroupVersionKind, customSchema: Value? = nil) -> [(field: String, message: String)] {
        var table = SchemaTable.kubernetes
        if let customSchema {
            guard let root = try? SchemaCompiler.append(customSchema, to: &table) else { return [] }
            table.kinds[kind] = root
        } else if table.kinds[kind] == nil {
            return []
        }
        let id = ResourceID(kind, namespace: object[path: ["metadata", "namespace"]]?.stringValue, name: object[path: ["metadata", "name"]]?.stringValue ?? "")
        var checker = ObjectChecker(table: table, path: "<request>")
        checker.checkSchemaOnly(Resource(id: id, object: object, span: object.span))
        return checker.diagnostics.compactMap { diagnostic in
            // "Kind name: field.path: message"
            let text = diagnostic.message
            guard let colon = text.firstRange(of: ": ") else { return nil }
            let rest = String(text[colon.upperBound...])
            if rest.hasPrefix("unknown field") { return nil }
            guard let split = rest.firstRange(of: ": ") else { return (field: "", message: rest) }
            return (field: String(rest[..<split.lowerBound]), message: String(rest[split.upperBound...]))
        }
    }
}
