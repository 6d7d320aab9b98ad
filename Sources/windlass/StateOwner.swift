import WindlassServer

#if canImport(Glibc)
import Glibc
#endif

/// How the CLI finds the daemon that owns a state directory (`<state>/daemon.json`); and paths
/// made absolute, for what outlives the working directory.
enum StateOwner {
    /// The daemon that owns `stateDirectory`, if one runs (and is not this process).
    static func owner(of stateDirectory: String) -> DaemonRegistration? {
        guard let registration = DaemonRegistration.read(stateDirectory: stateDirectory), registration.pid != getpid(),
            kill(registration.pid, 0) == 0
        else { return nil }
        return registration
    }

    /// A path as given, made absolute against the working directory.
    static func absolutePath(_ path: String) -> String {
        path.hasPrefix("/") ? path : workingDirectory() + "/" + path
    }

    static func workingDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
