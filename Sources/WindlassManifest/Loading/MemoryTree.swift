/// A tree of files held in memory (a pack compiled into the binary), one directory deep:
/// names are file names, read as the loader reads a directory on disk.
public struct MemoryTree: FileTree {
    /// The files by name.
    public var files: [String: [UInt8]]
    /// How the tree is named in messages: `builtin/disallow-host-pid.yaml`.
    public var name: String

    public init(name: String, files: [String: [UInt8]]) {
        self.name = name
        self.files = files
    }

    public func entries(of directory: String) throws(FileTreeError) -> [FileTreeEntry] {
        guard directory.isEmpty || directory == "." else { throw FileTreeError(path: displayPath(directory), message: "no such directory") }
        return files.keys.sorted().map { FileTreeEntry(name: $0, kind: .file) }
    }

    public func contents(of path: String, limit: Int) throws(FileTreeError) -> [UInt8] {
        guard let bytes = files[path] else { throw FileTreeError(path: displayPath(path), message: "no such file") }
        guard bytes.count <= limit else { throw FileTreeError(path: displayPath(path), message: "larger than \(describeBytes(limit))") }
        return bytes
    }

    public func displayPath(_ path: String) -> String {
        path.isEmpty || path == "." ? name : name + "/" + path
    }
}
