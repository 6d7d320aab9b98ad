import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A flag raised once and read from any thread: a load's cancellation, a daemon's stop.
public final class OnceFlag: Sendable {
    private let value = Atomic<Bool>(false)

    public init() {}

    public var isSet: Bool { value.load(ordering: .acquiring) }

    public func set() { value.store(true, ordering: .releasing) }
}

/// Creates `path` and its missing parents, private to their owner (0700), as state directories
/// are; nil when they exist or were made, else why one could not be (naming it).
public func makePrivateDirectories(_ path: String) -> String? {
    var current = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        current += "/" + component
        if mkdir(current, 0o700) != 0 && errno != EEXIST {
            return "cannot create \(current): \(String(cString: strerror(errno)))"
        }
    }
    return nil
}
