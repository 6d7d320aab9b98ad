import ArgumentParser
import Foundation
import WindlassKube
import WindlassPipeline

/// Which cluster a command works on: the embedded cluster of the state directory (the
/// default), or a Kubernetes cluster named by a kubeconfig and context, as kubectl reads them.
struct ClusterFlags: ParsableArguments {
    @Option(help: "A kubeconfig (as kubectl's --kubeconfig): plan and sync against that Kubernetes cluster instead of the embedded one.")
    var kubeconfig: String?

    @Option(help: "The kubeconfig's context (default: its current-context); alone, it reads $KUBECONFIG or ~/.kube/config.")
    var context: String?

    /// Whether a Kubernetes cluster is named.
    var isKubernetes: Bool { kubeconfig != nil || context != nil }

    /// The kubeconfig path made absolute (a forwarded or daemon-run command may run elsewhere).
    var absoluteKubeconfig: String? { kubeconfig.map { (Forwarding.absolutePath($0) as NSString).standardizingPath } }

    /// The destination of an application on this cluster.
    func destination(namespace: String) -> Application.Destination {
        Application.Destination(cluster: isKubernetes ? "kubernetes" : "embedded", kubeconfig: absoluteKubeconfig, context: context, namespace: namespace)
    }

    /// Where the revision history of this cluster is kept in `stateDirectory`.
    func historyDirectory(stateDirectory: String) throws -> String {
        guard isKubernetes else { return stateDirectory }
        return stateDirectory + "/destinations/" + ClusterConnection.historyKey(server: try Wiring.kubeconfigSelection(destination(namespace: "default")).cluster.server)
    }
}
