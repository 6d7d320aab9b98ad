import Foundation
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassTesting

/// The embedded cluster's cases: N Deployments of 10 replicas (start delay 0) applied and
/// converged to Available, then all rolled to a new image; wall time includes SQLite writes.
struct ClusterBench {
    struct Result {
        var deployments: Int
        var pods: Int
        var applySeconds: Double
        var convergeSeconds: Double
        var rolloutSeconds: Double
    }

    let deployments: Int

    static func manifest(_ i: Int, image: String) -> Value {
        let name = "app-\(i)"
        return [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(name), "namespace": "bench"],
            "spec": [
                "replicas": 10,
                "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)], "annotations": ["sim.windlass.dev/start-seconds": "0"]],
                    "spec": ["containers": [["name": "app", "image": .string(image), "resources": ["requests": ["cpu": "10m", "memory": "16Mi"]]]]],
                ],
            ],
        ]
    }

    func run() async throws -> Result {
        let state = try TemporaryDirectory()
        let cluster = try EmbeddedCluster(stateDirectory: state.path)
        try await cluster.createNodes(count: 20, cpu: "1000", memory: "4000Gi")
        _ = try await cluster.apply(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "bench"]], options: ApplyOptions(fieldManager: "bench"))

        let start = now()
        for i in 0..<deployments {
            _ = try await cluster.apply(Self.manifest(i, image: "app:1"), options: ApplyOptions(fieldManager: "windlass"))
        }
        let applied = now()
        try await converge(cluster, image: "app:1")
        let converged = now()
        for i in 0..<deployments {
            _ = try await cluster.apply(Self.manifest(i, image: "app:2"), options: ApplyOptions(fieldManager: "windlass"))
        }
        try await converge(cluster, image: "app:2")
        let rolled = now()
        let pods = try await cluster.list(GroupKind(group: "", kind: "Pod"), namespace: "bench", selector: .everything).items.count
        return Result(deployments: deployments, pods: pods, applySeconds: applied - start, convergeSeconds: converged - start, rolloutSeconds: rolled - converged)
    }

    /// Reconciles until every Deployment has all replicas updated and available.
    private func converge(_ cluster: EmbeddedCluster, image: String) async throws {
        for _ in 0..<100 {
            try await cluster.reconcile()
            let items = try await cluster.list(GroupKind(group: "apps", kind: "Deployment"), namespace: "bench", selector: .everything).items
            if items.allSatisfy({ $0[path: ["status", "updatedReplicas"]] == 10 && $0[path: ["status", "availableReplicas"]] == 10 && $0[path: ["status", "replicas"]] == 10 }) {
                return
            }
        }
        fail("the cluster did not converge")
    }
}
