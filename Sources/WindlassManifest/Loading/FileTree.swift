/// A tree of files the loader reads manifests from: a directory on disk, or (from the git
/// source) a commit's tree read straight from the object database.
///
/// Paths are relative to the tree's root and `/`-separated; the root is `""`.
public protocol FileTree: Sendable {
    /// The entries of a directory, in any order.
    func entries(of directory: String) throws(FileTreeError) -> [FileTreeEntry]
    /// The bytes of a file; fails when the file is larger than `limit` bytes.
    func contents(of path: String, limit: Int) throws(FileTreeError) -> [UInt8]
    /// How a path of this tree is shown in messages: `manifests/web.yaml`, or for a commit
    /// `manifests/web.yaml@3f2c1ab`.
    func displayPath(_ path: String) -> String
    /// The identity of the root directory (device and inode on disk), so that a symlink back to
    /// the root is noticed; nil when the tree has no such thing.
    var rootIdentity: [UInt64]? { get }
}

extension FileTree {
    public var rootIdentity: [UInt64]? { nil }
}

/// One entry of a directory in a ``FileTree``.
public struct FileTreeEntry: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case file
        /// A directory; `identity` (device and inode on disk) lets the walker notice a symlink
        /// that leads back to a directory it is already in.
        case directory(identity: [UInt64]?)
        /// An entry that cannot be followed: a dangling symlink, a symlink loop, a socket.
        case unreadable(reason: String)
        /// An entry deliberately not read, reported as a warning (a git submodule).
        case skipped(reason: String)
    }

    public var name: String
    public var kind: Kind
    /// Whether the entry is a symlink (followed to `kind`): a directory reached through one is
    /// read only if its target is not read anyway.
    public var isLink: Bool

    public init(name: String, kind: Kind, isLink: Bool = false) {
        self.name = name
        self.kind = kind
        self.isLink = isLink
    }
}

/// A file or directory of a tree could not be read.
public struct FileTreeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The path as shown to the user.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// The manifest file extensions the loader reads from a tree.
public enum ManifestFileKind {
    public static func isManifest(_ name: String) -> Bool {
        name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".json")
    }

    /// The names kustomize reads a kustomization from, in the order it looks for them.
    public static let kustomizationNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"]

    /// Whether a file is a kustomization (its directory is rendered by kustomize).
    public static func isKustomization(_ name: String) -> Bool {
        kustomizationNames.contains(name)
    }
}
