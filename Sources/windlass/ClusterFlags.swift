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

    @Option(name: .customLong("kube-qps"), help: "Requests a second to the Kubernetes API once the burst is spent (default 100).")
    var qps: Double?

    @Option(name: .customLong("kube-burst"), help: "Requests to the Kubernetes API at once before --kube-qps applies (default 1000).")
    var burst: Int?

    func validate() throws {
        if let qps, qps <= 0 { throw ValidationError("--kube-qps must be positive") }
        if let burst, burst < 1 { throw ValidationError("--kube-burst must be at least 1") }
    }

    /// Whether a Kubernetes cluster is named.
    var isKubernetes: Bool { kubeconfig != nil || context != nil }

    /// The kubeconfig path made absolute (its history key and the revisions keep it).
    var absoluteKubeconfig: String? { kubeconfig.map { (StateOwner.absolutePath($0) as NSString).standardizingPath } }

    /// The destination of an application on this cluster.
    func destination(namespace: String) -> Application.Destination {
        var destination = Application.Destination(cluster: isKubernetes ? "kubernetes" : "embedded", kubeconfig: absoluteKubeconfig, context: context, namespace: namespace)
        destination.qps = qps
        destination.burst = burst
        return destination
    }

    /// Where the revision history of this cluster is kept in `stateDirectory`.
    func historyDirectory(stateDirectory: String) throws -> String {
        guard isKubernetes else { return stateDirectory }
        return stateDirectory + "/destinations/" + ClusterConnection.historyKey(server: try Wiring.kubeconfigSelection(destination(namespace: "default")).cluster.server)
    }
}
