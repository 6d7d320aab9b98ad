/// The desired set read from a tree of manifests: the files read, the resources found in them,
/// and every problem met on the way, each with its location.
public struct ManifestSet: Sendable {
    /// The files that were read, indexed by ``FileID``, as shown to the user.
    public var files: [String]
    /// The resources, in file order and then in order within each file.
    public var resources: [Resource]
    /// Problems found while reading, in file order.
    public var diagnostics: [Diagnostic]

    public init(files: [String] = [], resources: [Resource] = [], diagnostics: [Diagnostic] = []) {
        self.files = files
        self.resources = resources
        self.diagnostics = diagnostics
    }

    /// The path of a file as shown to the user.
    public func path(of file: FileID) -> String {
        let index = Int(file.rawValue)
        return index < files.count ? files[index] : "<input>"
    }

    /// `path:line:col` of a span's start.
    public func location(of span: SourceSpan) -> SourceLocation {
        SourceLocation(path: path(of: span.file), position: span.start)
    }

    /// Where a resource was written.
    public func location(of resource: Resource) -> SourceLocation {
        location(of: resource.span)
    }

    public var errorCount: Int { diagnostics.count(of: .error) }
}
