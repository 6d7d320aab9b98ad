import Foundation
import Glibc
import WindlassTesting

/// Kustomize sources as users run them: `windlass plan` (a child process) of an overlay of a
/// base of N resources in a git repository, beside `kubectl kustomize` alone on the same
/// directory. *Cold*: a new state directory each run (the tree written out, kustomize run);
/// *warm*: the same commit planned again (the render from the cache). kustomize is reached
/// through a script that counts its runs, so the warm plans are seen not to run it.
enum KustomizeBench {
    struct Result {
        var resources: Int
        var kubectlSeconds: Double
        var coldSeconds: Double
        var warmSeconds: Double
        /// kustomize builds during the warm plans (0 when the cache is used).
        var warmBuilds: Int
        var coldBuilds: Int
    }

    static func run(resources: Int, runs: Int) throws -> Result {
        let repository = try GitFixture()
        let deployments = resources / 2
        var base = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        for i in 0..<deployments {
            let name = "svc-\(i)"
            base += "  - \(name).yaml\n"
            try repository.write("base/\(name).yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: \(name)}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: \(name)}}
                  template:
                    metadata: {labels: {app: \(name)}}
                    spec:
                      containers: [{name: app, image: "registry.example/\(name):1.0", resources: {requests: {cpu: 10m, memory: 16Mi}}}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: \(name)}
                spec:
                  selector: {app: \(name)}
                  ports: [{port: 80}]
                """)
        }
        try repository.write("base/kustomization.yaml", base)
        var overlay = """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            namespace: prod
            namePrefix: prod-
            labels:
              - pairs: {env: prod}
            resources: [../../base]
            images:

            """
        for i in 0..<deployments where i % 10 == 0 { overlay += "  - {name: registry.example/svc-\(i), newTag: \"2.0\"}\n" }
        try repository.write("overlays/prod/kustomization.yaml", overlay)
        try repository.commit("base and overlay")

        let scratch = try TemporaryDirectory()
        let log = scratch.path + "/builds.log"
        let counting = try scratch.write("bin/kustomize", """
            #!/bin/sh
            [ "$1" = build ] && echo build >> \(log)
            if [ "$1" = version ]; then
              /usr/bin/kubectl version --client -o json | sed -n 's/.*"kustomizeVersion": *"\\(v[^"]*\\)".*/\\1/p'
              exit 0
            fi
            shift
            exec /usr/bin/kubectl kustomize "$@"
            """)
        chmod(counting, 0o755)
        func builds() -> Int {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count
        }

        let kubectl = ProcessBench.measure("kubectl kustomize", runs: runs, ["/usr/bin/kubectl", "kustomize", repository.path + "/overlays/prod"])
        let state = scratch.path + "/state"
        let plan = [
            ProcessBench.windlass, "plan", "--source", repository.path, "--path", "overlays/prod", "--state-dir", state, "--no-policies",
            "--kustomize-binary", counting, "--no-color",
        ]
        let cold = ProcessBench.measure("windlass plan, cold", runs: runs, prepare: { Peers.removeTree(state) }, plan)
        let coldBuilds = builds()
        let warm = ProcessBench.measure("windlass plan, warm", runs: runs, plan)
        return Result(
            resources: deployments * 2, kubectlSeconds: kubectl.median, coldSeconds: cold.median, warmSeconds: warm.median,
            warmBuilds: builds() - coldBuilds, coldBuilds: coldBuilds)
    }
}
