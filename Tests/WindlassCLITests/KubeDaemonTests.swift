import Foundation
import Testing
import WindlassCluster
import WindlassKube
import WindlassManifest
import WindlassTesting

/// Daemons whose destinations are Kubernetes clusters, tested against `windlass cluster serve`
/// (a real kube-apiserver cannot be installed here). Their bounds are in seconds (a leader's
/// takeover, a change seen through a watch), so `make test` runs them in a phase of their own.
/// This file's name must not contain another phase's filter: Swift Testing matches a filter
/// against a test's whole ID, which includes its file.
@Suite("windlass serve with Kubernetes destinations", .serialized)
struct DaemonOnKubernetesTests {
    @Test("one daemon syncs an application to a Kubernetes cluster; an application whose kubeconfig is gone reports it and the other runs on")
    func twoDestinations() async throws {
        let cluster = try await KubeAPIProcess.start()
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let state = try TemporaryDirectory()
        _ = try state.write(
            "windlass.yaml",
            """
            apiVersion: windlass.dev/v1
            kind: Config
            server: {listen: 127.0.0.1:0}
            applications:
              - name: shop
                source: {repo: "\(repo.url)", ref: main, path: manifests}
                destination: {kubeconfig: "\(cluster.kubeconfig)", namespace: shop}
                syncPolicy: {automated: true, prune: true}
                interval: 1h
              - name: lost
                source: {repo: "\(repo.url)", ref: main, path: manifests}
                destination: {kubeconfig: gone/kubeconfig, context: prod, namespace: shop}
                syncPolicy: {automated: true}
                interval: 1h
            """)
        let serve = try ServeProcess(["--config", "windlass.yaml", "--state-dir", state.path + "/state"], log: state.path + "/serve.log", in: state.path, environment: [:])
        try await serve.waitForListening()
        _ = try await serve.waitFor("shop", timeout: 90) { $0["syncedRevision"] as? String == repo.initial }
        let version = try cluster.kubectl("1.33", ["get", "configmap", "settings", "-n", "shop", "-o", "jsonpath={.data.version}"])
        #expect(version.stdout == "v1", "\(version.stderr)")

        _ = try await serve.waitFor("lost", timeout: 30) { ($0["lastError"] as? String ?? "").contains("no such kubeconfig file") || ($0["lastSync"] as? [String: Any])?["outcome"] as? String == "failed" }
        let lost = try await serve.application("lost")
        let destination = lost["destination"] as? [String: Any]
        #expect(destination?["kubeconfig"] as? String == state.path + "/gone/kubeconfig")
        #expect(destination?["context"] as? String == "prod")
        let message = (lost["lastError"] as? String) ?? ((lost["lastSync"] as? [String: Any])?["message"] as? String) ?? ""
        #expect(message.contains("gone/kubeconfig: no such kubeconfig file"), "\(lost)")
        #expect(serve.process.isRunning)
        #expect(try await serve.terminate().status == 0)
        _ = try await cluster.terminate()
    }

    @Test("a change made with kubectl is seen through the watch within 5 s: reported as drift, and healed where selfHeal is on")
    func watchDrivenDrift() async throws {
        let cluster = try await KubeAPIProcess.start()
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let state = try TemporaryDirectory()
        // Both applications poll git hourly and check drift on no schedule: only the watch can tell them.
        _ = try state.write(
            "windlass.yaml",
            """
            apiVersion: windlass.dev/v1
            kind: Config
            server: {listen: 127.0.0.1:0}
            applications:
              - name: healed
                source: {repo: "\(repo.url)", ref: main, path: manifests}
                destination: {kubeconfig: "\(cluster.kubeconfig)", namespace: shop}
                syncPolicy: {automated: true, selfHeal: true}
                interval: 1h
              - name: watched
                source: {repo: "\(repo.url)", ref: main, path: manifests-b}
                destination: {kubeconfig: "\(cluster.kubeconfig)", namespace: other}
                syncPolicy: {automated: true}
                interval: 1h
            """)
        // The second application's own ConfigMap, in the same repository.
        _ = try repo.work.write("manifests-b/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n")
        _ = try repo.work.write("manifests-b/other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: other}\ndata: {version: b1}\n")
        let second = try repo.work.commit("b")
        _ = try repo.work.git(["push", "-q", "served", "main"])
        let serve = try ServeProcess(["--config", "windlass.yaml", "--state-dir", state.path + "/state"], log: state.path + "/serve.log", in: state.path, environment: [:])
        try await serve.waitForListening()
        _ = try await serve.waitFor("healed", timeout: 90) { $0["syncedRevision"] as? String == second }
        _ = try await serve.waitFor("watched", timeout: 90) { $0["syncedRevision"] as? String == second }
        try await Task.sleep(for: .seconds(1))

        // Someone edits the first application's ConfigMap: healed back within 5 s.
        let edited = try cluster.kubectl("1.33", ["patch", "configmap", "settings", "-n", "shop", "--type=merge", "-p", #"{"data":{"version":"by-hand"}}"#])
        #expect(edited.status == 0, "\(edited.stderr)")
        let started = Date()
        let healed = try await eventually(timeout: 5, { try cluster.kubectl("1.33", ["get", "configmap", "settings", "-n", "shop", "-o", "jsonpath={.data.version}"]) }) { $0 == "v1" }
        #expect(healed == "v1", "\(serve.text)")
        #expect(Date().timeIntervalSince(started) < 5)

        // Someone edits the second's: reported as drift (OutOfSync) within 5 s, left as it is.
        _ = try cluster.kubectl("1.33", ["patch", "configmap", "other", "-n", "other", "--type=merge", "-p", #"{"data":{"version":"by-hand"}}"#])
        let seen = try await serve.waitFor("watched", timeout: 5) { $0["syncStatus"] as? String == "OutOfSync" }
        #expect(seen < 5)
        let left = try cluster.kubectl("1.33", ["get", "configmap", "other", "-n", "other", "-o", "jsonpath={.data.version}"])
        #expect(left.stdout == "by-hand")
        #expect(try await serve.terminate().status == 0)
        _ = try await cluster.terminate()
    }
}

@Suite("windlass serve replicas elect a leader through a Lease", .serialized)
struct LeaderElectionTests {
    @Test("two daemons on one config: one syncs, the other takes over after the leader's kill -9, and nothing is applied twice")
    func failover() async throws {
        let cluster = try await KubeAPIProcess.start()
        let repo = try ServedRepository()
        defer { repo.daemon.stop() }
        let directory = try TemporaryDirectory()
        _ = try directory.write(
            "windlass.yaml",
            """
            apiVersion: windlass.dev/v1
            kind: Config
            server:
              listen: 127.0.0.1:0
              leaderElection: {namespace: default, name: windlass-leader}
            applications:
              - name: shop
                source: {repo: "\(repo.url)", ref: main, path: manifests}
                destination: {kubeconfig: "\(cluster.kubeconfig)", namespace: shop}
                syncPolicy: {automated: true, prune: true}
                interval: 1s
            """)
        func start(_ name: String) async throws -> ServeProcess {
            let serve = try ServeProcess(
                ["--config", "windlass.yaml", "--state-dir", directory.path + "/state-" + name], log: directory.path + "/" + name + ".log", in: directory.path,
                environment: [:])
            try await serve.waitForListening()
            return serve
        }
        let first = try await start("a")
        _ = try await first.waitFor("shop", timeout: 90) { $0["syncedRevision"] as? String == repo.initial }
        #expect(first.text.contains("leader elected"))
        let second = try await start("b")
        try await Task.sleep(for: .seconds(5))
        #expect(!second.text.contains("leader elected"), "\(second.text)")
        #expect((try await second.application("shop"))["syncedRevision"] as? String == nil)
        let holder = try cluster.kubectl("1.33", ["get", "lease", "windlass-leader", "-n", "default", "-o", "jsonpath={.spec.holderIdentity}"])
        #expect(holder.stdout.contains("_\(first.process.processIdentifier)_"), "\(holder.stdout)")
        func settings() throws -> String {
            try cluster.kubectl("1.33", ["get", "configmap", "settings", "-n", "shop", "-o", "jsonpath={.metadata.resourceVersion}"]).stdout
        }
        let before = try settings()

        kill(first.process.processIdentifier, SIGKILL)
        let killed = Date()
        while !second.text.contains("leader elected") && Date().timeIntervalSince(killed) < 30 {
            try await Task.sleep(for: .milliseconds(100))
        }
        let takeover = Date().timeIntervalSince(killed)
        #expect(second.text.contains("leader elected"), "\(second.text)")
        // The lease lasts 15 s from when the follower saw its last renewal. The leader renews
        // and the follower looks every 2 to 2.4 s: the last renewal is seen at most 2.4 s after
        // the kill, the lease ends 15 s later, and the follower's next look takes it: 19.8 s at
        // worst, and 2 s more for a loaded machine.
        #expect(takeover < 22, "took over after \(takeover) s")
        _ = try await second.waitFor("shop", timeout: 30) { $0["syncedRevision"] as? String == repo.initial }
        // The new leader found nothing to change: the object was not written again.
        #expect(try settings() == before)
        let newHolder = try cluster.kubectl("1.33", ["get", "lease", "windlass-leader", "-n", "default", "-o", "jsonpath={.spec.holderIdentity} {.spec.leaseTransitions}"])
        #expect(newHolder.stdout.contains("_\(second.process.processIdentifier)_"), "\(newHolder.stdout)")
        #expect(newHolder.stdout.hasSuffix(" 1"), "\(newHolder.stdout)")

        // A graceful stop releases the lease at once.
        #expect(try await second.terminate().status == 0)
        let released = try cluster.kubectl("1.33", ["get", "lease", "windlass-leader", "-n", "default", "-o", "jsonpath={.spec.holderIdentity}"])
        #expect(released.stdout.isEmpty, "\(released.stdout)")
        _ = try await cluster.terminate()
        print("leader takeover after kill -9: \(takeover) s")
    }
}
