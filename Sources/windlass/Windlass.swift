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
        let status = await execute(Array(CommandLine.arguments.dropFirst()))
        fflush(nil)
        Glibc.exit(status)
    }

    /// Parses and runs one command line, printing what it prints, and returns its exit status.
    /// A command whose state directory a running `windlass serve` owns still runs here: it
    /// reaches the cluster through that daemon's APIs (``StateCluster``).
    static func execute(_ arguments: [String]) async -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
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
}

/// A failure the user must fix before the command can do its work (exit 2).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

