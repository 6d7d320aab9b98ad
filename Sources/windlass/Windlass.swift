import ArgumentParser
import WindlassPipeline
import WindlassCore

import Glibc

/// The `windlass` command line: parsing and printing only; the work is in the libraries.
@main
struct Windlass: AsyncParsableCommand {
    static let version = WindlassVersion.current

    static let configuration = CommandConfiguration(
        commandName: "windlass",
        abstract: "Keep clusters of containers and virtual machines in step with a git repository of manifests.",
        version: version,
        subcommands: [Validate.self, PlanCommand.self, PolicyCommand.self, ServeCommand.self, SyncCommand.self, DiffCommand.self, DriftCommand.self, HistoryCommand.self, RollbackCommand.self, RolloutCommand.self, SourceCommand.self, ClusterCommand.self, CRDsCommand.self]
    )

    /// Runs the command, mapping failures to the documented exit codes: 1 for findings, 2 for
    /// usage and I/O errors (argument-parser's own 64 becomes 2, as `kubectl` and `terraform`
    /// users expect).
    static func main() async {
        let status = await execute(Array(CommandLine.arguments.dropFirst()), forwarding: true)
        fflush(nil)
        Glibc.exit(status)
    }

    /// Parses and runs one command line, printing what it prints, and returns its exit status.
    /// With `forwarding`, a command whose state directory a running `windlass serve` owns runs
    /// in that daemon instead.
    static func execute(_ arguments: [String], forwarding: Bool) async -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            if forwarding, let stateCommand = command as? any StateCommand, !stateCommand.namesKubernetesCluster, let daemon = Forwarding.owner(of: stateCommand.stateDirectoryPath) {
                return await Forwarding.forward(Forwarding.arguments(arguments, for: stateCommand), to: daemon)
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { printOut(message) }
                return 0
            }
            if !message.isEmpty { printError(message) }
            let usageOrIO = code == .validationFailure || error is CommandFailure
            return usageOrIO ? 2 : code.rawValue
        }
    }

    /// Runs a command a CLI forwarded to this daemon: on the daemon's cluster, its output captured.
    static func runForwarded(_ arguments: [String], cluster: EmbeddedCluster, stateDirectory: String) async -> (status: Int32, stdout: String, stderr: String) {
        if arguments.first == "serve" { return (2, "", "serve cannot be run through a daemon\n") }
        let capture = Console.Capture()
        let status = await Console.$capture.withValue(capture) {
            await Console.$sharedCluster.withValue(Console.SharedCluster(stateDirectory: stateDirectory, cluster: cluster)) {
                await execute(arguments, forwarding: false)
            }
        }
        let contents = capture.contents
        return (status, contents.out, contents.err)
    }
}

/// A failure the user must fix before the command can do its work (exit 2).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

