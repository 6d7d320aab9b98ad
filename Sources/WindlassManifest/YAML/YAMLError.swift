/// A YAML document could not be read: what went wrong and where.
public struct YAMLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var file: FileID
    public var position: SourcePosition

    public init(_ message: String, file: FileID, position: SourcePosition) {
        self.message = message
        self.file = file
        self.position = position
    }

    public var description: String { "\(position): \(message)" }
}

/// Bounds that keep a hostile or broken file from taking unbounded time or memory.
public struct YAMLLimits: Sendable, Hashable {
    /// Deepest nesting of sequences and mappings.
    public var maxDepth: Int
    /// Nodes that aliases may add to one document, counting nested expansions: an "alias bomb"
    /// (each level aliasing the previous one many times) fails on reaching it.
    public var maxAliasExpansion: Int
    /// Longest scalar, in bytes. Kubernetes stores objects of at most 1.5 MiB, so a larger scalar
    /// could never be applied.
    public var maxScalarBytes: Int

    /// Longest document, in bytes as written: reading stops on reaching it instead of building
    /// a tree that size. Kubernetes stores objects of at most 1.5 MiB (checked per object once
    /// read); the bound leaves room for a `kind: List` of many of them.
    public var maxDocumentBytes: Int

    public init(maxDepth: Int = 256, maxAliasExpansion: Int = 100_000, maxScalarBytes: Int = 4 << 20, maxDocumentBytes: Int = 16 << 20) {
        self.maxDepth = maxDepth
        self.maxAliasExpansion = maxAliasExpansion
        self.maxScalarBytes = maxScalarBytes
        self.maxDocumentBytes = maxDocumentBytes
    }
}
