import ArgumentParser
import WindlassGit
import WindlassKustomize
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
            let listing = ManifestLoader.listing(of: resolved.tree)
            var kustomize: SourceInfo.Kustomize?
            if !listing.kustomizations.isEmpty {
                let tool = Result { () throws(KustomizeError) in try KustomizeTool.locate(source.kustomize) }
                kustomize = SourceInfo.Kustomize(files: listing.kustomizations.map(resolved.tree.displayPath), tool: tool)
            }
            let count = listing.files.count
            switch output {
            case .text:
                printOut(SourceInfo.text(resolved, manifestFiles: count, kustomize: kustomize), terminator: "")
            case .json:
                printOut(SourceInfo.json(resolved, manifestFiles: count, kustomize: kustomize))
            }
        }
    }
}

/// How `source info` prints a resolved source.
enum SourceInfo {
    /// The kustomizations of a source, and the kustomize that renders them (or why none can).
    struct Kustomize {
        var files: [String]
        var tool: Result<KustomizeTool, KustomizeError>
    }

    static func text(_ source: ResolvedSource, manifestFiles: Int, kustomize: Kustomize? = nil) -> String {
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
        if let kustomize {
            let count = kustomize.files.count
            rows.append(("kustomize", "\(count) kustomization\(count == 1 ? "" : "s") (\(kustomize.files.prefix(3).joined(separator: ", "))\(count > 3 ? ", ..." : ""))"))
            switch kustomize.tool {
            case .success(let tool): rows.append(("renderer", tool.description))
            case .failure(let error): rows.append(("renderer", "none: \(error.message)"))
            }
        }
        return rows.map { "\($0.0 + ":")\(String(repeating: " ", count: 11 - $0.0.count))\($0.1)\n" }.joined()
    }

    static func json(_ source: ResolvedSource, manifestFiles: Int, kustomize: Kustomize? = nil) -> String {
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
        if let kustomize {
            var k = Mapping()
            k["kustomizations"] = .sequence(kustomize.files.map(Value.string))
            switch kustomize.tool {
            case .success(let tool):
                k["version"] = .string(tool.version)
                k["binary"] = .string(tool.path)
                k["embeddedIn"] = tool.mode == .kubectl ? .string("kubectl") : .null
            case .failure(let error):
                k["error"] = .string(error.message)
            }
            root["kustomize"] = .mapping(k)
        } else {
            root["kustomize"] = .null
        }
        return JSONWriter(pretty: true).write(.mapping(root))
    }
}
