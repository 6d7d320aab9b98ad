public import WindlassCluster
import WindlassManifest

#if canImport(Glibc)
import Glibc
#endif

/// One process owns a state directory: an exclusive `flock` on `<state>/lock`, which holds the
/// owner's pid so that a second process can say who has it. The lock goes with the process,
/// however it ends (kill -9 included).
public final class StateLock: Sendable {
    public let directory: String
    private let descriptor: Int32

    public init(directory: String) throws(ClusterError) {
        self.directory = directory
        try StateLock.makeDirectories(directory)
        let path = directory + "/lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ClusterError(.internalError, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = read(fd, &buffer, buffer.count)
            close(fd)
            let owner = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "?" : "?"
            throw ClusterError(
                .unavailable,
                "the state directory \(directory) is in use by process \(owner); stop it, or use another --state-dir"
            )
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    static func makeDirectories(_ path: String) throws(ClusterError) {
        if let problem = makePrivateDirectories(path) { throw ClusterError(.internalError, problem) }
    }
}
