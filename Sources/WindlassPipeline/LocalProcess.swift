#if canImport(Glibc)
import Glibc
#endif

/// This process as a lease holder: `pid@host`.
public enum LocalProcess {
    public static let holder: String = {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(getpid())@\(host)"
    }()

    /// Whether a lease holder `pid@host` is a process of this machine that no longer exists.
    public static func isGone(_ holder: String) -> Bool {
        let parts = holder.split(separator: "@", maxSplits: 1).map(String.init)
        guard parts.count == 2, let pid = Int32(parts[0]), parts[1] == String(Self.holder.split(separator: "@", maxSplits: 1).last ?? "") else {
            return false
        }
        return kill(pid, 0) == -1 && errno == ESRCH
    }
}
