import Crypto
import Foundation
import Glibc
public import WindlassManifest
import WindlassProcess

/// A repository at one revision, as a kustomize render needs it.
public struct RepositoryAtRevision: Sendable {
    /// The whole repository (its root is the repository's root).
    public var tree: any FileTree
    /// Where the repository is on disk when it is a directory read as it is (rendered in
    /// place); nil for a commit, whose tree is written out first.
    public var directory: String?
    /// The id of the repository's tree (git): renders of the same tree are cached under it.
    public var treeID: String?

    public init(tree: any FileTree, directory: String? = nil, treeID: String? = nil) {
        self.tree = tree
        self.directory = directory
        self.treeID = treeID
    }
}

/// An application's directory, to load: its own tree, and how to reach the repository around
/// it (only asked for when a kustomization is found).
public struct KustomizeInput: Sendable {
    /// The application's directory.
    public var tree: any FileTree
    /// Where that directory is in the repository (`overlays/prod`; `""` for the root).
    public var path: String
    public var repository: @Sendable () throws -> RepositoryAtRevision

    public init(tree: any FileTree, path: String, repository: @escaping @Sendable () throws -> RepositoryAtRevision) {
        self.tree = tree
        self.path = KustomizationReferences.resolve(path, in: "") ?? path
        self.repository = repository
    }
}

/// What a load found and made.
public struct KustomizeLoad: Sendable {
    /// The manifests: plain files and rendered kustomizations side by side.
    public var manifests: ManifestSet
    /// The kustomize that rendered them; nil when the directory holds no kustomization.
    public var tool: KustomizeTool?
    /// The kustomizations rendered (repository directories), in order.
    public var rendered: [String] = []
    /// Every repository directory the manifests were read from: the application's, and the
    /// bases and components its kustomizations name outside it.
    public var inputDirectories: [String] = []
    /// How many renders came from the cache instead of running kustomize.
    public var cachedRenders = 0
}

/// Loads an application's directory where kustomizations and plain manifests may sit side by
/// side: a directory with a `kustomization.yaml` (or `.yml`, or `Kustomization`) is rendered
/// by kustomize itself, as Argo CD and Flux do; every other manifest is read as it is.
///
/// A kustomization that another one names (a base, a component) is rendered only as part of
/// it. Every resource knows the file it came from (see ``OriginIndex``; kustomize's own origin
/// annotations when a kustomization asks for them, removed from the objects), shown at line 1.
public struct KustomizeRenderer: Sendable {
    public var settings: KustomizeSettings
    /// Where written-out trees and renders are kept (`<state>/cache/kustomize`); nil: nothing kept.
    public var cacheDirectory: String?

    public init(settings: KustomizeSettings = KustomizeSettings(), cacheDirectory: String? = nil) {
        self.settings = settings
        self.cacheDirectory = cacheDirectory
    }

    /// The annotation kustomize writes each resource's origin to.
    static let originAnnotation = "config.kubernetes.io/origin"

    public func load(_ input: KustomizeInput, options: LoadOptions = LoadOptions()) -> KustomizeLoad {
        let listing = ManifestLoader.listing(of: input.tree, options: options)
        if listing.stopped {
            return KustomizeLoad(manifests: ManifestSet(diagnostics: listing.diagnostics), inputDirectories: [input.path])
        }
        guard !listing.kustomizations.isEmpty else {
            var set = ManifestLoader.load([.files(listing.files, in: input.tree)], options: options)
            set.diagnostics = listing.diagnostics + set.diagnostics
            return KustomizeLoad(manifests: set, inputDirectories: [input.path])
        }
        var diagnostics = listing.diagnostics
        func stopped(_ more: [Diagnostic] = []) -> KustomizeLoad {
            KustomizeLoad(manifests: ManifestSet(diagnostics: diagnostics + more), inputDirectories: [input.path])
        }
        let repository: RepositoryAtRevision
        do {
            repository = try input.repository()
        } catch {
            return stopped([Diagnostic(.error, at: SourceLocation(path: input.tree.displayPath("")), "reading the repository around the kustomization: \(error)")])
        }
        let tool: KustomizeTool
        do {
            tool = try KustomizeTool.locate(settings)
        } catch {
            return stopped([Diagnostic(.error, at: SourceLocation(path: input.tree.displayPath(listing.kustomizations[0])), error.message)])
        }

        // The kustomizations of the application's directory, as repository directories.
        let own = listing.kustomizations.map { Self.join(input.path, Self.parent($0)) }
        var graph = KustomizationGraph(repository: repository.tree, settings: settings)
        graph.visit(Array(Set(own)).sorted())
        diagnostics += graph.diagnostics
        if diagnostics.contains(where: { $0.severity == .error }) { return stopped() }

        let roots = Array(Set(own)).sorted().filter { !graph.referenced.contains($0) }
        let ownDirectories = Set(listing.kustomizations.map(Self.parent))
        let plain = listing.files.filter { file in
            !ownDirectories.contains { $0.isEmpty || file.hasPrefix($0 + "/") }
        }
        var sets = [ManifestLoader.load([.files(plain, in: input.tree)], options: options)]
        var cached = 0
        let origins = OriginIndex(repository: repository.tree, kustomizations: graph.files)
        for root in roots {
            let render = self.render(root, kustomization: graph.files[root] ?? root, repository: repository, tool: tool, origins: origins)
            if render.cached { cached += 1 }
            sets.append(render.set)
        }
        var merged = ManifestLoader.merge(sets, options: options)
        merged.diagnostics = diagnostics + merged.diagnostics
        let outside = graph.visited.filter { $0 != input.path && !$0.hasPrefix(input.path.isEmpty ? "" : input.path + "/") }
        return KustomizeLoad(
            manifests: merged, tool: tool, rendered: roots, inputDirectories: [input.path] + outside.sorted(),
            cachedRenders: cached)
    }

    // MARK: - One render

    struct Render {
        var set: ManifestSet
        var cached: Bool
    }

    /// Renders the kustomization in repository directory `directory` (its file `kustomization`).
    func render(_ directory: String, kustomization: String, repository: RepositoryAtRevision, tool: KustomizeTool, origins: OriginIndex) -> Render {
        let shown = repository.tree.displayPath(kustomization)
        func failed(_ message: String) -> Render {
            Render(set: ManifestSet(diagnostics: [Diagnostic(.error, at: SourceLocation(path: shown), message)]), cached: false)
        }
        let label = "kustomize build \(directory.isEmpty ? "." : directory)"
        let cacheFile = cacheKey(directory, repository: repository, tool: tool).map { cacheDirectory! + "/renders/" + $0 + ".yaml" }
        if let cacheFile, let bytes = FileManager.default.contents(atPath: cacheFile) {
            let parsed = parse(Array(bytes), directory: directory, kustomization: kustomization, repository: repository, origins: origins)
            if case .success(let set) = parsed { return Render(set: set, cached: true) }
        }

        let root: String
        var removeAfterwards: [String] = []
        do {
            if let directory = repository.directory {
                root = Self.realPath(directory)
            } else {
                root = try materialize(repository)
                // Without a cache, the tree was written to a directory of its own, for this render.
                if cacheDirectory == nil || repository.treeID == nil { removeAfterwards.append((root as NSString).deletingLastPathComponent) }
            }
        } catch {
            return failed("writing the repository out for \(label): \(error)")
        }
        defer { for path in removeAfterwards { try? FileManager.default.removeItem(atPath: path) } }
        // kustomize runs in the kustomization's directory, on `.`: its messages name paths
        // relative to it, and it never sees where the tree was written.
        let build = directory.isEmpty ? root : root + "/" + directory

        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(
                tool.command(".", settings: settings), environment: KustomizeTool.minimalEnvironment(home: build), directory: build,
                timeout: settings.timeout, maxOutputBytes: settings.maxOutputBytes)
        } catch {
            return failed("\(tool.path) could not be run: \(error.localizedDescription)")
        }
        if outcome.timedOut { return failed("\(label) did not finish within \(Self.seconds(settings.timeout)) (kustomize.timeout); it was stopped") }
        if outcome.outputExceeded {
            return failed("\(label) printed more than \(settings.maxOutputBytes >> 20) MiB; it was stopped (a limit of one render)")
        }
        guard outcome.status == 0 else {
            let said = Self.cleaned(String(decoding: outcome.stderr, as: UTF8.self), root: root, build: build)
            return failed("\(label) failed (exit \(outcome.status)): \(said.isEmpty ? "it printed nothing on stderr" : said)")
        }
        let output = Self.relocatingOrigins(Array(outcome.stdout), from: build, root: root)
        switch parse(output, directory: directory, kustomization: kustomization, repository: repository, origins: origins) {
        case .success(let set):
            if let cacheFile { Self.writeAtomically(output, to: cacheFile) }
            return Render(set: set, cached: false)
        case .failure(let error):
            return failed("\(label) printed output that is not YAML: \(error.message) (at \(error.position))")
        }
    }

    /// The render's output as resources: each one spanned to the file it came from (line 1),
    /// its origin annotation removed.
    func parse(
        _ output: [UInt8], directory: String, kustomization: String, repository: RepositoryAtRevision, origins: OriginIndex
    ) -> Result<ManifestSet, YAMLError> {
        let documents: [YAMLDocument]
        do {
            documents = try YAMLReader.read(output, file: FileID(0))
        } catch {
            return .failure(error)
        }
        var files: [String] = []
        var ids: [String: FileID] = [:]
        var objects: [Value] = []
        objects.reserveCapacity(documents.count)
        for document in documents where !document.root.isNull {
            var object = document.root
            let origin = object[path: ["metadata", "annotations", Self.originAnnotation]]?.stringValue
            let file: String
            if let named = origin.flatMap({ Self.originFile($0, repository: repository) }) {
                file = named
            } else if let kind = object["kind"]?.stringValue, let name = object[path: ["metadata", "name"]]?.stringValue,
                let path = origins.file(kind: kind, name: name)
            {
                file = repository.tree.displayPath(path)
            } else {
                file = repository.tree.displayPath(kustomization)
            }
            if origin != nil {
                _ = object.remove(at: ["metadata", "annotations", Self.originAnnotation])
                if case .mapping(let annotations)? = object[path: ["metadata", "annotations"]]?.content, annotations.entries.isEmpty {
                    _ = object.remove(at: ["metadata", "annotations"])
                }
            }
            let id: FileID
            if let known = ids[file] {
                id = known
            } else {
                id = FileID(UInt32(files.count))
                ids[file] = id
                files.append(file)
            }
            let span = SourceSpan(file: id, start: SourcePosition(line: 1, column: 1))
            object.respan { _ in span }
            objects.append(object)
        }
        return .success(ManifestLoader.set(of: objects, files: files))
    }

    /// The file an origin annotation names, as shown to the user: `path` (a resource file) or
    /// `configuredIn` (the kustomization of a generator), relative to the repository; a remote
    /// origin as `repo//path`.
    static func originFile(_ origin: String, repository: RepositoryAtRevision) -> String? {
        guard let fields = try? YAMLReader.read(origin).first?.root else { return nil }
        guard let path = fields["path"]?.stringValue ?? fields["configuredIn"]?.stringValue else { return nil }
        if let repo = fields["repo"]?.stringValue { return repo + "//" + path }
        guard path.hasPrefix(Self.rootMarker) else { return path }
        return repository.tree.displayPath(String(path.dropFirst(Self.rootMarker.count)))
    }

    /// Origins are rewritten to start with this marker and then the repository path, so a
    /// cached render does not depend on where the tree was written.
    static let rootMarker = "windlass-repository:/"

    /// kustomize's origin paths (when a kustomization asks for them) are relative to the
    /// directory built: each becomes `rootMarker` + its repository path (a path outside the
    /// repository is left as it is). Only the lines of origin annotations are read.
    static func relocatingOrigins(_ output: [UInt8], from build: String, root: String) -> [UInt8] {
        let text = String(decoding: output, as: UTF8.self)
        var lines: [String] = []
        var annotationIndent: Int?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            let indent = line.count - trimmed.count
            if let outer = annotationIndent, indent <= outer || trimmed.isEmpty { annotationIndent = nil }
            if annotationIndent == nil, trimmed.hasPrefix(originAnnotation + ": |") {
                annotationIndent = indent
                lines.append(String(line))
                continue
            }
            guard annotationIndent != nil else {
                lines.append(String(line))
                continue
            }
            var rewritten = String(line)
            for key in ["path: ", "configuredIn: "] where trimmed.hasPrefix(key) {
                let value = trimmed.dropFirst(key.count)
                let absolute = ((build + "/" + value) as NSString).standardizingPath
                if absolute.hasPrefix(root + "/") {
                    rewritten = String(repeating: " ", count: indent) + key + rootMarker + absolute.dropFirst(root.count + 1)
                }
            }
            lines.append(rewritten)
        }
        return Array(lines.joined(separator: "\n").utf8)
    }

    // MARK: - The cache

    /// The render's key: tree, directory, kustomize and its flags.
    func cacheKey(_ directory: String, repository: RepositoryAtRevision, tool: KustomizeTool) -> String? {
        guard cacheDirectory != nil, repository.directory == nil, let treeID = repository.treeID, !treeID.isEmpty else { return nil }
        var hasher = SHA256()
        for part in [treeID, directory, tool.path, tool.version, settings.buildOptions.joined(separator: "\u{0}"), "\(settings.enableHelm)"] {
            hasher.update(data: Data(part.utf8))
            hasher.update(data: Data([0]))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The repository's tree written to disk, once per tree id when there is a cache.
    func materialize(_ repository: RepositoryAtRevision) throws -> String {
        let base: String
        let name: String
        if let cacheDirectory, let treeID = repository.treeID, !treeID.isEmpty {
            base = cacheDirectory + "/trees"
            name = treeID
        } else {
            base = try Self.temporaryDirectory()
            name = "tree"
        }
        let root = base + "/" + name
        if !FileManager.default.fileExists(atPath: root) {
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            let staging = base + "/.staging-\(getpid())-" + UUID().uuidString.lowercased()
            var writer = TreeWriter(tree: repository.tree)
            do {
                try writer.write("", to: staging, depth: 0)
            } catch {
                try? FileManager.default.removeItem(atPath: staging)
                throw error
            }
            // Another process may have written the same tree meanwhile: either copy will do.
            if rename(staging, root) != 0 { try? FileManager.default.removeItem(atPath: staging) }
            prune(base)
        }
        return Self.realPath(root)
    }

    /// Keeps the 32 trees and the 512 renders used last.
    func prune(_ trees: String) {
        Self.keepNewest(32, in: trees) { !$0.hasPrefix(".") }
        if let cacheDirectory { Self.keepNewest(512, in: cacheDirectory + "/renders") { $0.hasSuffix(".yaml") } }
    }

    static func keepNewest(_ count: Int, in directory: String, where include: (String) -> Bool) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        let entries = names.filter(include).map { name -> (String, Date) in
            let date = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.modificationDate] as? Date) ?? .distantPast
            return (name, date ?? .distantPast)
        }
        guard entries.count > count else { return }
        for (name, _) in entries.sorted(by: { $0.1 > $1.1 }).dropFirst(count) {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let staging = path + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: staging, contents: Data(bytes)) else { return }
        if rename(staging, path) != 0 { try? FileManager.default.removeItem(atPath: staging) }
    }

    // MARK: - Paths and messages

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    static func join(_ directory: String, _ path: String) -> String {
        directory.isEmpty ? path : (path.isEmpty ? directory : directory + "/" + path)
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return (path as NSString).standardizingPath }
        defer { free(resolved) }
        return String(decoding: UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)), as: UTF8.self)
    }

    static func temporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/windlass-kustomize-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw KustomizeError("mkdtemp: \(String(cString: strerror(errno)))") }
        return realPath(String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// `to` relative to `from` (both absolute).
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }

    /// kustomize's stderr in one line: kubectl's `E1205 ... "command failed" err="..."`
    /// unwrapped, and the paths of the written-out tree made relative to the repository.
    static func cleaned(_ stderr: String, root: String, build: String) -> String {
        var text = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        if let start = text.range(of: "err=\""), text.hasSuffix("\"") {
            text = String(text[start.upperBound..<text.index(before: text.endIndex)])
            text = text.replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\n", with: " ")
        }
        if text.hasPrefix("Error: ") { text = String(text.dropFirst("Error: ".count)) }
        for prefix in [root + "/", root] {
            text = text.replacingOccurrences(of: prefix, with: "")
        }
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.joined(separator: "; ")
    }
}

/// Writes a ``FileTree`` out to disk (a commit's tree, for kustomize to read).
struct TreeWriter {
    /// One file, written in place (the whole tree is renamed into place once written).
    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw KustomizeError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw KustomizeError("cannot write \(path): \(String(cString: strerror(errno)))") }
            written += count
        }
    }

    let tree: any FileTree
    var bytesWritten = 0
    var entries = 0
    let limits = TreeLimits()

    mutating func write(_ directory: String, to target: String, depth: Int) throws {
        guard depth <= limits.maxDepth else { throw KustomizeError("directories nest deeper than \(limits.maxDepth) levels at \(tree.displayPath(directory))") }
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for entry in try tree.entries(of: directory) {
            entries += 1
            guard entries <= limits.maxEntries else { throw KustomizeError("the repository has more than \(limits.maxEntries) entries") }
            let path = directory.isEmpty ? entry.name : directory + "/" + entry.name
            switch entry.kind {
            case .directory:
                if entry.name == ".git" { continue }
                try write(path, to: target + "/" + entry.name, depth: depth + 1)
            case .file:
                let bytes = try tree.contents(of: path, limit: 64 << 20)
                bytesWritten += bytes.count
                guard bytesWritten <= limits.maxTotalBytes else {
                    throw KustomizeError("the repository holds more than \(limits.maxTotalBytes >> 20) MiB")
                }
                try Self.writeFile(target + "/" + entry.name, bytes)
            case .skipped, .unreadable:
                continue
            }
        }
    }
}
