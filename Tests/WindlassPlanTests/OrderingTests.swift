import Testing
import WindlassTesting
import WindlassCluster
import WindlassManifest
import WindlassPlan

func object(_ kind: String, _ name: String, namespace: String? = "shop", apiVersion: String = "v1", annotations: [String: String] = [:]) -> Value {
    var object: Value = ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": ["name": .string(name)]]
    if let namespace { object.set(.string(namespace), at: ["metadata", "namespace"]) }
    for (key, value) in annotations.sorted(by: { $0.key < $1.key }) {
        object.set(.string(value), at: ["metadata", "annotations", key])
    }
    return object
}

func set(_ objects: [Value]) -> ManifestSet {
    ManifestSet(
        files: ["m.yaml"],
        resources: objects.map { Resource(id: ResourceID(object: $0)!, object: $0, span: .synthesized) })
}

/// The plan of creating `objects` into an empty cluster, as `stage: address` lines.
func order(_ objects: [Value], live: [Value] = []) -> [String] {
    let plan = Planner().plan(set(objects), source: Plan.Source(location: "t", path: ".", revision: nil), live: LiveSnapshot(objects: live))
    return plan.changes.filter { $0.action != .noop }.map { "\($0.stage): \($0.id)" }
}

@Suite("Ordering into phases and waves")
struct OrderingTests {
    @Test("kind order within a wave: Namespace, Secret, ConfigMap, Service, Deployment, StatefulSet, VirtualMachine, Job")
    func kindOrder() {
        let result = order([
            object("Job", "migrate", apiVersion: "batch/v1"),
            object("VirtualMachine", "vm", apiVersion: "kubevirt.io/v1"),
            object("StatefulSet", "db", apiVersion: "apps/v1"),
            object("Deployment", "web", apiVersion: "apps/v1"),
            object("Service", "web"),
            object("ConfigMap", "conf"),
            object("Secret", "creds"),
            object("Namespace", "shop", namespace: nil),
            object("Widget", "w", apiVersion: "example.org/v1"),
        ])
        #expect(
            result == [
                "Sync wave 0: Namespace/shop", "Sync wave 0: Secret/shop/creds", "Sync wave 0: ConfigMap/shop/conf", "Sync wave 0: Service/shop/web",
                "Sync wave 0: apps/Deployment/shop/web", "Sync wave 0: apps/StatefulSet/shop/db", "Sync wave 0: kubevirt.io/VirtualMachine/shop/vm",
                "Sync wave 0: batch/Job/shop/migrate", "Sync wave 0: example.org/Widget/shop/w",
            ])
    }

    @Test("waves come before kind order; a Namespace and a CRD take the earliest wave of what they hold")
    func waves() {
        let crd: Value = [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "widgets.example.org"],
            "spec": ["group": "example.org", "names": ["kind": "Widget", "plural": "widgets"], "scope": "Namespaced"],
        ]
        let result = order([
            object("Deployment", "web", apiVersion: "apps/v1", annotations: ["windlass.dev/sync-wave": "2"]),
            object("ConfigMap", "late", annotations: ["argocd.argoproj.io/sync-wave": "5"]),
            object("Secret", "early", annotations: ["windlass.dev/sync-wave": "-3"]),
            object("Namespace", "shop", namespace: nil, annotations: ["windlass.dev/sync-wave": "4"]),
            object("Widget", "w", apiVersion: "example.org/v1", annotations: ["windlass.dev/sync-wave": "-1"]),
            crd,
        ])
        #expect(
            result == [
                "Sync wave -3: Namespace/shop", "Sync wave -3: Secret/shop/early",
                "Sync wave -1: apiextensions.k8s.io/CustomResourceDefinition/widgets.example.org", "Sync wave -1: example.org/Widget/shop/w",
                "Sync wave 2: apps/Deployment/shop/web", "Sync wave 5: ConfigMap/shop/late",
            ])
    }

    @Test("hooks run in their phases; the Namespace of a PreSync hook moves into PreSync")
    func hooks() {
        let result = order([
            object("Deployment", "web", apiVersion: "apps/v1"),
            object("Job", "smoke", apiVersion: "batch/v1", annotations: ["windlass.dev/hook": "PostSync"]),
            object("Job", "migrate", apiVersion: "batch/v1", annotations: ["argocd.argoproj.io/hook": "PreSync", "argocd.argoproj.io/hook-delete-policy": "HookSucceeded"]),
            object("Job", "notify", apiVersion: "batch/v1", annotations: ["windlass.dev/hook": "SyncFail"]),
            object("ConfigMap", "skipped", annotations: ["windlass.dev/hook": "Skip"]),
            object("Namespace", "shop", namespace: nil),
        ])
        #expect(
            result == [
                "PreSync wave 0: Namespace/shop", "PreSync wave 0: batch/Job/shop/migrate", "Sync wave 0: apps/Deployment/shop/web",
                "PostSync wave 0: batch/Job/shop/smoke", "SyncFail wave 0: batch/Job/shop/notify",
            ])
        let plan = Planner().plan(set([object("Job", "migrate", apiVersion: "batch/v1", annotations: ["windlass.dev/hook": "PreSync"])]), source: .init(location: "t", path: ".", revision: nil), live: LiveSnapshot())
        #expect(plan.summary.hooks == 1 && !plan.summary.hasChanges, "hooks are not counted as changes")
    }

    @Test("Helm's hooks in rendered charts, as Argo CD maps them: pre-install/upgrade PreSync, post-install/upgrade PostSync, weights as waves, other events left out")
    func helmHooks() throws {
        let job = { (name: String, annotations: [String: String]) in object("Job", name, apiVersion: "batch/v1", annotations: annotations) }
        let result = order([
            job("schema", ["helm.sh/hook": "pre-install,pre-upgrade", "helm.sh/hook-weight": "-2"]),
            job("page-up", ["helm.sh/hook": "pre-install", "helm.sh/hook-weight": " -1 "]),
            job("page-down", ["helm.sh/hook": "post-install,post-upgrade"]),
            job("test", ["helm.sh/hook": "test"]),
            job("cleanup", ["helm.sh/hook": "pre-delete"]),
            object("CustomResourceDefinition", "widgets.example.com", namespace: nil, apiVersion: "apiextensions.k8s.io/v1", annotations: ["helm.sh/hook": "crd-install"]),
            object("Service", "web", annotations: ["helm.sh/hook-weight": "2"]),
            object("ConfigMap", "odd", annotations: ["helm.sh/hook-weight": "soon"]),
            // Argo CD's own annotation wins over Helm's.
            job("smoke", ["helm.sh/hook": "pre-install", "argocd.argoproj.io/hook": "PostSync"]),
        ])
        #expect(
            result == [
                "PreSync wave -2: batch/Job/shop/schema", "PreSync wave -1: batch/Job/shop/page-up",
                "Sync wave 0: ConfigMap/shop/odd", "Sync wave 0: apiextensions.k8s.io/CustomResourceDefinition/widgets.example.com",
                "Sync wave 2: Service/shop/web", "PostSync wave 0: batch/Job/shop/page-down", "PostSync wave 0: batch/Job/shop/smoke",
            ])

        let policies = { (annotations: [String: String]) in SyncSettings.read(job("j", annotations)).settings.hook?.deletePolicies }
        #expect(policies(["helm.sh/hook": "pre-install"]) == [.beforeHookCreation], "Helm's default")
        #expect(policies(["helm.sh/hook": "pre-install", "helm.sh/hook-delete-policy": "hook-succeeded,hook-failed"]) == [.hookSucceeded, .hookFailed])
        #expect(policies(["argocd.argoproj.io/hook": "PreSync", "helm.sh/hook-delete-policy": "hook-succeeded"]) == [.hookSucceeded])
        #expect(
            policies(["argocd.argoproj.io/hook": "PreSync", "argocd.argoproj.io/hook-delete-policy": "HookFailed", "helm.sh/hook-delete-policy": "hook-succeeded"])
                == [.hookFailed])
        let read = SyncSettings.read(job("j", ["helm.sh/hook": "post-rollback", "helm.sh/hook-weight": "x", "helm.sh/hook-delete-policy": "never"]))
        #expect(read.settings.skip && read.settings.hook == nil && read.problems.isEmpty, "left out, as Argo CD leaves out what it cannot map")
        // Spellings that disagree are one problem, however many annotations look at them.
        let disagreeing = SyncSettings.read(
            job("j", ["windlass.dev/sync-wave": "1", "argocd.argoproj.io/sync-wave": "2", "windlass.dev/hook": "PreSync", "argocd.argoproj.io/hook": "PostSync"]))
        #expect(disagreeing.problems.map(\.message).count == 2, "\(disagreeing.problems.map(\.message))")

        // A Helm hook may be named by generateName, as any hook.
        let directory = try TemporaryDirectory()
        _ = try directory.write(
            "hooks.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: upgrade-schema-\n  annotations: {helm.sh/hook: pre-upgrade}\n")
        let loaded = ManifestLoader.load(DirectoryTree(root: directory.path))
        #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics)")
        #expect(loaded.resources.map(\.id.name) == ["upgrade-schema-"])
    }

    @Test("what reading the manifests warned of is among the plan's warnings, located")
    func loadWarnings() throws {
        let directory = try TemporaryDirectory()
        _ = try directory.write("role.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader, namespace: shop}\n")
        let plan = Planner().plan(ManifestLoader.load(DirectoryTree(root: directory.path)), source: .init(location: "t", path: ".", revision: nil), live: LiveSnapshot())
        #expect(plan.warnings == ["\(directory.path)/role.yaml:1:1: ClusterRole is cluster-scoped; its namespace \"shop\" is ignored"])
        let empty = try TemporaryDirectory()
        let nothing = Planner().plan(ManifestLoader.load(DirectoryTree(root: empty.path)), source: .init(location: "t", path: ".", revision: nil), live: LiveSnapshot())
        #expect(nothing.warnings == ["\(empty.path): no manifests here: no .yaml, .yml or .json file, nor a kustomization"])
    }

    @Test("pruning comes after the Sync phase's applies, in reverse order, PruneLast at the very end")
    func pruneOrder() {
        let tracking = Tracking(application: "default")
        func tracked(_ value: Value) -> Value { tracking.prepare(value, as: ResourceID(object: value)!) }
        let live = [
            tracked(object("Namespace", "old", namespace: nil)),
            tracked(object("ConfigMap", "conf", annotations: ["windlass.dev/sync-wave": "1"])),
            tracked(object("Deployment", "api", apiVersion: "apps/v1", annotations: ["windlass.dev/sync-wave": "1"])),
            tracked(object("Service", "api")),
            tracked(object("Secret", "last", annotations: ["windlass.dev/sync-options": "PruneLast=true"])),
        ]
        let result = order(
            [object("Deployment", "web", apiVersion: "apps/v1"), object("Job", "smoke", apiVersion: "batch/v1", annotations: ["windlass.dev/hook": "PostSync"])],
            live: live)
        #expect(
            result == [
                "Sync wave 0: apps/Deployment/shop/web", "Prune wave 1: apps/Deployment/shop/api", "Prune wave 1: ConfigMap/shop/conf",
                "Prune wave 0: Service/shop/api", "Prune wave 0: Namespace/old", "Prune last: Secret/shop/last", "PostSync wave 0: batch/Job/shop/smoke",
            ])
    }
}

@Suite("Prune safety")
struct PruneTests {
    let tracking = Tracking(application: "default")
    func tracked(_ value: Value) -> Value { tracking.prepare(value, as: ResourceID(object: value)!) }
    let source = Plan.Source(location: "t", path: ".", revision: nil)

    @Test("only tracked objects are pruned; untracked ones and other applications' are left alone")
    func onlyTracked() {
        let other = Tracking(application: "billing").prepare(object("ConfigMap", "theirs"), as: ResourceID(object: object("ConfigMap", "theirs"))!)
        var copied = tracked(object("ConfigMap", "copied"))
        copied.set("default:/ConfigMap:shop/original", at: ["metadata", "annotations", "windlass.dev/tracking-id"])
        let live = [tracked(object("ConfigMap", "gone")), object("ConfigMap", "handmade"), other, copied]
        let plan = Planner().plan(set([object("ConfigMap", "kept")]), source: source, live: LiveSnapshot(objects: live))
        #expect(plan.changes.filter { $0.action == .delete }.map(\.id.name) == ["gone"])
    }

    @Test("prune: disabled (and Flux's annotation) keeps an object, and says why")
    func disabled() {
        let live = [
            tracked(object("ConfigMap", "a", annotations: ["windlass.dev/prune": "disabled"])),
            tracked(object("ConfigMap", "b", annotations: ["kustomize.toolkit.fluxcd.io/prune": "disabled"])),
        ]
        let plan = Planner().plan(set([object("ConfigMap", "kept")]), source: source, live: LiveSnapshot(objects: live))
        #expect(!plan.changes.contains { $0.action == .delete })
        #expect(plan.retained.map(\.reason) == ["prune disabled by annotation", "prune disabled by annotation"])
    }

    @Test("an empty set never prunes unless allowEmpty")
    func emptySet() {
        let live = [tracked(object("ConfigMap", "a")), tracked(object("ConfigMap", "b"))]
        let plan = Planner().plan(set([]), source: source, live: LiveSnapshot(objects: live))
        #expect(!plan.summary.hasChanges)
        #expect(plan.warnings.first?.hasPrefix("the manifests are empty") == true)
        let allowed = Planner(options: PlanOptions(allowEmpty: true)).plan(set([]), source: source, live: LiveSnapshot(objects: live))
        #expect(allowed.summary.destroy == 2)
        let off = Planner(options: PlanOptions(prune: false)).plan(set([object("ConfigMap", "c")]), source: source, live: LiveSnapshot(objects: live))
        #expect(off.summary.destroy == 0 && off.retained.count == 2)
    }
}

@Suite("Hook and annotation mistakes")
struct AnnotationMistakeTests {
    @Test("bad waves, unknown hooks and delete policies, and hook Namespaces are located errors")
    func mistakes() throws {
        let text = """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: migrate
              annotations:
                windlass.dev/hook: PreSink
                windlass.dev/hook-delete-policy: WhenDone
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: conf
              annotations:
                windlass.dev/sync-wave: "first"
                windlass.dev/hook-delete-policy: HookSucceeded
            ---
            apiVersion: v1
            kind: Namespace
            metadata:
              name: shop
              annotations:
                argocd.argoproj.io/hook: PreSync
            """
        let directory = try TemporaryDirectory()
        _ = try directory.write("bad.yaml", text)
        let loaded = ManifestLoader.load(DirectoryTree(root: directory.path))
        let plan = Planner().plan(loaded, source: .init(location: "t", path: ".", revision: nil), live: LiveSnapshot())
        let lines = plan.diagnostics.map { "\($0.location.position?.description ?? "?") \($0.message)" }
        #expect(
            lines == [
                "6:24 annotation windlass.dev/hook: unknown hook \"PreSink\" (expected PreSync, Sync, PostSync, SyncFail or Skip)",
                "7:38 annotation windlass.dev/hook-delete-policy: unknown delete policy \"WhenDone\" (expected HookSucceeded, HookFailed or BeforeHookCreation)",
                "7:38 annotation windlass.dev/hook-delete-policy is set on a resource that is not a hook",
                "14:29 annotation windlass.dev/sync-wave must be an integer, not \"first\"",
                "15:38 annotation windlass.dev/hook-delete-policy is set on a resource that is not a hook",
                "17:1 Namespace/shop cannot be a hook: it must exist before the objects in it",
            ])
        #expect(plan.diagnostics.allSatisfy { $0.location.path.hasSuffix("bad.yaml") })
    }
}

@Suite("Live objects that cannot be read")
struct UnreadableTests {
    @Test("a kind that could not be listed is reported and left out, not fatal")
    func unreadable() {
        var live = LiveSnapshot(objects: [])
        live.unreadableKinds[GroupKind(group: "kubevirt.io", kind: "VirtualMachine")] = "the server is currently unable to handle the request"
        let plan = Planner().plan(
            set([object("VirtualMachine", "vm", apiVersion: "kubevirt.io/v1"), object("ConfigMap", "conf")]),
            source: .init(location: "t", path: ".", revision: nil), live: live)
        #expect(plan.changes.map(\.id.name) == ["conf"])
        #expect(plan.warnings == ["could not read kubevirt.io/VirtualMachine/shop/vm from the cluster (the server is currently unable to handle the request); it is left out of this plan"])
    }
}
