import Foundation
public import WindlassCluster
public import WindlassRollout

/// The cluster an application is applied to, as the process that runs the pipeline wires it:
/// the backend and how time passes while a sync waits. The pipeline never knows which cluster
/// it is. (Keeping the cluster's own state current is the wiring's business: the daemon runs
/// the embedded core's controller loop, a CLI command brings it up to date when it opens it.)
public struct ClusterConnection: Sendable {
    public var backend: any ClusterBackend
    /// How time passes while a sync waits (the embedded core runs its controllers; a
    /// Kubernetes cluster runs its own, so waiting only sleeps).
    public var driver: SyncDriver
    /// How errors name the cluster: `the cluster in .windlass`.
    public var displayName: String
    /// Where under the state directory this cluster's revision history, leases and canary
    /// progress are kept (`destinations/KEY/`); nil: the state directory itself, the embedded
    /// cluster's. One state directory serves applications on several clusters.
    public var historyKey: String?
    /// Changes to the cluster's objects as they happen (a Kubernetes cluster's watches), so a
    /// daemon checks drift when someone changes an object instead of at its next poll; nil
    /// for a cluster that does not offer them.
    public var changes: (@Sendable () -> AsyncStream<ClusterWatchEvent>)?

    public init(backend: any ClusterBackend, driver: SyncDriver, displayName: String, historyKey: String? = nil) {
        self.backend = backend
        self.driver = driver
        self.displayName = displayName
        self.historyKey = historyKey
    }

    /// The history key of a cluster at `server` (`https://10.0.0.1:6443` →
    /// `10.0.0.1_6443`): the same cluster has the same history whichever kubeconfig names it.
    public static func historyKey(server: String) -> String {
        var text = server
        if let scheme = text.range(of: "://") { text = String(text[scheme.upperBound...]) }
        if let at = text.firstIndex(of: "@") { text = String(text[text.index(after: at)...]) }
        let key = String(text.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
        return key.trimmingCharacters(in: CharacterSet(charactersIn: "_"))
    }
}
