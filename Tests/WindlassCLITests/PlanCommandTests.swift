import Foundation
import Testing
import WindlassTesting

/// A repository of manifests on a `main` branch and a pull request branch `pr` that changes an
/// image, adds a Service, removes a ConfigMap and leaves the rest alone.
struct PullRequestRepository {
    let repository: GitFixture
    let state: TemporaryDirectory

    static let secretValue = "cGxhbnQtcGFzc3dvcmQtMTIz"  // base64 of plant-password-123

    static func deployment(image: String) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: shop
          annotations:
            windlass.dev/sync-wave: "1"
        spec:
          replicas: 3
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
                - name: web
                  image: \(image)
        """
    }

    init() throws {
        repository = try GitFixture()
        state = try TemporaryDirectory()
        try repository.write("manifests/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n")
        try repository.write("manifests/web.yaml", Self.deployment(image: "registry.example/web:1.0"))
        try repository.write("manifests/old.yaml", configMapYAML("old").replacingOccurrences(of: "name: old", with: "name: old\n  namespace: shop"))
        try repository.write("manifests/other.yaml", configMapYAML("other").replacingOccurrences(of: "name: other", with: "name: other\n  namespace: shop"))
        try repository.write(
            "manifests/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  password: \(Self.secretValue)\n")
        try repository.commit("base")
        try repository.git(["checkout", "-q", "-b", "pr"])
        try repository.write("manifests/web.yaml", Self.deployment(image: "registry.example/web:2.0"))
        try repository.write("manifests/service.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n")
        try repository.git(["rm", "-q", "manifests/old.yaml"])
        try repository.commit("pr: web 2.0, a Service, no more old ConfigMap")
        try repository.git(["checkout", "-q", "main"])
    }

    func windlass(_ arguments: [String]) throws -> CommandResult {
        // Run where a team runs it: in its repository, which has no policies/ (the pack is judged elsewhere).
        try CLI.run(arguments + ["--source", repository.path, "--state-dir", state.path], in: repository.path)
    }

    func json(_ result: CommandResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
    }
}

@Suite("windlass plan, sync, diff and drift, as a user runs them")
struct PlanCommandTests {
    @Test("a pull-request plan without a cluster: actions per resource, manifest changes, summary; no Secret value")
    func noLive() throws {
        let repo = try PullRequestRepository()
        let result = try repo.windlass(["plan", "--base", "main", "--head", "pr", "--no-live", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let plan = try repo.json(result)
        #expect(plan["format_version"] as? String == "1.0")
        let changes = try #require(plan["resource_changes"] as? [[String: Any]])
        let actions = Dictionary(uniqueKeysWithValues: changes.map { ($0["address"] as! String, ($0["change"] as! [String: Any])["actions"] as! [String]) })
        #expect(actions == ["apps/Deployment/shop/web": ["update"], "Service/shop/web": ["create"], "ConfigMap/shop/old": ["delete"]])
        #expect((plan["summary"] as? [String: Any])?["line"] as? String == "Plan: 1 to add, 1 to change, 1 to destroy.")
        #expect((plan["manifest_changes"] as? [Any])?.count == 3)
        let rollouts = try #require(plan["rollouts"] as? [[String: Any]])
        #expect(rollouts.first?["summary"] as? String == "rolling update of 3 pods, up to 1 extra and 0 unavailable at a time")

        let markdown = try repo.windlass(["plan", "--base", "main", "--head", "pr", "--no-live", "--format", "markdown"])
        #expect(markdown.stdout.contains("**Plan: 1 to add, 1 to change, 1 to destroy.**"))
        #expect(markdown.stdout.contains("```diff\n"))
        #expect(!markdown.stdout.contains(PullRequestRepository.secretValue) && !markdown.stdout.contains("plant-password-123"))
    }

    @Test("sync, then plan is empty; drift from outside shows in drift, diff and the pull-request plan, marked as not caused by it")
    func liveDrift() throws {
        let repo = try PullRequestRepository()
        let initResult = try CLI.run(["cluster", "init", "--state-dir", repo.state.path], in: repo.repository.path)
        #expect(initResult.status == 0)
        let sync = try repo.windlass(["sync", "--ref", "main"])
        #expect(sync.status == 0, "\(sync.stdout)\(sync.stderr)")
        #expect(sync.stdout.contains("Sync wave 1: 1 resource"))
        #expect(sync.stdout.contains("synced: revision 1 deployed, 5 resources"))

        let clean = try repo.windlass(["plan", "--ref", "main", "--detailed-exitcode"])
        #expect(clean.status == 0)
        #expect(clean.stdout.hasSuffix("No changes. Live state matches the manifests.\n"))
        #expect(try repo.windlass(["diff", "--ref", "main"]).status == 0)
        #expect(try repo.windlass(["drift", "--ref", "main"]).status == 0)

        // Someone scales the Deployment and deletes a ConfigMap the pull request does not touch.
        #expect(try CLI.run(["cluster", "scale", "deployment/web", "--replicas", "5", "-n", "shop", "--state-dir", repo.state.path], in: repo.repository.path).status == 0)
        #expect(try CLI.run(["cluster", "delete", "configmap", "other", "-n", "shop", "--state-dir", repo.state.path], in: repo.repository.path).status == 0)

        let drift = try repo.windlass(["drift", "--ref", "main"])
        #expect(drift.status == 1)
        #expect(drift.stdout.contains("  ~ apps/Deployment/shop/web (changed: live differs from the manifest)\n      ~ spec.replicas: 5 => 3\n"))
        #expect(drift.stdout.contains("  ! ConfigMap/shop/other (missing: not in the cluster)"))
        #expect(drift.stdout.contains("Drift: 1 changed, 1 missing, 0 extraneous, 0 unmanaged; 3 of 5 managed resources in sync (60.0%)."))

        let diff = try repo.windlass(["diff", "--ref", "main"])
        #expect(diff.status == 1)
        #expect(diff.stdout.contains("diff -u -N live/apps.v1.Deployment.shop.web merged/apps.v1.Deployment.shop.web\n"))
        #expect(diff.stdout.contains("-  replicas: 5\n+  replicas: 3\n"))

        let detailed = try repo.windlass(["plan", "--ref", "main", "--detailed-exitcode"])
        #expect(detailed.status == 2)

        let pr = try repo.json(try repo.windlass(["plan", "--base", "main", "--head", "pr", "--format", "json"]))
        let changes = try #require(pr["resource_changes"] as? [[String: Any]])
        let origins = Dictionary(uniqueKeysWithValues: changes.compactMap { change -> (String, String)? in
            guard let origin = change["origin"] as? String else { return nil }
            return (change["address"] as! String, origin)
        })
        #expect(
            origins == [
                "apps/Deployment/shop/web": "both", "Service/shop/web": "pull-request", "ConfigMap/shop/old": "pull-request",
                "ConfigMap/shop/other": "drift",
            ])
        let drifted = (pr["drift"] as? [[String: Any]])?.compactMap { $0["address"] as? String }
        #expect(drifted == ["ConfigMap/shop/other", "apps/Deployment/shop/web"], "in sync order")

        // An unmanaged object in the application's namespace shows with --unmanaged only.
        let handmade = try TemporaryDirectory()
        let file = try handmade.write("cm.yaml", configMapYAML("handmade").replacingOccurrences(of: "name: handmade", with: "name: handmade\n  namespace: shop"))
        #expect(try CLI.run(["cluster", "apply", "-f", file, "--state-dir", repo.state.path], in: repo.repository.path).status == 0)
        #expect(!(try repo.windlass(["drift", "--ref", "main"]).stdout.contains("handmade")))
        #expect(try repo.windlass(["drift", "--ref", "main", "--unmanaged"]).stdout.contains("  ? ConfigMap/shop/handmade (unmanaged:"))

        // Sync heals it all.
        #expect(try repo.windlass(["sync", "--ref", "main"]).status == 0)
        #expect(try repo.windlass(["drift", "--ref", "main"]).status == 0)
    }

    @Test("plan --forecast: a pull request's plan carries a verdict, a gantt chart and the unschedulable pods; --forecast-fail-on fails it")
    func forecast() throws {
        let repo = try PullRequestRepository()
        #expect(try CLI.run(["cluster", "init", "--nodes", "2", "--cpu", "2", "--state-dir", repo.state.path], in: repo.repository.path).status == 0)
        #expect(try repo.windlass(["sync", "--ref", "main"]).status == 0)

        let markdown = try repo.windlass(["plan", "--base", "main", "--head", "pr", "--forecast", "--format", "markdown"])
        #expect(markdown.status == 0, "\(markdown.stderr)")
        let lines = markdown.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count > 3 && lines[2].hasPrefix("**Forecast: Fits: about "), "the verdict comes first: \(lines.prefix(4))")
        #expect(markdown.stdout.contains("#### Forecast\n"))
        #expect(markdown.stdout.contains("```mermaid\ngantt\n    dateFormat HH:mm:ss\n"))
        #expect(markdown.stdout.contains("    section Waves\n    Sync wave 0 ("))

        let json = try repo.json(try repo.windlass(["plan", "--base", "main", "--head", "pr", "--forecast", "--format", "json"]))
        let forecast = try #require(json["forecast"] as? [String: Any])
        #expect(forecast["available"] as? Bool == true && forecast["fits"] as? Bool == true)
        let waves = try #require(forecast["waves"] as? [[String: Any]])
        #expect(waves.map { $0["stage"] as? String } == ["Sync wave 0", "Sync wave 1", "Prune wave 0"])
        #expect((waves[1]["duration_seconds"] as? Double ?? 0) >= 1, "the web Deployment's pods take time to roll")
        let before = try CLI.run(["cluster", "get", "pods", "-A", "-o", "json", "--state-dir", repo.state.path], in: repo.repository.path).stdout

        // A branch whose Deployment asks for more CPU than a node has.
        try repo.repository.git(["checkout", "-q", "-b", "big", "main"])
        try repo.repository.write(
            "manifests/web.yaml",
            PullRequestRepository.deployment(image: "registry.example/web:1.0") + "\n          resources: {requests: {cpu: \"4\"}}\n")
        try repo.repository.commit("web asks for 4 CPUs")
        try repo.repository.git(["checkout", "-q", "main"])
        let text = try repo.windlass(["plan", "--base", "main", "--head", "big", "--forecast", "--no-color", "--detailed-exitcode"])
        #expect(text.status == 2, "changes, and no --forecast-fail-on: \(text.stderr)")
        #expect(text.stdout.contains("\nForecast: Does not fit: the sync would fail after about 5m"))
        #expect(text.stdout.contains("Unschedulable: shop/web-"))
        #expect(text.stdout.contains(" of shop/deployment/web: 0/2 nodes are available: 2 Insufficient cpu."))
        let failing = try repo.windlass(["plan", "--base", "main", "--head", "big", "--forecast", "--forecast-fail-on", "unschedulable", "--detailed-exitcode"])
        #expect(failing.status == 1)
        #expect(try CLI.run(["cluster", "get", "pods", "-A", "-o", "json", "--state-dir", repo.state.path], in: repo.repository.path).stdout == before,
            "forecasts leave the cluster as it was")

        let usage = try repo.windlass(["plan", "--forecast-fail-on", "unschedulable"])
        #expect(usage.status != 0 && usage.stderr.contains("--forecast-fail-on needs --forecast"))
        let noLive = try repo.windlass(["plan", "--base", "main", "--head", "pr", "--no-live", "--forecast"])
        #expect(noLive.status != 0 && noLive.stderr.contains("--forecast needs the cluster"))
    }

    @Test("invalid manifests stop the plan with located errors; nothing is compared")
    func invalid() throws {
        let repo = try PullRequestRepository()
        try repo.repository.write("manifests/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n  annotations:\n    windlass.dev/sync-wave: soon\n")
        try repo.repository.commit("broken")
        let result = try repo.windlass(["plan"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("manifests/broken.yaml@"))
        #expect(result.stderr.contains(":4:9: error:"), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("nothing was compared\n"))
        #expect(result.stdout.isEmpty)
        #expect(try repo.windlass(["diff"]).status == 2)
        #expect(try repo.windlass(["drift"]).status == 2)

        try repo.repository.write("manifests/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: shop\n")
        try repo.repository.commit("a duplicate")
        let duplicate = try repo.windlass(["plan"])
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr.contains("manifests/broken.yaml@"), "\(duplicate.stderr)")
        #expect(duplicate.stderr.contains("other.yaml@"), "both places are named")

        try repo.repository.write("manifests/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\n  annotations:\n    windlass.dev/sync-wave: soon\n")
        try repo.repository.commit("a bad wave")
        let wave = try repo.windlass(["plan"])
        #expect(wave.status == 1)
        #expect(wave.stderr.contains(":6:29: error: annotation windlass.dev/sync-wave must be an integer, not \"soon\""), "\(wave.stderr)")
    }

    @Test("--comment-dir writes each Markdown comment to a file")
    func commentFiles() throws {
        let repo = try PullRequestRepository()
        let out = try TemporaryDirectory()
        let result = try repo.windlass(["plan", "--base", "main", "--head", "pr", "--no-live", "--format", "markdown", "--comment-dir", out.path + "/comments"])
        #expect(result.status == 0, "\(result.stderr)")
        let comment = try String(contentsOfFile: out.path + "/comments/comment-1.md", encoding: .utf8)
        #expect(comment == result.stdout)
    }
}

@Suite("windlass plan on every source kind")
struct PlanSourceKindTests {
    @Test("a plain directory, a local repository and a git:// remote plan the same changes")
    func sourceKinds() throws {
        let repo = try PullRequestRepository()
        let expected = "Plan: 5 to add, 0 to change, 0 to destroy.\n"

        let local = try repo.windlass(["plan", "--ref", "main"])
        #expect(local.status == 0 && local.stdout.hasSuffix(expected), "\(local.stdout)\(local.stderr)")

        let directory = try CLI.run(["plan", "--source", repo.repository.path + "/manifests", "--path", ".", "--state-dir", repo.state.path], in: repo.repository.path)
        #expect(directory.status == 0 && directory.stdout.hasSuffix(expected), "\(directory.stdout)\(directory.stderr)")

        let served = try TemporaryDirectory()
        _ = try run("git", ["clone", "-q", "--bare", repo.repository.path, served.path + "/cloud.git"])
        let daemon = try GitDaemon(base: served.path)
        defer { daemon.stop() }
        let remote = try CLI.run(["plan", "--source", daemon.url("cloud.git"), "--ref", "main", "--state-dir", repo.state.path], in: repo.repository.path)
        #expect(remote.status == 0 && remote.stdout.hasSuffix(expected), "\(remote.stdout)\(remote.stderr)")
        #expect(remote.stdout.hasPrefix("Windlass plan for application \"default\": git://127.0.0.1:\(daemon.port)/cloud.git (manifests) at "))
        let pr = try CLI.run(["plan", "--source", daemon.url("cloud.git"), "--base", "main", "--head", "pr", "--no-live", "--state-dir", repo.state.path], in: repo.repository.path)
        #expect(pr.status == 0 && pr.stdout.hasSuffix("Plan: 1 to add, 1 to change, 1 to destroy.\n"), "\(pr.stdout)\(pr.stderr)")
    }
}

@Suite("windlass history and rollback")
struct HistoryCommandTests {
    @Test("two syncs, then a rollback: the history lists three revisions and auto-sync is paused")
    func rollback() throws {
        let repo = try PullRequestRepository()
        #expect(try CLI.run(["cluster", "init", "--state-dir", repo.state.path], in: repo.repository.path).status == 0)
        #expect(try repo.windlass(["sync", "--ref", "main"]).status == 0)
        let second = try repo.windlass(["sync", "--ref", "pr"])
        #expect(second.status == 0 && second.stdout.contains("synced: revision 2 deployed"), "\(second.stdout)\(second.stderr)")

        let rollback = try repo.windlass(["rollback", "--ref", "pr"])
        #expect(rollback.status == 0, "\(rollback.stderr)")
        #expect(rollback.stdout.hasSuffix("rolled back application \"default\": revision 3 (Rollback to 1) deployed\n"))
        let get = try CLI.run(["cluster", "get", "deployment", "web", "-n", "shop", "-o", "yaml", "--state-dir", repo.state.path], in: repo.repository.path)
        #expect(get.stdout.contains("image: registry.example/web:1.0"))

        let history = try CLI.run(["history", "--state-dir", repo.state.path], in: repo.repository.path)
        let lines = history.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0].hasPrefix("REVISION   UPDATED"))
        #expect(lines[1].contains("superseded") && lines[2].contains("superseded") && lines[3].contains("deployed") && lines[3].hasSuffix("Rollback to 1"))
        #expect(lines[4].hasPrefix("auto-sync is paused after a rollback"))
        let json = try CLI.run(["history", "--state-dir", repo.state.path, "-o", "json"])
        #expect(json.stdout.contains("\"description\": \"Rollback to 1\""))

        let missing = try repo.windlass(["rollback", "9", "--ref", "pr"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "revision 9 of application \"default\" is not in the history (kept: 1, 2, 3)\n")

        // A source that does not resolve cannot pin auto-sync: refused, nothing rolled back.
        let unresolved = try repo.windlass(["rollback", "1", "--ref", "no-such-branch"])
        #expect(unresolved.status != 0)
        #expect(unresolved.stderr.contains("rollback refused: ") && unresolved.stderr.contains("no-such-branch"), "\(unresolved.stderr)")
        let after = try CLI.run(["history", "--state-dir", repo.state.path], in: repo.repository.path)
        #expect(after.stdout.split(separator: "\n").count == 5, "no fourth revision:\n\(after.stdout)")
    }

    @Test("an application that lists another's objects is refused and changes nothing, until told to take ownership; then it owns (and prunes) them")
    func ownershipConflict() throws {
        let repo = try PullRequestRepository()
        #expect(try CLI.run(["cluster", "init", "--state-dir", repo.state.path], in: repo.repository.path).status == 0)
        #expect(try repo.windlass(["sync", "--ref", "main", "--app", "first"]).status == 0)

        let plan = try repo.windlass(["plan", "--ref", "main", "--app", "second", "--format", "json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let changes = try #require(try repo.json(plan)["resource_changes"] as? [[String: Any]])
        #expect(changes.count == 5 && changes.allSatisfy { $0["tracked_by"] as? String == "first" }, "\(changes)")

        let refused = try repo.windlass(["sync", "--ref", "main", "--app", "second"])
        #expect(refused.status == 1)
        let lines = refused.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains("apps/Deployment/shop/web is tracked by application \"first\""), "\(refused.stderr)")
        #expect(
            lines.last
                == "sync refused: 5 objects tracked by another application (take them over with --take-ownership, or syncPolicy.takeOwnership in windlass.yaml); nothing was applied")
        let history = try CLI.run(["history", "--app", "second", "--state-dir", repo.state.path], in: repo.repository.path)
        #expect(!history.stdout.contains("deployed"), "no revision: \(history.stdout)")
        let get = try CLI.run(["cluster", "get", "configmap", "old", "-n", "shop", "-o", "yaml", "--state-dir", repo.state.path], in: repo.repository.path)
        #expect(get.stdout.contains("windlass.dev/tracking-id: first:/ConfigMap:shop/old"), "\(get.stdout)")

        let taken = try repo.windlass(["sync", "--ref", "main", "--app", "second", "--take-ownership"])
        #expect(taken.status == 0, "\(taken.stderr)")
        // The pull request drops the ConfigMap: the application that owns it now prunes it.
        #expect(try repo.windlass(["sync", "--ref", "pr", "--app", "second"]).status == 0)
        let gone = try CLI.run(["cluster", "get", "configmap", "old", "-n", "shop", "--state-dir", repo.state.path], in: repo.repository.path)
        #expect(gone.status != 0, "\(gone.stdout)")
        // The first application's next sync is refused in turn.
        #expect(try repo.windlass(["sync", "--ref", "main", "--app", "first"]).status == 1)
    }

    @Test("a namespace that does not exist: a warning in the plan and a refused sync, or created first with CreateNamespace=true")
    func createNamespace() throws {
        let dir = try TemporaryDirectory()
        let state = ["--state-dir", dir.path + "/state"]
        _ = try dir.write("manifests/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: team-a}\ndata: {a: b}\n")
        _ = try dir.write(
            "manifests/other.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: team-b, annotations: {argocd.argoproj.io/sync-options: CreateNamespace=true}}\n")
        #expect(try CLI.run(["cluster", "init"] + state).status == 0)
        func windlass(_ arguments: [String]) throws -> CommandResult { try CLI.run(arguments + ["--source", dir.path] + state, in: dir.path) }

        let plan = try windlass(["plan", "--no-policies"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains(
            "namespace \"team-a\" does not exist and is not in the manifests: 1 object would fail to apply (sync with CreateNamespace=true, or add the Namespace)"),
            "\(plan.stdout)")
        // The object that asks for its namespace gets it.
        #expect(plan.stdout.contains("Namespace/team-b will be created (CreateNamespace=true)"), "\(plan.stdout)")
        let refused = try windlass(["sync", "--no-policies"])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasSuffix(
            "namespace \"team-a\" does not exist and is not in the manifests\nsync refused: 1 namespace missing (add it to the manifests, or sync with CreateNamespace=true); nothing was applied\n"),
            "\(refused.stderr)")
        #expect(try CLI.run(["cluster", "get", "configmap", "other", "-n", "team-b"] + state).status != 0, "nothing applied, not even the objects that could be")

        let synced = try windlass(["sync", "--no-policies", "--sync-option", "CreateNamespace=true"])
        #expect(synced.status == 0, "\(synced.stderr)")
        let namespace = try CLI.run(["cluster", "get", "namespace", "team-a", "-o", "yaml"] + state)
        #expect(namespace.status == 0 && !namespace.stdout.contains("windlass.dev/tracking-id"), "created untracked, as Argo CD does: \(namespace.stdout)")
        #expect(try CLI.run(["cluster", "get", "configmap", "settings", "-n", "team-a"] + state).status == 0)
        // Once there, the namespace is no change; dropping the option prunes nothing.
        let again = try windlass(["plan", "--no-policies"])
        #expect(again.stdout.contains("No changes"), "\(again.stdout)")

        let unknown = try windlass(["plan", "--sync-option", "ServerSideApply=true"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown sync option \"ServerSideApply=true\""), "\(unknown.stderr)")
    }

    @Test("hooks as Argo CD runs them: generateName makes a new hook each sync; a sync with nothing to change still runs them; a failed one fails it")
    func hooksEverySync() throws {
        let dir = try TemporaryDirectory()
        let state = ["--state-dir", dir.path + "/state"]
        func hook(fail: Bool) -> String {
            """
            apiVersion: batch/v1
            kind: Job
            metadata:
              generateName: migrate-
              annotations: {argocd.argoproj.io/hook: PreSync}
            spec:
              template:
                metadata: {annotations: {sim.windlass.dev/run-seconds: "0"\(fail ? ", sim.windlass.dev/fail: \"true\"" : "")}}
                spec: {restartPolicy: Never, containers: [{name: m, image: "migrate:1"}]}
            """
        }
        _ = try dir.write("manifests/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n")
        _ = try dir.write("manifests/hook.yaml", hook(fail: false))
        #expect(try CLI.run(["cluster", "init"] + state).status == 0)
        func windlass(_ arguments: [String]) throws -> CommandResult { try CLI.run(arguments + ["--source", dir.path, "--no-policies"] + state, in: dir.path) }

        #expect(try CLI.run(["validate", dir.path + "/manifests"]).status == 0)
        let first = try windlass(["sync"])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try windlass(["sync"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("No changes"), "\(second.stdout)")
        #expect(second.stdout.contains("hook job.batch/migrate-") && second.stdout.contains(" succeeded"), "\(second.stdout)")
        let jobs = try CLI.run(["cluster", "get", "jobs"] + state).stdout.split(separator: "\n").dropFirst()
        #expect(jobs.count == 2 && jobs.allSatisfy { $0.hasPrefix("migrate-") }, "a new Job each sync: \(jobs)")
        #expect(Set(jobs.map { $0.prefix { $0 != " " } }).count == 2)

        _ = try dir.write("manifests/hook.yaml", hook(fail: true))
        let failed = try windlass(["sync"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("hooks failed (nothing to change, no revision written)"), "\(failed.stderr)")
        let history = try CLI.run(["history"] + state, in: dir.path)
        #expect(history.stdout.split(separator: "\n").count == 2, "one revision only: \(history.stdout)")
    }
}
