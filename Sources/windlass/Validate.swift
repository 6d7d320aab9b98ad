import ArgumentParser
import WindlassGit
import WindlassManifest
import WindlassPlan

/// `windlass validate`: reads manifests and reports every problem the API server would.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check manifests: YAML, identity fields, and schemas of the kinds Kubernetes knows.",
        discussion: """
            Reads every .yaml, .yml and .json file under each PATH, or under --path of --source \
            (less what .windlassignore files exclude), and prints one line per problem as \
            file:line:col: error: message, then a summary. Files read from git are named path@shortsha.
            Exit status: 0 when clean, 1 when there are errors, 2 on a usage or I/O error.
            """
    )

    @Argument(help: "Files or directories of manifests, read as they are on disk (instead of --source).")
    var paths: [String] = []

    @OptionGroup(title: "Source")
    var source: SourceFlags

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    @Option(name: .shortAndLong, help: "Namespace for namespaced objects that name none.")
    var namespace: String = "default"

    @Flag(help: "Also list the resources found.")
    var list = false

    @Option(help: "The largest manifest file read, in bytes or with a Ki or Mi suffix.")
    var maxFileSize: ByteSize = ByteSize(bytes: LoadOptions().maxFileBytes)

    @Option(help: "The Kubernetes version to check against (1.27 to the newest known): a kind it does not serve is an error. Default: any.")
    var kubernetesVersion: KubernetesVersion?

    func validate() throws {
        try source.validate(paths: paths, namespace: namespace)
        if let kubernetesVersion, !ManifestValidator.coveredVersions.contains(kubernetesVersion.minor) {
            let covered = ManifestValidator.coveredVersions
            throw ValidationError("--kubernetes-version 1.\(kubernetesVersion.minor): the schemas cover 1.\(covered.lowerBound) to 1.\(covered.upperBound)")
        }
    }

    func run() throws {
        let options = LoadOptions(defaultNamespace: namespace, maxFileBytes: maxFileSize.bytes)
        let set = try source.load(paths: paths, options: options)
        var diagnostics = set.diagnostics
        diagnostics += ManifestValidator(kubernetesVersion: kubernetesVersion?.minor).validate(set)
        // Canary strategies and analysis templates are checked as a plan checks them.
        diagnostics += CanaryStrategies.read(set).diagnostics
        let report = ValidationReport(set: set, diagnostics: diagnostics)
        switch output {
        case .text:
            printOut(report.text(listing: list), terminator: "")
        case .json:
            printOut(report.json())
        }
        if report.errors > 0 { throw ExitCode(1) }
    }
}

/// A Kubernetes version on the command line: `1.29`, `v1.29`, `1.29.3`.
struct KubernetesVersion: ExpressibleByArgument {
    var minor: Int

    init?(argument: String) {
        let text = argument.hasPrefix("v") ? String(argument.dropFirst()) : argument
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, parts[0] == "1", let minor = Int(parts[1]), parts.dropFirst(2).allSatisfy({ Int($0) != nil }) else {
            return nil
        }
        self.minor = minor
    }
}

/// A size on the command line: `1048576`, `512Ki`, `64Mi`.
struct ByteSize: ExpressibleByArgument {
    var bytes: Int

    init(bytes: Int) {
        self.bytes = bytes
    }

    init?(argument: String) {
        let units: [(String, Int)] = [("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10), ("", 1)]
        for (suffix, factor) in units where argument.hasSuffix(suffix) {
            guard let value = Int(argument.dropLast(suffix.count)), value > 0 else { return nil }
            bytes = value * factor
            return
        }
        return nil
    }

    var defaultValueDescription: String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20)Mi" : "\(bytes)"
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}
