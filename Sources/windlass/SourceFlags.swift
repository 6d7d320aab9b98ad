import ArgumentParser
import WindlassGit
import WindlassKustomize
import WindlassManifest
import WindlassPipeline

/// The flags of every command that reads manifests.
struct SourceFlags: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Where to read manifests: a directory, a git repository, or a URL.",
            discussion: """
                A git repository is read at --ref from its object database: uncommitted edits are not read. \
                URLs: file://, git://, http(s)://, ssh:// and git@host:path; remote repositories are \
                mirrored under --state-dir. Credentials come from WINDLASS_GIT_TOKEN, \
                WINDLASS_GIT_USERNAME/WINDLASS_GIT_PASSWORD, WINDLASS_GIT_SSH_KEY (and \
                WINDLASS_GIT_SSH_KEY_PASSPHRASE) or WINDLASS_GIT_CREDENTIALS_FILE.
                """
        )
    )
    var source: String = "."

    @Option(help: "The branch, tag or commit to read from a git source (default: HEAD).")
    var ref: String?

    @Option(help: "The directory of manifests inside the source.")
    var path: String = "manifests"

    @Option(name: .customLong("state-dir"), help: "Where Windlass keeps mirrors and state (default: $WINDLASS_STATE_DIR or .windlass).")
    var stateOption: String?

    @Option(
        help: ArgumentHelp(
            "The kustomize that renders kustomizations: a path, or a name on PATH.",
            discussion: "A directory holding kustomization.yaml is rendered by kustomize itself. Default: kustomize on PATH, else kubectl (its embedded kustomize).",
            valueName: "binary"))
    var kustomizeBinary: String?

    /// How the command renders kustomizations.
    var kustomize: KustomizeSettings { KustomizeSettings(binary: kustomizeBinary) }

    var stateDirectory: String {
        stateOption ?? ProcessEnvironment.value("WINDLASS_STATE_DIR") ?? ".windlass"
    }

    /// Whether any flag was given a value other than its default.
    var isCustomized: Bool { source != "." || ref != nil || path != "manifests" }

    /// Resolves the source, fetching a remote into its mirror; failures exit 2.
    func resolve() throws -> ResolvedSource {
        do {
            return try SourceResolver.resolve(options)
        } catch {
            throw CommandFailure(message: error.description)
        }
    }

    var options: SourceOptions {
        SourceOptions(source: source, ref: ref, path: path, stateDirectory: stateDirectory)
    }
}

extension SourceFlags {
    /// The checks of a command that reads PATHs or a source: a valid `--namespace`, and not both.
    func validate(paths: [String], namespace: String) throws {
        if let problem = NameRules.dns1123Label(namespace) {
            throw ValidationError("--namespace \"\(namespace)\" \(problem)")
        }
        if !paths.isEmpty && isCustomized {
            throw ValidationError("give PATHs or --source/--ref/--path, not both")
        }
    }

    /// The manifests of PATHs as they are on disk, or else of the source; unreadable paths exit 2.
    func load(paths: [String], options: LoadOptions) throws -> ManifestSet {
        let renderer = KustomizeRenderer(settings: kustomize, cacheDirectory: nil)
        guard !paths.isEmpty else {
            return SourceRendering.load(try resolve(), options: self.options, renderer: renderer, loading: options).manifests
        }
        do {
            return try SourceRendering.load(paths: paths, renderer: renderer, loading: options)
        } catch {
            throw CommandFailure(message: error.description)
        }
    }
}
