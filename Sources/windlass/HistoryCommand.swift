import ArgumentParser
import WindlassCluster
import WindlassCore
import WindlassGit
import WindlassKustomize
import WindlassManifest
import WindlassPlan
import WindlassRollout
import WindlassPipeline
import WindlassServer

#if canImport(Glibc)
import Glibc
#endif

let pinnedCommitSetting = ApplicationPipeline.pinnedCommitSetting

extension Planning {
    /// `pid@host`, who holds a sync's lease: this process (a daemon beside it is another).
    static var holder: String { LocalProcess.holder }


    static func revisions(_ stateDirectory: String) throws -> RevisionStore {
        do {
            return try RevisionStore(stateDirectory: stateDirectory)
        } catch {
            throw CommandFailure(message: error.description)
        }
    }

}

/// `windlass history`: the revisions of an application.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List an application's revisions: each sync that changed the cluster, and each rollback."
    )

    @Option(name: .customLong("app"), help: "The application.") var application: String = "default"
    @Option(name: .customLong("state-dir"), help: "The state directory (default: $WINDLASS_STATE_DIR or .windlass).") var stateOption: String?
    @Option(name: .shortAndLong, help: "Output format: text or json.") var output: OutputFormat = .text
    @OptionGroup(title: "Cluster") var cluster: ClusterFlags

    func run() async throws {
        let state = stateOption ?? ProcessEnvironment.value("WINDLASS_STATE_DIR") ?? ".windlass"
        let store = try Planning.revisions(try cluster.historyDirectory(stateDirectory: state))
        let history: [Revision]
        let pinned: String?
        do {
            history = try store.history(application)
            pinned = try store.setting(application, pinnedCommitSetting)
        } catch {
            throw CommandFailure(message: error.description)
        }
        switch output {
        case .json:
            var document: Value = ["application": .string(application), "revisions": .sequence(history.map(\.value))]
            document.set(pinned.map(Value.string) ?? .null, at: ["autoSyncPinnedAt"])
            printOut(JSONWriter(pretty: true).write(document))
        case .text:
            guard !history.isEmpty else {
                printOut("application \"\(application)\" has no revisions yet")
                return
            }
            var rows = [["REVISION", "UPDATED", "STATUS", "COMMIT", "TRIGGER", "DESCRIPTION"]]
            for revision in history {
                var description = revision.description
                if let message = revision.message { description += " Failed: " + message }
                rows.append([
                    String(revision.number), Timestamp.rfc3339(revision.finishedAt ?? revision.startedAt), revision.status.rawValue,
                    revision.commit.map { String($0.prefix(12)) } ?? "-", revision.trigger, description,
                ])
            }
            printOut(Columns.render(rows), terminator: "")
            if let pinned {
                printOut("auto-sync is paused after a rollback until a commit other than \(pinned.prefix(12)) arrives")
            }
        }
    }
}

/// `windlass rollback [N]`: applies an earlier revision's manifests again.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Apply revision N's manifests again (default: the deployed revision before the current one), as a new revision.",
        discussion: """
            Auto-sync of the application is paused until a new commit arrives, so the rollback is not undone by \
            the next poll. Exit status: 0 rolled back, 1 the rollback failed, 2 usage or input error.
            """
    )

    @Argument(help: "The revision to return to.") var revision: Int?
    @OptionGroup(title: "Source") var source: SourceFlags
    @Option(name: .customLong("app"), help: "The application.") var application: String = "default"
    @Option(help: "How long each wave may take to become healthy, in seconds.") var waveTimeout: Double = 300
    @OptionGroup(title: "Cluster") var cluster: ClusterFlags

    func run() async throws {
        var application = Application(
            name: self.application, source: Application.Source(repository: source.source, revision: source.ref, path: source.path, kustomize: source.kustomize),
            destination: cluster.destination(namespace: "default"))
        application.syncOptions.waveTimeout = waveTimeout
        let pipeline = try Wiring.pipeline(application, stateDirectory: source.stateDirectory)
        let progress = ProgressLog()
        // Pinned at the commit the source is at now, so only a newer one resumes auto-sync. A
        // source that does not resolve cannot be pinned: refused (a pin on "any commit" would
        // switch auto-sync off for good).
        let head: String?
        do {
            head = try await pipeline.resolve().commit?.sha
        } catch {
            throw CommandFailure(
                message: "rollback refused: \(error.message); auto-sync must be pinned at the commit the application's source is at, so give its --source, --ref and --path")
        }
        let restored: Revision
        do {
            restored = try await stopping(manifestsCode: 2) { try await pipeline.rollback(to: revision, pinnedAt: head, onEvent: { progress.log($0) }) }
        } catch let error as Deployer.RollbackError {
            printError(error.message)
            throw ExitCode(error.message.contains("failed") ? 1 : 2)
        } catch let error as Deployer.Busy {
            throw CommandFailure(message: error.description)
        }
        printOut("rolled back application \"\(self.application)\": revision \(restored.number) (\(restored.description)) deployed")
    }
}

/// Left-aligned columns separated by three spaces, kubectl style.
enum Columns {
    static func render(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: first.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        var out = ""
        for row in rows {
            var line = ""
            for (index, cell) in row.enumerated() {
                line += cell
                if index < row.count - 1 { line += String(repeating: " ", count: widths[index] - cell.count + 3) }
            }
            out += line + "\n"
        }
        return out
    }
}
