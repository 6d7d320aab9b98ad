import Dispatch
import Synchronization

/// What one load may cost at most: a commit cannot make Windlass walk or hold more than this.
public struct TreeLimits: Sendable, Hashable {
    /// Directory entries walked (files, directories, links), over the whole tree.
    public var maxEntries: Int
    /// How deep directories may nest below the root.
    public var maxDepth: Int
    /// Bytes of manifest files read, over the whole tree.
    public var maxTotalBytes: Int

    public init(maxEntries: Int = 100_000, maxDepth: Int = 64, maxTotalBytes: Int = 256 << 20) {
        self.maxEntries = maxEntries
        self.maxDepth = maxDepth
        self.maxTotalBytes = maxTotalBytes
    }
}

/// Options for loading a tree of manifests.
public struct LoadOptions: Sendable {
    /// The namespace given to namespaced objects that name none (kubectl's `--namespace`).
    public var defaultNamespace: String
    public var yamlLimits: YAMLLimits
    /// Largest manifest file, in bytes.
    public var maxFileBytes: Int
    /// How many files are parsed at once; 1 reads them one after another.
    public var concurrency: Int
    /// Bounds on the walk and on the bytes read.
    public var treeLimits: TreeLimits
    /// Asked between directories and files: a load that is no longer wanted stops early, its
    /// set holding an error.
    public var isCancelled: @Sendable () -> Bool

    public init(
        defaultNamespace: String = "default",
        yamlLimits: YAMLLimits = YAMLLimits(),
        maxFileBytes: Int = 64 << 20,
        concurrency: Int = ManifestLoader.processorCount,
        treeLimits: TreeLimits = TreeLimits(),
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) {
        self.defaultNamespace = defaultNamespace
        self.yamlLimits = yamlLimits
        self.maxFileBytes = maxFileBytes
        self.concurrency = concurrency
        self.treeLimits = treeLimits
        self.isCancelled = isCancelled
    }
}

/// Where to read manifests from: every manifest under a tree, or chosen files of it.
public struct ManifestRoot: Sendable {
    public var tree: any FileTree
    /// Files to read; nil to walk the whole tree.
    public var files: [String]?

    /// Every `.yaml`, `.yml` and `.json` file under the tree, less what `.windlassignore` excludes.
    public static func tree(_ tree: any FileTree) -> ManifestRoot { ManifestRoot(tree: tree, files: nil) }

    /// Just these files of the tree, whatever their extension.
    public static func files(_ files: [String], in tree: any FileTree) -> ManifestRoot {
        ManifestRoot(tree: tree, files: files)
    }
}

/// What a walk of a tree found.
public struct TreeListing: Sendable {
    /// The manifest files (`.yaml`, `.yml`, `.json`), sorted, less what `.windlassignore` excludes.
    public var files: [String]
    /// The kustomization files, sorted.
    public var kustomizations: [String]
    public var diagnostics: [Diagnostic]
    /// Whether a limit or a cancellation cut the walk short (its error is among the diagnostics).
    public var stopped: Bool
}

/// Reads trees of manifests into a ``ManifestSet``.
///
/// Every problem inside the trees becomes a located diagnostic and loading goes on, so one run
/// reports them all; only a root that cannot be read at all throws.
public enum ManifestLoader {
    /// The default concurrency: one file at a time per processor.
    public static var processorCount: Int {
        max(1, SystemInfo.activeProcessorCount)
    }

    /// Loads files and directories named on a command line.
    public static func load(paths: [String], options: LoadOptions = LoadOptions()) throws(FileTreeError) -> ManifestSet {
        var roots: [ManifestRoot] = []
        for path in paths {
            switch DirectoryTree.kind(ofPath: path) {
            case .directory:
                roots.append(.tree(DirectoryTree(root: path)))
            case .file:
                let (directory, name) = splitPath(path)
                roots.append(.files([name], in: DirectoryTree(root: directory)))
            case .unreadable(let reason), .skipped(let reason):
                throw FileTreeError(path: path, message: reason == "not a regular file" ? reason : "cannot read: \(reason)")
            }
        }
        return load(roots, options: options)
    }

    /// The manifest files a load of `tree` would read (in order), and the problems met walking it.
    public static func manifestFiles(in tree: any FileTree, limits: TreeLimits = TreeLimits()) -> (files: [String], diagnostics: [Diagnostic]) {
        var walker = TreeWalker(tree: tree, limits: limits)
        walker.walk()
        return (walker.files, walker.diagnostics)
    }

    /// What a walk of `tree` finds: its manifest files, its kustomization files, and the
    /// problems met (a walk cut short by a limit is `stopped`: its files are not the tree's).
    public static func listing(of tree: any FileTree, options: LoadOptions = LoadOptions()) -> TreeListing {
        var walker = TreeWalker(tree: tree, limits: options.treeLimits, isCancelled: options.isCancelled)
        walker.walk()
        return TreeListing(files: walker.files, kustomizations: walker.kustomizations, diagnostics: walker.diagnostics, stopped: walker.stopped)
    }

    /// Sets read apart (plain files, renders of kustomizations) made one: file ids renumbered,
    /// default namespaces filled in, and an object defined twice reported at its second
    /// definition, as for one tree.
    public static func merge(_ sets: [ManifestSet], options: LoadOptions = LoadOptions()) -> ManifestSet {
        var merged = ManifestSet()
        for set in sets {
            let offset = UInt32(merged.files.count)
            merged.files += set.files
            merged.diagnostics += set.diagnostics
            merged.resources.reserveCapacity(merged.resources.count + set.resources.count)
            for var resource in set.resources {
                if offset > 0 { resource.renumberFile(by: offset) }
                merged.resources.append(resource)
            }
        }
        resolveNamespaces(&merged, options: options)
        reportDuplicates(&merged)
        return merged
    }

    /// The resources of objects made elsewhere (a renderer's output), each node already
    /// spanned to a file of `files`: identity fields checked and lists expanded as for a file.
    public static func set(of objects: [Value], files: [String]) -> ManifestSet {
        var set = ManifestSet(files: files)
        for object in objects {
            var extractor = ResourceExtractor(path: set.path(of: object.span.file))
            extractor.extract(YAMLDocument(root: object, span: object.span, index: 0))
            set.resources += extractor.resources
            set.diagnostics += extractor.diagnostics
        }
        return set
    }

    /// Loads every manifest of a tree.
    public static func load(_ tree: any FileTree, options: LoadOptions = LoadOptions()) -> ManifestSet {
        load([.tree(tree)], options: options)
    }

    /// Loads several roots into one set (file ids run across all of them).
    public static func load(_ roots: [ManifestRoot], options: LoadOptions = LoadOptions()) -> ManifestSet {
        var listed: [(tree: any FileTree, path: String)] = []
        var diagnostics: [Diagnostic] = []
        for root in roots {
            if let files = root.files {
                listed += files.map { (root.tree, $0) }
            } else {
                var walker = TreeWalker(tree: root.tree, limits: options.treeLimits, isCancelled: options.isCancelled)
                walker.walk()
                // A walk cut short by a limit reads nothing of its tree: its error says why.
                if !walker.stopped { listed += walker.files.map { (root.tree, $0) } }
                diagnostics += walker.diagnostics
            }
        }

        let files = listed
        let displayPaths = files.map { $0.tree.displayPath($0.path) }
        let budget = ByteBudget(limit: options.treeLimits.maxTotalBytes)
        let results = parallelMap(count: files.count, concurrency: options.concurrency) { index in
            readFile(
                files[index].tree,
                files[index].path,
                shownAs: displayPaths[index],
                id: FileID(UInt32(index)),
                options: options,
                budget: budget
            )
        }

        var set = ManifestSet(files: displayPaths)
        set.diagnostics = diagnostics
        if options.isCancelled() {
            set.diagnostics.append(Diagnostic(.error, at: SourceLocation(path: displayPaths.first ?? "."), "loading was cancelled"))
        }
        set.resources.reserveCapacity(results.reduce(0) { $0 + $1.resources.count })
        for result in results {
            set.resources += result.resources
            set.diagnostics += result.diagnostics
        }
        resolveNamespaces(&set, options: options)
        reportDuplicates(&set)
        return set
    }

    private static func readFile(
        _ tree: any FileTree,
        _ path: String,
        shownAs shown: String,
        id: FileID,
        options: LoadOptions,
        budget: ByteBudget
    ) -> ResourceExtractor {
        var extractor = ResourceExtractor(path: shown)
        do {
            // The load reports the cancellation once, at its end.
            guard !options.isCancelled() else { return extractor }
            let bytes = try tree.contents(of: path, limit: options.maxFileBytes)
            let taken = budget.take(bytes.count)
            guard taken.fits else {
                if let error = taken.error { extractor.diagnostics.append(Diagnostic(.error, at: SourceLocation(path: shown), error)) }
                return extractor
            }
            let documents = try YAMLReader.read(bytes, file: id, limits: options.yamlLimits)
            for document in documents {
                extractor.extract(document)
            }
        } catch let error as FileTreeError {
            extractor.diagnostics.append(Diagnostic(.error, at: SourceLocation(path: shown), error.message))
        } catch let error as YAMLError {
            extractor.diagnostics.append(Diagnostic(.error, at: SourceLocation(path: shown, position: error.position), error.message))
        } catch {
            extractor.diagnostics.append(Diagnostic(.error, at: SourceLocation(path: shown), "\(error)"))
        }
        return extractor
    }

    /// Fills in the default namespace of namespaced objects and drops the namespace of
    /// cluster-scoped ones (with a warning, as the API server would ignore it).
    private static func resolveNamespaces(_ set: inout ManifestSet, options: LoadOptions) {
        var scopes = ResourceScopes()
        for resource in set.resources
        where resource.id.kind == "CustomResourceDefinition" && resource.id.group == "apiextensions.k8s.io" {
            scopes.register(crd: resource.object)
        }
        for index in set.resources.indices {
            let id = set.resources[index].id
            if scopes.isClusterScoped(id.groupKind) {
                if let namespace = id.namespace {
                    set.diagnostics.append(
                        Diagnostic(
                            .warning,
                            at: set.location(of: set.resources[index]),
                            "\(id.kind) is cluster-scoped; its namespace \(quoted(namespace)) is ignored"
                        )
                    )
                    set.resources[index].id.namespace = nil
                }
            } else if id.namespace == nil {
                set.resources[index].id.namespace = options.defaultNamespace
                set.resources[index].object.setNamespace(options.defaultNamespace)
            }
        }
    }

    /// The same object defined twice: an error at the second definition naming the first.
    private static func reportDuplicates(_ set: inout ManifestSet) {
        var seen: [ResourceID: Int] = [:]
        seen.reserveCapacity(set.resources.count)
        var kept: [Resource] = []
        kept.reserveCapacity(set.resources.count)
        for resource in set.resources {
            if let first = seen[resource.id] {
                set.diagnostics.append(
                    Diagnostic(
                        .error,
                        at: set.location(of: resource),
                        "duplicate resource \(resource.id): also defined at \(set.location(of: kept[first]))"
                    )
                )
                continue
            }
            seen[resource.id] = kept.count
            kept.append(resource)
        }
        set.resources = kept
    }

    /// Loads on a thread outside Swift's cooperative pool (a large tree or a slow disk never
    /// holds one of its threads), and stops early when the calling task is cancelled.
    public static func loadInBackground(_ roots: [ManifestRoot], options: LoadOptions = LoadOptions()) async -> ManifestSet {
        let flag = OnceFlag()
        var options = options
        let outer = options.isCancelled
        options.isCancelled = { [flag] in flag.isSet || outer() }
        let finalOptions = options
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                loadingQueue.async {
                    continuation.resume(returning: load(roots, options: finalOptions))
                }
            }
        } onCancel: {
            flag.set()
        }
    }

    static func splitPath(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}

extension Value {
    /// Sets `metadata.namespace`, keeping the written order of the other fields.
    mutating func setNamespace(_ namespace: String) {
        guard case .mapping(var fields) = content, let index = fields.index(forKey: "metadata"),
            case .mapping(var metadata) = fields.entries[index].value.content
        else { return }
        metadata["namespace"] = .string(namespace)
        fields.entries[index].value.content = .mapping(metadata)
        content = .mapping(fields)
    }
}

/// Where ``ManifestLoader/loadInBackground(_:options:)`` runs loads.
private let loadingQueue = DispatchQueue(label: "windlass.manifests.load", attributes: .concurrent)

/// The bytes a load may still read, shared by its reading threads.
final class ByteBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts `count` bytes read: whether they fit, and the error to report by the file that
    /// spent the budget (one error, not one per file after it).
    func take(_ count: Int) -> (fits: Bool, error: String?) {
        let total = used.add(count, ordering: .relaxed).newValue
        guard total > limit else { return (true, nil) }
        guard total - count <= limit else { return (false, nil) }
        return (false, "not read: the manifests exceed \(describeBytes(limit)) in all (a limit of one application)")
    }
}

/// Walks a tree depth-first in name order, reading `.windlassignore` files on the way, skipping
/// hidden entries (`.git`, `.github`, …), and stopping at symlinks that loop.
///
/// A directory reached through a symlink is read once, by its target: links are followed after
/// the real directories, and one whose target was read already is not read again (7 levels of 8
/// links each would otherwise be 8⁷ paths). The walk stops at ``TreeLimits`` and when cancelled.
struct TreeWalker {
    let tree: any FileTree
    let limits: TreeLimits
    let isCancelled: @Sendable () -> Bool
    var files: [String] = []
    /// Kustomization files met (`kustomization.yaml`, `kustomization.yml`, `Kustomization`).
    var kustomizations: [String] = []
    var diagnostics: [Diagnostic] = []
    /// Directories read, by identity.
    private var read: Set<[UInt64]> = []
    /// Directories reached through a symlink, read after the rest.
    private var linked: [(path: String, identity: [UInt64]?, ancestors: [[UInt64]], rules: IgnoreRules, depth: Int, inKustomization: Bool)] = []
    /// Links not followed because their target was read, by target: the first link, and how many.
    private var skippedLinks: [[UInt64]: (path: String, count: Int)] = [:]
    private var entriesSeen = 0
    /// Whether the walk stopped early (a limit, a cancellation): its files are not the tree's.
    private(set) var stopped = false

    /// Whether a `.jsonnet` or `.libsonnet` file was met (for the warning of a tree with no manifests).
    private var sawJsonnet = false
    /// The file that makes a directory a Helm chart.
    static let chartFile = "Chart.yaml"

    init(tree: any FileTree, limits: TreeLimits = TreeLimits(), isCancelled: @escaping @Sendable () -> Bool = { false }) {
        self.tree = tree
        self.limits = limits
        self.isCancelled = isCancelled
    }

    mutating func walk() {
        if let root = tree.rootIdentity { read.insert(root) }
        walk("", ancestors: tree.rootIdentity.map { [$0] } ?? [], rules: IgnoreRules(), depth: 0, inKustomization: false)
        var next = 0
        while next < linked.count, !stopped {
            let link = linked[next]
            next += 1
            if let identity = link.identity, read.contains(identity) {
                skippedLinks[identity, default: (link.path, 0)].count += 1
                continue
            }
            if let identity = link.identity { read.insert(identity) }
            walk(link.path, ancestors: link.ancestors, rules: link.rules, depth: link.depth, inKustomization: link.inKustomization)
        }
        for (path, count) in skippedLinks.values.sorted(by: { $0.path < $1.path }) {
            let others = count > 1 ? " (nor \(count - 1) other link\(count == 2 ? "" : "s") to it)" : ""
            diagnostics.append(
                Diagnostic(
                    .warning,
                    at: SourceLocation(path: tree.displayPath(path)),
                    "symlink to a directory that is read anyway; not read twice\(others)"
                )
            )
        }
        // String order is Unicode scalar order, the same as byte order for UTF-8.
        files.sort()
        kustomizations.sort()
        if !stopped, files.isEmpty, kustomizations.isEmpty, !diagnostics.contains(where: { $0.severity == .error }) {
            // A path with nothing to read is most often the wrong path, or a format Windlass
            // does not render: said, not taken silently for "no objects".
            let hint = sawJsonnet ? "; its Jsonnet files are not rendered (commit their output as YAML or JSON)" : ""
            diagnostics.append(
                Diagnostic(.warning, at: SourceLocation(path: tree.displayPath("")), "no manifests here: no .yaml, .yml or .json file, nor a kustomization\(hint)"))
        }
    }

    private mutating func stop(_ message: String) {
        stopped = true
        diagnostics.append(Diagnostic(.error, at: SourceLocation(path: tree.displayPath("")), message))
    }

    /// `inKustomization`: a directory at or above this one holds a kustomization, which
    /// renders what it needs of the files below (a chart it inflates among them).
    private mutating func walk(_ directory: String, ancestors: [[UInt64]], rules: IgnoreRules, depth: Int, inKustomization: Bool) {
        guard !stopped else { return }
        if isCancelled() { return stop("reading the tree was cancelled") }
        guard depth <= limits.maxDepth else {
            return stop("directories nest deeper than \(limits.maxDepth) levels (at \(tree.displayPath(directory))); the tree was not read")
        }
        let entries: [FileTreeEntry]
        do {
            entries = try tree.entries(of: directory)
        } catch {
            diagnostics.append(Diagnostic(.error, at: SourceLocation(path: error.path), error.message))
            return
        }
        entriesSeen += entries.count
        guard entriesSeen <= limits.maxEntries else {
            return stop("the tree has more than \(limits.maxEntries) entries; it was not read (a limit of one application)")
        }
        var rules = rules
        if entries.contains(where: { $0.name == IgnoreRules.fileName && $0.kind == .file }) {
            let path = directory.isEmpty ? IgnoreRules.fileName : directory + "/" + IgnoreRules.fileName
            do {
                let bytes = try tree.contents(of: path, limit: 1 << 20)
                rules.add(String(decoding: bytes, as: UTF8.self), in: directory)
            } catch {
                diagnostics.append(Diagnostic(.error, at: SourceLocation(path: error.path), error.message))
            }
        }
        let chart = directory.isEmpty ? Self.chartFile : directory + "/" + Self.chartFile
        if entries.contains(where: { $0.name == Self.chartFile && $0.kind == .file }), !rules.isIgnored(chart, isDirectory: false) {
            // A Helm chart's templates are not manifests until Helm renders them: one clear
            // error for the chart, not one per template and values file.
            if !inKustomization {
                let shown = directory.isEmpty ? tree.displayPath("") : tree.displayPath(directory)
                diagnostics.append(
                    Diagnostic(
                        .error, at: SourceLocation(path: tree.displayPath(chart)),
                        "\(shown) is a Helm chart, which Windlass does not render: commit what `helm template` makes of it instead, or leave the chart out with \(IgnoreRules.fileName)"
                    ))
            }
            return
        }
        let inKustomization = inKustomization || entries.contains { ManifestFileKind.isKustomization($0.name) && $0.kind == .file }
        for entry in entries.sorted(by: { $0.name < $1.name }) {
            if stopped { return }
            if entry.name.hasPrefix(".") { continue }
            let path = directory.isEmpty ? entry.name : directory + "/" + entry.name
            switch entry.kind {
            case .directory(let identity):
                if rules.isIgnored(path, isDirectory: true) { continue }
                if let identity, ancestors.contains(identity) {
                    diagnostics.append(
                        Diagnostic(
                            .error,
                            at: SourceLocation(path: tree.displayPath(path)),
                            "symlink loop: this directory leads back to one that encloses it; not followed"
                        )
                    )
                    continue
                }
                let inner = identity.map { ancestors + [$0] } ?? ancestors
                if entry.isLink {
                    linked.append((path, identity, inner, rules, depth + 1, inKustomization))
                    continue
                }
                if let identity { read.insert(identity) }
                walk(path, ancestors: inner, rules: rules, depth: depth + 1, inKustomization: inKustomization)
            case .file:
                guard !rules.isIgnored(path, isDirectory: false) else { continue }
                if ManifestFileKind.isKustomization(entry.name) { kustomizations.append(path) }
                if ManifestFileKind.isManifest(entry.name) { files.append(path) }
                if entry.name.hasSuffix(".jsonnet") || entry.name.hasSuffix(".libsonnet") { sawJsonnet = true }
            case .skipped(let reason):
                if !rules.isIgnored(path, isDirectory: false) {
                    diagnostics.append(Diagnostic(.warning, at: SourceLocation(path: tree.displayPath(path)), reason))
                }
            case .unreadable(let reason):
                let isLoop = reason.hasPrefix("symlink loop")
                if (isLoop || ManifestFileKind.isManifest(entry.name)), !rules.isIgnored(path, isDirectory: false) {
                    diagnostics.append(
                        Diagnostic(.error, at: SourceLocation(path: tree.displayPath(path)), "cannot read: \(reason)")
                    )
                }
            }
        }
    }
}
