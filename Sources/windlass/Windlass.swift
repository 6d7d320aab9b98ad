import ArgumentParser

import Glibc

/// The `windlass` command line: parsing and printing only; the work is in the libraries.
@main
struct Windlass: AsyncParsableCommand {
    static let version = "0.1.0-dev"

    static let configuration = CommandConfiguration(
        commandName: "windlass",
        abstract: "Keep clusters of containers and virtual machines in step with a git repository of manifests.",
        version: version,
        subcommands: [Validate.self, PlanCommand.self, PolicyCommand.self, ServeCommand.self, SyncCommand.self, DiffCommand.self, DriftCommand.self, HistoryCommand.self, RollbackCommand.self, RolloutCommand.self, SourceCommand.self, ClusterCommand.self]
    )

    /// Runs the command, mapping failures to the documented exit codes: 1 for findings, 2 for
    /// usage and I/O errors (argument-parser's own 64 becomes 2, as `kubectl` and `terraform`
    /// users expect).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                Glibc.exit(0)
            }
            if !message.isEmpty { printError(message) }
            let usageOrIO = code == .validationFailure || error is CommandFailure
            Glibc.exit(usageOrIO ? 2 : code.rawValue)
        }
    }
}

/// A failure the user must fix before the command can do its work (exit 2).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

func printError(_ message: String) {
    var line = message
    if !line.hasSuffix("\n") { line += "\n" }
    _ = line.withCString { write(2, $0, strlen($0)) }
}
