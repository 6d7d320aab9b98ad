#if canImport(Glibc)
import Glibc
#endif

/// The daemon's own small files (`daemon.json`, secret files, drift reports, sessions, the last
/// sync's activity): read whole, at most 64 KiB, so a wrong path to something large is refused,
/// not read; written whole, readable by the owner only, through a temporary file renamed into
/// place so a reader never sees half of one.
enum SmallFile {
    static let limit = 65_536

    enum Failure: Error {
        case unreadable
        case tooLarge
    }

    static func read(_ path: String) throws(Failure) -> [UInt8] {
        guard let handle = fopen(path, "r") else { throw .unreadable }
        defer { fclose(handle) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, handle)
            if n <= 0 { break }
            bytes += buffer[0..<n]
            if bytes.count > limit { throw .tooLarge }
        }
        return bytes
    }

    /// Writes `text` to `path` (0600), making its directory (0700) when it is missing. A file
    /// that cannot be written is left as it was: these files are records, not state.
    static func write(_ text: String, to path: String) {
        if let slash = path.lastIndex(of: "/") { mkdir(String(path[..<slash]), 0o700) }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        rename(temporary, path)
    }
}
