/// Identifies one source file among those a loader read; an index into `ManifestSet.files`.
///
/// Spans carry this small number rather than the path itself so that millions of nodes do not
/// each retain a string; ``ManifestSet/location(of:)`` turns a span back into `path:line:col`.
public struct FileID: Sendable, Hashable, Codable, Comparable {
    public var rawValue: UInt32

    public init(_ rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The file of values that were built in code rather than read from a file.
    public static let synthesized = FileID(UInt32.max)

    public static func < (lhs: FileID, rhs: FileID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

/// A 1-based line and column in a source file, as editors and compilers print them.
public struct SourcePosition: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var line: UInt32
    public var column: UInt32

    public init(line: UInt32, column: UInt32) {
        self.line = line
        self.column = column
    }

    public static let unknown = SourcePosition(line: 0, column: 0)

    public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    public var description: String { "\(line):\(column)" }
}

/// Where a node was written: its file and its first position.
///
/// Twelve bytes, because every node of every manifest carries one: where a node ends is not
/// kept (nothing reports it), which keeps ``Value`` at 40 bytes.
public struct SourceSpan: Sendable, Hashable, Codable {
    public var file: FileID
    public var start: SourcePosition

    public init(file: FileID, start: SourcePosition) {
        self.file = file
        self.start = start
    }

    /// The span of a value made in code.
    public static let synthesized = SourceSpan(file: .synthesized, start: .unknown)
}

/// A printable source location: the path as the user should see it (for a git source,
/// `path@shortsha`), with a line and column when known.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var path: String
    public var position: SourcePosition?

    public init(path: String, position: SourcePosition? = nil) {
        self.path = path
        self.position = position
    }

    /// `path:line:col`, or just `path` when no position is known.
    public var description: String {
        guard let position, position.line > 0 else { return path }
        return "\(path):\(position.line):\(position.column)"
    }
}
