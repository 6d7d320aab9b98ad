#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory on disk as a ``FileTree``. Symlinks are followed; the loader's walk stops at one
/// that leads back into a directory it is already in.
public struct DirectoryTree: FileTree {
    /// The directory as the user named it (`manifests`, `/srv/app`, `.`).
    public let root: String

    public init(root: String) {
        var root = root
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    private func fullPath(_ path: String) -> String {
        if path.isEmpty { return root }
        return root == "/" ? "/" + path : root + "/" + path
    }

    public func displayPath(_ path: String) -> String {
        if path.isEmpty { return root }
        return root == "." ? path : fullPath(path)
    }

    public var rootIdentity: [UInt64]? {
        if case .directory(let identity) = Self.kind(of: root) { return identity }
        return nil
    }

    public func entries(of directory: String) throws(FileTreeError) -> [FileTreeEntry] {
        let full = fullPath(directory)
        guard let dir = opendir(full) else {
            throw FileTreeError(path: displayPath(directory), message: "cannot read directory: \(errnoMessage())")
        }
        defer { closedir(dir) }
        var entries: [FileTreeEntry] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." { continue }
            // The entry's type from readdir saves a stat per regular file; symlinks and
            // directories are stat-ed (to follow links and to know directory identities).
            if entry.pointee.d_type == UInt8(DT_REG) {
                entries.append(FileTreeEntry(name: name, kind: .file))
                continue
            }
            let childPath = full == "/" ? "/" + name : full + "/" + name
            entries.append(FileTreeEntry(name: name, kind: Self.kind(of: childPath), isLink: Self.isLink(entry.pointee.d_type, childPath)))
        }
        return entries
    }

    /// Whether a directory entry is a symlink (readdir's type where the file system gives one).
    static func isLink(_ type: UInt8, _ path: String) -> Bool {
        if type == UInt8(DT_LNK) { return true }
        guard type == UInt8(DT_UNKNOWN) else { return false }
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// Stats through symlinks; reports what cannot be followed.
    static func kind(of path: String) -> FileTreeEntry.Kind {
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            if code == ELOOP { return .unreadable(reason: "symlink loop (the link leads back to itself)") }
            var linkInfo = stat()
            if lstat(path, &linkInfo) == 0, (linkInfo.st_mode & S_IFMT) == S_IFLNK {
                return .unreadable(reason: "dangling symlink: \(String(cString: strerror(code)))")
            }
            return .unreadable(reason: String(cString: strerror(code)))
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory(identity: [UInt64(info.st_dev), UInt64(info.st_ino)])
        case S_IFREG: return .file
        default: return .unreadable(reason: "not a regular file")
        }
    }

    public func contents(of path: String, limit: Int) throws(FileTreeError) -> [UInt8] {
        let shown = displayPath(path)
        let fd = open(fullPath(path), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileTreeError(path: shown, message: "cannot read file: \(errnoMessage())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw FileTreeError(path: shown, message: "cannot read file: \(errnoMessage())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FileTreeError(path: shown, message: "cannot read file: not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw FileTreeError(
                path: shown,
                message: "file is \(size) bytes, larger than the limit of \(describeBytes(limit)) for one manifest file"
            )
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < size {
            let n = bytes.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress! + offset, size - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileTreeError(path: shown, message: "cannot read file: \(errnoMessage())")
            }
            if n == 0 { break }
            offset += n
        }
        if offset < size { bytes.removeLast(size - offset) }
        return bytes
    }

    /// The bytes of the file at `path` as the user gave it (absolute, or relative to the working
    /// directory), at most `limit`.
    public static func contents(ofFile path: String, limit: Int) throws(FileTreeError) -> [UInt8] {
        guard let slash = path.lastIndex(of: "/") else { return try DirectoryTree(root: ".").contents(of: path, limit: limit) }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        return try DirectoryTree(root: directory).contents(of: String(path[path.index(after: slash)...]), limit: limit)
    }

    /// Whether `path` names a directory (following symlinks), a file, or nothing readable.
    public static func kind(ofPath path: String) -> FileTreeEntry.Kind { kind(of: path) }
}

func errnoMessage() -> String {
    String(cString: strerror(errno))
}
