import WindlassManifest

#if canImport(Glibc)
import Glibc
#endif

/// `<state>/daemon.json`, written by `windlass serve` while it owns a state directory: how the
/// CLI reaches it (its pid, URL and a token made for this run; the file is readable by its
/// owner only).
public struct DaemonRegistration: Sendable, Hashable {
    public var pid: Int32
    public var url: String
    public var token: String

    public init(pid: Int32, url: String, token: String) {
        self.pid = pid
        self.url = url
        self.token = token
    }

    static func path(_ stateDirectory: String) -> String { stateDirectory + "/daemon.json" }

    public static func read(stateDirectory: String) -> DaemonRegistration? {
        guard let bytes = try? SmallFile.read(path(stateDirectory)), let value = try? YAMLReader.read(bytes).first?.root, let pid = value["pid"]?.intValue, let url = value["url"]?.stringValue,
            let token = value["token"]?.stringValue
        else { return nil }
        return DaemonRegistration(pid: Int32(pid), url: url, token: token)
    }

    func write(stateDirectory: String) {
        let value: Value = ["pid": .int(Int(pid)), "url": .string(url), "token": .string(token)]
        SmallFile.write(JSONWriter(pretty: true).write(value) + "\n", to: Self.path(stateDirectory))
    }

    static func remove(stateDirectory: String) {
        unlink(path(stateDirectory))
    }

}
