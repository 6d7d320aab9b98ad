import ArgumentParser
import WindlassCluster
import WindlassManifest

/// `windlass crds`: the CustomResourceDefinitions a Kubernetes cluster needs for Windlass's own
/// kinds, to pipe into `kubectl apply --server-side -f -`.
struct CRDsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crds",
        abstract: "Print the CustomResourceDefinitions of Windlass's kinds (RolloutStrategy, AnalysisTemplate, Policy, PolicyException).",
        discussion: """
            The embedded cluster serves these kinds itself. A Kubernetes cluster needs them installed before a sync \
            applies any: windlass crds | kubectl apply --server-side -f -
            """
    )

    @Option(name: .shortAndLong, help: "Output format: yaml or json.") var output: Format = .yaml

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case yaml, json
    }

    func run() async throws {
        switch output {
        case .yaml:
            printOut(YAMLWriter().write(documents: WindlassCRDs.all), terminator: "")
        case .json:
            printOut(JSONWriter(pretty: true).write(["apiVersion": "v1", "kind": "List", "items": .sequence(WindlassCRDs.all)]))
        }
    }
}
