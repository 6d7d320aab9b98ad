#if canImport(Glibc)
import Glibc
#endif

/// A small file read whole, for the daemon's own files (`daemon.json`, secret files): at most
/// 64 KiB, so a wrong path to something large is refused, not read.
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
}
