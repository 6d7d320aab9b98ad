import ArgumentParser
import WindlassGit
import WindlassManifest

/// `windlass source`: what a source resolves to.
struct SourceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "source",
        abstract: "Inspect the source Windlass reads manifests from.",
        subcommands: [Info.self]
    )

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the commit a source resolves to and how many manifest files it holds."
        )

        @OptionGroup(title: "Source")
        var source: SourceFlags

        @Option(name: .shortAndLong, help: "Output format: text or json.")
        var output: OutputFormat = .text

        func run() throws {
            let resolved = try source.resolve()
            let count = ManifestLoader.manifestFiles(in: resolved.tree).files.count
            switch output {
            case .text:
                printOut(SourceInfo.text(resolved, manifestFiles: count), terminator: "")
            case .json:
                printOut(SourceInfo.json(resolved, manifestFiles: count))
            }
        }
    }
}

/// How `source info` prints a resolved source.
enum SourceInfo {
    static func text(_ source: ResolvedSource, manifestFiles: Int) -> String {
        var rows: [(String, String)] = [("source", "\(source.location) (\(source.kind.rawValue))")]
        if let mirror = source.mirrorPath { rows.append(("mirror", mirror)) }
        if let ref = source.ref { rows.append(("ref", ref)) }
        if let commit = source.commit {
            rows.append(("commit", commit.sha))
            rows.append(("author", "\(commit.authorName) <\(commit.authorEmail)>"))
            rows.append(("date", commit.isoDate))
            rows.append(("subject", commit.subject))
        }
        rows.append(("manifests", "\(manifestFiles) file\(manifestFiles == 1 ? "" : "s") under \(source.path)"))
        return rows.map { "\($0.0 + ":")\(String(repeating: " ", count: 11 - $0.0.count))\($0.1)\n" }.joined()
    }

    static func json(_ source: ResolvedSource, manifestFiles: Int) -> String {
        var root = Mapping()
        root["kind"] = .string(source.kind.rawValue)
        root["source"] = .string(source.location)
        root["ref"] = source.ref.map { .string($0) } ?? .null
        root["path"] = .string(source.path)
        if let commit = source.commit {
            var c = Mapping()
            c["sha"] = .string(commit.sha)
            c["shortSha"] = .string(commit.shortSHA)
            c["author"] = .string(commit.authorName)
            c["email"] = .string(commit.authorEmail)
            c["date"] = .string(commit.isoDate)
            c["subject"] = .string(commit.subject)
            root["commit"] = .mapping(c)
        } else {
            root["commit"] = .null
        }
        root["manifestFiles"] = .int(manifestFiles)
        return JSONWriter(pretty: true).write(.mapping(root))
    }
}
