import ArgumentParser
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import WindlassManifest
import WindlassServer

#if canImport(Glibc)
import Glibc
#endif

/// A command that reads or changes the state directory. While `windlass serve` owns that
/// directory (its lock held), the command runs inside the daemon, which sends back what it
/// printed and its exit status: the CLI keeps working beside the daemon instead of failing on
/// the lock.
protocol StateCommand {
    var stateDirectoryPath: String { get }
    /// Whether the command takes --source (a local source must be made absolute, and the
    /// default `.` becomes the CLI's working directory).
    var takesSource: Bool { get }
    /// Whether the command takes --policies/--no-policies (a directory given is made absolute).
    var takesPolicies: Bool { get }
    /// Whether the command works on a Kubernetes cluster (`--kubeconfig`, `--context`): it
    /// needs no embedded cluster, so it runs here even beside a daemon.
    var namesKubernetesCluster: Bool { get }
}

extension StateCommand {
    var takesSource: Bool { false }
    var takesPolicies: Bool { false }
    var namesKubernetesCluster: Bool { false }
}

extension PlanCommand: StateCommand {
    var stateDirectoryPath: String { source.stateDirectory }
    var namesKubernetesCluster: Bool { flags.cluster.isKubernetes }
    var takesSource: Bool { true }
    var takesPolicies: Bool { true }
}

extension SyncCommand: StateCommand {
    var stateDirectoryPath: String { source.stateDirectory }
    var namesKubernetesCluster: Bool { flags.cluster.isKubernetes }
    var takesSource: Bool { true }
    var takesPolicies: Bool { true }
}

extension DiffCommand: StateCommand {
    var stateDirectoryPath: String { source.stateDirectory }
    var namesKubernetesCluster: Bool { flags.cluster.isKubernetes }
    var takesSource: Bool { true }
}

extension DriftCommand: StateCommand {
    var stateDirectoryPath: String { source.stateDirectory }
    var namesKubernetesCluster: Bool { flags.cluster.isKubernetes }
    var takesSource: Bool { true }
}

extension HistoryCommand: StateCommand {
    var stateDirectoryPath: String { stateOption ?? ProcessEnvironment.value("WINDLASS_STATE_DIR") ?? ".windlass" }
    var namesKubernetesCluster: Bool { cluster.isKubernetes }
}

extension RollbackCommand: StateCommand {
    var stateDirectoryPath: String { source.stateDirectory }
    var namesKubernetesCluster: Bool { cluster.isKubernetes }
    var takesSource: Bool { true }
}

extension RolloutCommand.Status: StateCommand {
    var stateDirectoryPath: String { stateOption ?? ProcessEnvironment.value("WINDLASS_STATE_DIR") ?? ".windlass" }
    var namesKubernetesCluster: Bool { cluster.isKubernetes }
}

extension RolloutCommand.Promote: StateCommand {
    var stateDirectoryPath: String { source.stateDirectory }
    var namesKubernetesCluster: Bool { flags.cluster.isKubernetes }
    var takesSource: Bool { true }
    var takesPolicies: Bool { true }
}

extension RolloutCommand.Abort: StateCommand {
    var stateDirectoryPath: String { source.stateDirectory }
    var namesKubernetesCluster: Bool { flags.cluster.isKubernetes }
    var takesSource: Bool { true }
    var takesPolicies: Bool { true }
}

extension RolloutCommand.Retry: StateCommand {
    var stateDirectoryPath: String { source.stateDirectory }
    var namesKubernetesCluster: Bool { flags.cluster.isKubernetes }
    var takesSource: Bool { true }
    var takesPolicies: Bool { true }
}

/// The cluster subcommands all take `--state-dir` through `StateOptions`.
protocol ClusterStateCommand: StateCommand {
    var state: StateOptions { get }
}

extension ClusterStateCommand {
    var stateDirectoryPath: String { state.path }
}

extension ClusterCommand.Init: ClusterStateCommand {}
extension ClusterCommand.Apply: ClusterStateCommand {}
extension ClusterCommand.Get: ClusterStateCommand {}
extension ClusterCommand.Describe: ClusterStateCommand {}
extension ClusterCommand.Wait: ClusterStateCommand {}
extension ClusterCommand.Scale: ClusterStateCommand {}
extension ClusterCommand.Delete: ClusterStateCommand {}
extension ClusterCommand.Events: ClusterStateCommand {}
extension ClusterCommand.Nodes: ClusterStateCommand {}
extension ClusterCommand.FailNode: ClusterStateCommand {}
extension ClusterCommand.RecoverNode: ClusterStateCommand {}
extension ClusterCommand.Drain: ClusterStateCommand {}
extension ClusterCommand.Uncordon: ClusterStateCommand {}
extension ClusterCommand.Metrics: ClusterStateCommand {}

enum Forwarding {
    /// The daemon that owns `stateDirectory`, if one runs (and is not this process).
    static func owner(of stateDirectory: String) -> DaemonRegistration? {
        guard let registration = DaemonRegistration.read(stateDirectory: stateDirectory), registration.pid != getpid(),
            kill(registration.pid, 0) == 0
        else { return nil }
        return registration
    }

    /// The arguments as the daemon must see them: paths made absolute, and the CLI's defaults
    /// (`--source .`, the state directory) spelled out.
    static func arguments(_ arguments: [String], for command: any StateCommand) -> [String] {
        let cwd = workingDirectory()
        func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : cwd + "/" + path }
        let pathOptions: Set<String> = ["--state-dir", "--source", "--policies", "--comment-dir", "-f", "--filename", "--config"]
        var out: [String] = []
        var index = 0
        var seen: Set<String> = []
        while index < arguments.count {
            let argument = arguments[index]
            if let equals = argument.firstIndex(of: "="), pathOptions.contains(String(argument[..<equals])) {
                let name = String(argument[..<equals])
                seen.insert(name)
                out.append(name + "=" + rewrite(name, String(argument[argument.index(after: equals)...]), absolute))
            } else if pathOptions.contains(argument), index + 1 < arguments.count {
                seen.insert(argument)
                out += [argument, rewrite(argument, arguments[index + 1], absolute)]
                index += 1
            } else {
                if argument == "--no-policies" { seen.insert(argument) }
                out.append(argument)
            }
            index += 1
        }
        if !seen.contains("--state-dir") { out += ["--state-dir", absolute(command.stateDirectoryPath)] }
        if command.takesSource && !seen.contains("--source") { out += ["--source", cwd] }
        // Without --policies, plan and sync read the source's own policies/ wherever they run:
        // nothing to spell out.
        return out
    }

    private static func rewrite(_ option: String, _ value: String, _ absolute: (String) -> String) -> String {
        // A --source that is a URL stays as it is; a local path is made absolute.
        if option == "--source", value.contains("://") || (value.contains("@") && value.contains(":")) { return value }
        if option == "--policies", value == "builtin" { return value }
        return absolute(value)
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

    /// Runs the command in the daemon and prints what it printed; returns its exit status.
    static func forward(_ arguments: [String], to daemon: DaemonRegistration) async -> Int32 {
        var request = HTTPClientRequest(url: daemon.url + "/api/v1/cli")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(daemon.token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        let body: Value = ["arguments": .sequence(arguments.map(Value.string))]
        request.body = .bytes(ByteBuffer(string: JSONWriter().write(body)))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .hours(2))
            let collected = try await response.body.collect(upTo: 256 << 20)
            guard response.status == .ok, let result = try? YAMLReader.read(Array(buffer: collected)).first?.root else {
                printError("windlass serve (pid \(daemon.pid)) owns the state directory and refused the command: \(response.status.code) \(String(buffer: collected))")
                return 2
            }
            consoleWrite(result["stdout"]?.stringValue ?? "")
            let stderr = result["stderr"]?.stringValue ?? ""
            if !stderr.isEmpty { printError(stderr) }
            return Int32(result["status"]?.intValue ?? 2)
        } catch {
            printError("windlass serve (pid \(daemon.pid)) owns the state directory, but \(daemon.url) did not answer: \(error)")
            return 2
        }
    }
}
