import ArgumentParser
import WindlassGit
import WindlassManifest
import WindlassPolicy

/// `windlass policy`: judge manifests against policies, and test the policies themselves.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Judge manifests against policies, and run the policies' own tests.",
        subcommands: [PolicyCheck.self, PolicyTestCommand.self]
    )
}

/// Where plan and sync read policies: `--policies DIR`, else `policies/` in the working
/// directory when there is one; `--no-policies` turns them off.
struct PolicyFlags: ParsableArguments {
    @Option(name: .customLong("policies"), help: "The policies: builtin (the pack compiled in), or a directory (default: plan and sync read the source's policies/, policy check ./policies, when there is one).")
    var directory: String?

    @Flag(name: .customLong("no-policies"), help: "Judge nothing: plan and sync without policies.")
    var disabled = false

    func validate() throws {
        if disabled && directory != nil { throw ValidationError("give --policies or --no-policies, not both") }
    }

    /// The policies to judge with (nil: none), with the manifests' own Policy and
    /// PolicyException documents. Errors stop the command: nothing is judged half-way.
    func load(with manifests: ManifestSet) throws -> PolicySet? {
        guard !disabled else { return nil }
        return try Policies.load(directory ?? Policies.defaultDirectory, with: manifests)
    }
}

enum Policies {
    /// `policies` in the working directory, when there is one: where plan, sync and serve look
    /// without `--policies`.
    static var defaultDirectory: String? {
        guard case .directory = DirectoryTree.kind(ofPath: "policies") else { return nil }
        return "policies"
    }

    /// The policies of a directory (if any; `builtin`: the pack compiled in) with the manifests'
    /// own (nil: none at all); errors stop the command with exit 2, warnings are printed.
    static func load(_ directory: String?, with manifests: ManifestSet) throws -> PolicySet? {
        let set: PolicySet?
        do {
            set = directory == "builtin" ? PolicySet.builtin.adding(from: manifests) : try PolicySet.judging(manifests, directory: directory)
        } catch {
            throw CommandFailure(message: error.description)
        }
        try stopOnErrors(set?.diagnostics ?? [])
        return set
    }

    static func stopOnErrors(_ diagnostics: [Diagnostic]) throws {
        for warning in diagnostics where warning.severity == .warning { printError(warning.description) }
        let errors = diagnostics.filter { $0.severity == .error }
        guard !errors.isEmpty else { return }
        for error in errors { printError(error.description) }
        printError("stopped: \(errors.count) error\(errors.count == 1 ? "" : "s") in the policies; nothing was judged")
        throw ExitCode(2)
    }
}

enum PolicyOutput: String, ExpressibleByArgument, CaseIterable {
    case text, json, junit, github
}

/// `windlass policy check`: conftest-style verdicts on a tree of manifests.
struct PolicyCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Judge manifests against the policies: one line per failure, warning and exception, then a summary.",
        discussion: """
            Lines read FAIL - file:line:col - policy/rule - message (WARN for Audit rules, SKIP \
            for a PolicyException), then N resources, X passed, Y warnings, Z failures, W exceptions. \
            Policy and PolicyException documents among the manifests join those of --policies.
            Exit status: 0 when no Enforce rule fails (and, with --fail-on-warn, no Audit rule \
            either), 1 when one does, 2 on a usage, I/O, manifest or policy error.
            """
    )

    @Argument(help: "Files or directories of manifests, read as they are on disk (instead of --source).")
    var paths: [String] = []

    @OptionGroup(title: "Source")
    var source: SourceFlags

    @Option(name: .customLong("policies"), help: "The directory (or file) of policies.")
    var policies: String = "policies"

    @Option(name: .shortAndLong, help: "Output format: text, json, junit or github (workflow annotations).")
    var output: PolicyOutput = .text

    @Option(name: .shortAndLong, help: "Namespace for namespaced objects that name none.")
    var namespace: String = "default"

    @Flag(help: "Exit 1 on warnings (Audit rules that fail) too.")
    var failOnWarn = false

    @Flag(name: .shortAndLong, help: "Also name the policies that matched no resource.")
    var verbose = false

    func validate() throws {
        try source.validate(paths: paths, namespace: namespace)
    }

    func run() throws {
        let options = LoadOptions(defaultNamespace: namespace)
        var manifests = try source.load(paths: paths, options: options)
        // A file that cannot be read stops nothing else, as checkov and conftest go on: its
        // errors are listed, the other files are judged, and the exit status is 2.
        let errors = manifests.diagnostics.filter { $0.severity == .error }
        for error in errors { printError(error.description) }
        let broken = Set(errors.map(\.location.path))
        if !broken.isEmpty {
            let readable = manifests.resources.filter { !broken.contains(manifests.location(of: $0).path) }
            manifests.resources = readable
            printError("\(broken.count) file\(broken.count == 1 ? "" : "s") with errors not judged; the other files are")
        }
        let set = try Policies.load(policies, with: manifests) ?? PolicySet()
        let results = PolicyEngine.evaluate(set, on: manifests)
        let judged = Set(results.map(\.policy))
        let idle = set.policies.filter { !judged.contains($0.name) }.map(\.name)
        if verbose {
            for name in idle { printError("note: policy \(name) matched none of the \(manifests.resources.count) resources") }
        }
        let report = PolicyReport(results: results, resources: manifests.resources.count)
        switch output {
        case .text: printOut(report.text(), terminator: "")
        case .json: printOut(report.json(), terminator: "")
        case .junit: printOut(report.junit(failOnWarn: failOnWarn), terminator: "")
        case .github: printOut(report.github(), terminator: "")
        }
        let summary = report.summary
        if !broken.isEmpty { throw ExitCode(2) }
        if summary.failures > 0 || (failOnWarn && summary.warnings > 0) { throw ExitCode(1) }
    }
}

/// `windlass policy test`: each `*.test.yaml` beside the policies, against them.
struct PolicyTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the policies' tests: each *.test.yaml lists resources and the result expected of each rule.",
        discussion: """
            Prints a line per expectation that does not hold, then N tests, X passed, Y failed.
            Exit status: 0 when every expectation holds, 1 when one does not, 2 on an error in \
            the policies or the tests.
            """
    )

    @Argument(help: "The directory of policies and their *.test.yaml files, or builtin (the pack compiled in).")
    var directory: String = "policies"

    @Flag(name: .shortAndLong, help: "Also print the expectations that hold.")
    var verbose = false

    func run() throws {
        let set: PolicySet
        do {
            set = directory == "builtin" ? PolicySet.builtin : try PolicySet.load(directory)
        } catch {
            throw CommandFailure(message: error.description)
        }
        try Policies.stopOnErrors(set.diagnostics)
        guard !set.testFiles.isEmpty else { throw CommandFailure(message: "\(directory): no *.test.yaml files") }
        var passed = 0
        var failed = 0
        for file in set.testFiles {
            let path = directory.hasSuffix("/") ? directory + file : directory + "/" + file
            let loaded: ManifestSet
            do {
                if directory == "builtin" {
                    loaded = ManifestLoader.load([.files([file], in: PolicySet.builtinTree)])
                } else {
                    loaded = try ManifestLoader.load(paths: [path])
                }
            } catch {
                throw CommandFailure(message: error.description)
            }
            let (tests, diagnostics) = PolicyTest.read(loaded)
            let errors = diagnostics.filter { $0.severity == .error }
            if !errors.isEmpty {
                for error in errors { printError(error.description) }
                printError("stopped: \(errors.count) error\(errors.count == 1 ? "" : "s") in \(path); nothing was tested")
                throw ExitCode(2)
            }
            for test in tests {
                for outcome in test.run(set) {
                    let expectation = outcome.expectation
                    let what = "\(expectation.location) - \(expectation.policy)/\(expectation.rule) - \(expectation.resource)"
                    if outcome.passed {
                        passed += 1
                        if verbose { printOut("ok   - \(what): \(expectation.result.rawValue)") }
                    } else {
                        failed += 1
                        let actual = outcome.actual?.rawValue ?? "no result (the rule does not apply)"
                        let detail = outcome.message.isEmpty ? "" : " (\(outcome.message))"
                        printOut("FAIL - \(what): expected \(expectation.result.rawValue), got \(actual)\(detail)")
                    }
                }
            }
        }
        printOut("\(passed + failed) tests, \(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
