import ArgumentParser
import WindlassCluster
import WindlassCore
import WindlassManifest

#if canImport(Glibc)
import Glibc
#endif

/// `windlass cluster`: the embedded cluster, as kubectl users drive one.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Drive the embedded cluster (containers and VMs with Kubernetes semantics, kept in the state directory).",
        subcommands: [
            Init.self, Apply.self, Get.self, Describe.self, Wait.self, Scale.self, Delete.self, Events.self, Nodes.self, FailNode.self,
            RecoverNode.self, Drain.self, Uncordon.self, Metrics.self,
        ]
    )
}

/// `--state-dir`, shared by the cluster commands.
struct StateOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: "The state directory (default: $WINDLASS_STATE_DIR or .windlass).")
    var stateDirectory: String?

    var path: String {
        stateDirectory ?? ProcessEnvironment.value("WINDLASS_STATE_DIR") ?? ".windlass"
    }

    /// Opens the cluster and brings it up to date (controllers run until quiescent).
    func open() async throws -> EmbeddedCluster {
        try await Self.open(path)
    }

    /// Opens the cluster in `path` and brings it up to date.
    static func open(_ path: String) async throws -> EmbeddedCluster {
        do {
            // A command a daemon runs for the CLI uses the daemon's cluster: its lock is held.
            if let shared = Console.sharedCluster, SameFile.check(shared.stateDirectory, path) {
                try await shared.cluster.reconcile()
                return shared.cluster
            }
            let cluster = try EmbeddedCluster(stateDirectory: path)
            try await cluster.reconcile()
            return cluster
        } catch {
            throw CommandFailure(message: error.description)
        }
    }
}

extension KindNames {
    /// Whether a kind has no namespace (Nodes, Namespaces, ClusterRoles, …).
    static func isClusterScoped(_ gvk: GroupVersionKind) -> Bool {
        ResourceScopes.builtInClusterScoped.contains(gvk.groupKind)
    }

    /// The id of `kind`/`name`, in `namespace` unless the kind is cluster-scoped.
    static func id(kind gvk: GroupVersionKind, name: String, namespace: String) -> ResourceID {
        ResourceID(gvk, namespace: isClusterScoped(gvk) ? nil : namespace, name: name)
    }
}

extension StateOptions {
    /// Opens the cluster, runs `body` on it, and turns a cluster error into a one-line failure.
    func withCluster<T>(_ body: (EmbeddedCluster) async throws(ClusterError) -> T) async throws -> T {
        let cluster = try await open()
        do {
            return try await body(cluster)
        } catch {
            throw CommandFailure(message: error.description)
        }
    }
}

enum ProcessEnvironment {
    static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

extension ClusterCommand {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the embedded cluster's node pool.")

        @OptionGroup var state: StateOptions
        @Option(help: "How many nodes.") var nodes: Int = 3
        @Option(help: "CPU per node.") var cpu: String = "8"
        @Option(help: "Memory per node.") var memory: String = "32Gi"
        @Option(name: .customLong("label"), help: "A label for every node, KEY=VALUE (repeatable).") var labels: [String] = []

        func validate() throws {
            guard nodes > 0 else { throw ValidationError("--nodes must be at least 1") }
            guard Quantity(parsing: cpu) != nil, Quantity(parsing: memory) != nil else {
                throw ValidationError("--cpu and --memory must be quantities such as 8 and 32Gi")
            }
            for label in labels {
                let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, NameRules.qualifiedName(parts[0]) == nil, NameRules.labelValue(parts[1]) == nil else {
                    throw ValidationError("--label \"\(label)\" is not KEY=VALUE with a valid label key and value")
                }
            }
        }

        func run() async throws {
            let cluster = try await state.open()
            let existing = try await cluster.list(GroupKind(group: "", kind: "Node"), namespace: nil, selector: .everything).items
            guard existing.isEmpty else {
                throw CommandFailure(message: "the cluster in \(state.path) already has \(existing.count) nodes")
            }
            do {
                var nodeLabels: [String: String] = [:]
                for label in labels {
                    let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                    nodeLabels[parts[0]] = parts[1]
                }
                try await cluster.createNodes(count: nodes, cpu: cpu, memory: memory, labels: nodeLabels)
                try await cluster.reconcile()
            } catch {
                throw CommandFailure(message: error.description)
            }
            printOut("cluster initialised in \(state.path): \(nodes) nodes of \(cpu) CPU and \(memory)")
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply manifests (server-side apply, field manager windlass-cli); nothing is applied if any object is refused."
        )

        @OptionGroup var state: StateOptions
        @Option(name: .shortAndLong, help: "A manifest file or directory.") var filename: [String]
        @Option(name: .shortAndLong, help: "Namespace for objects that name none.") var namespace: String = "default"
        @Flag(help: "Take ownership of fields other managers own.") var forceConflicts = false

        func run() async throws {
            let set: ManifestSet
            do {
                set = try ManifestLoader.load(paths: filename, options: LoadOptions(defaultNamespace: namespace))
            } catch {
                throw CommandFailure(message: error.description)
            }
            let diagnostics = (set.diagnostics + ManifestValidator().validate(set)).filter { $0.severity == .error }
            if !diagnostics.isEmpty {
                for diagnostic in diagnostics { printOut(diagnostic) }
                printOut("nothing applied: \(diagnostics.count) error\(diagnostics.count == 1 ? "" : "s")")
                throw ExitCode(1)
            }
            let cluster = try await state.open()
            do {
                _ = try await ManifestApply.apply(set.resources, to: cluster, manager: "windlass-cli", force: forceConflicts) { id, outcome in
                    printOut("\(KindNames.reference(id)) \(outcome.rawValue)")
                    fflush(nil)
                }
                try await cluster.reconcile()
            } catch {
                throw CommandFailure(message: error.description)
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List objects of a kind, or show one.")

        @OptionGroup var state: StateOptions
        @Argument(help: "The kind: deployments, pods, svc, vm, …") var kind: String
        @Argument(help: "The object's name.") var name: String?
        @Option(name: .shortAndLong, help: "Namespace.") var namespace: String = "default"
        @Flag(name: [.customShort("A"), .long], help: "All namespaces.") var allNamespaces = false
        @Option(name: .shortAndLong, help: "Output: wide, yaml or json.") var output: String?
        @Option(name: [.customShort("l"), .long], help: "Label selector, e.g. app=web,tier!=db.") var selector: String?

        func validate() throws {
            if let output, !["wide", "yaml", "json"].contains(output) {
                throw ValidationError("--output must be wide, yaml or json")
            }
            if KindNames.resolve(kind) == nil {
                throw ValidationError("the server doesn't have a resource type \"\(kind)\"")
            }
            if let selector, (try? LabelSelector(parsing: selector)) == nil {
                throw ValidationError("invalid label selector \"\(selector)\"")
            }
        }

        func run() async throws {
            let gvk = KindNames.resolve(kind)!
            let cluster = try await state.open()
            let clusterScoped = KindNames.isClusterScoped(gvk)
            let scope = allNamespaces || clusterScoped ? nil : namespace
            var items: [Value]
            do {
                if let name {
                    items = [try await cluster.get(KindNames.id(kind: gvk, name: name, namespace: namespace))]
                } else {
                    let labels = selector.flatMap { try? LabelSelector(parsing: $0) } ?? .everything
                    items = try await cluster.list(gvk.groupKind, namespace: scope, selector: labels).items
                }
            } catch {
                throw CommandFailure(message: error.description)
            }
            switch output {
            case "yaml":
                printOut(YAMLWriter(sortKeys: true).write(documents: items), terminator: "")
            case "json":
                let document: Value = name != nil ? items[0] : ["apiVersion": "v1", "kind": "List", "items": .sequence(items)]
                printOut(JSONWriter(pretty: true, sortKeys: true).write(document))
            default:
                if items.isEmpty {
                    printOut(allNamespaces || clusterScoped ? "No resources found" : "No resources found in \(namespace) namespace.")
                    return
                }
                printOut(ObjectTable.render(items, kind: gvk.groupKind, allNamespaces: allNamespaces && !clusterScoped, wide: output == "wide", now: cluster.clock.now()), terminator: "")
            }
        }
    }

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the cluster's events, oldest first.")

        @OptionGroup var state: StateOptions

        func run() async throws {
            let cluster = try await state.open()
            let events = try await cluster.events(for: nil)
            let now = cluster.clock.now()
            var rows = [["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]]
            for event in events {
                rows.append(["\(max(0, Int(now - event.lastTime)))s", event.kind.rawValue, event.reason, KindNames.reference(event.object), event.message])
            }
            printOut(ObjectTable.columns(rows), terminator: "")
        }
    }

    struct Nodes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the nodes.")

        @OptionGroup var state: StateOptions

        func run() async throws {
            let cluster = try await state.open()
            let nodes = try await cluster.list(GroupKind(group: "", kind: "Node"), namespace: nil, selector: .everything).items
            printOut(ObjectTable.render(nodes, kind: GroupKind(group: "", kind: "Node"), allNamespaces: false, wide: false, now: cluster.clock.now()), terminator: "")
        }
    }
}

extension ClusterCommand {
    struct Wait: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wait until objects are Healthy, or have a condition (--for condition=Available).",
            discussion: "With no object named, waits for every object whose health is assessed, in all namespaces."
        )

        @OptionGroup var state: StateOptions
        @Argument(help: "Objects as KIND/NAME (deployment/web, vm/demo-db).") var objects: [String] = []
        @Option(name: .shortAndLong, help: "Namespace of the named objects.") var namespace: String = "default"
        @Option(name: .customLong("for"), help: "condition=TYPE, or health (the default).") var condition: String = "health"
        @Option(help: "How long to wait, in seconds (60s, 2m).") var timeout: String = "60s"

        func validate() throws {
            guard Self.seconds(timeout) != nil else { throw ValidationError("--timeout must look like 30s, 2m or 90") }
            guard condition == "health" || condition.hasPrefix("condition=") else {
                throw ValidationError("--for must be health or condition=TYPE")
            }
            for object in objects where Self.parse(object, namespace: namespace) == nil {
                throw ValidationError("\"\(object)\" is not KIND/NAME of a known kind")
            }
        }

        static func seconds(_ text: String) -> Double? {
            if text.hasSuffix("m"), let minutes = Double(text.dropLast()) { return minutes * 60 }
            if text.hasSuffix("s"), let seconds = Double(text.dropLast()) { return seconds }
            return Double(text)
        }

        static func parse(_ object: String, namespace: String) -> ResourceID? {
            let parts = object.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, let gvk = KindNames.resolve(parts[0]) else { return nil }
            return KindNames.id(kind: gvk, name: parts[1], namespace: namespace)
        }

        func run() async throws {
            let cluster = try await state.open()
            let deadline = SystemClock().now() + Self.seconds(timeout)!
            while true {
                let wakeup: Double?
                do {
                    wakeup = try await cluster.reconcile()
                } catch {
                    throw CommandFailure(message: error.description)
                }
                let pending = try await unmet(cluster)
                if pending.isEmpty {
                    printOut(objects.isEmpty ? "all objects are Healthy" : objects.map { "\($0) condition met" }.joined(separator: "\n"))
                    return
                }
                let now = SystemClock().now()
                if now >= deadline {
                    throw CommandFailure(message: "timed out waiting for: " + pending.joined(separator: ", "))
                }
                let pause = min(max(0.05, (wakeup ?? now + 0.5) - now), 0.5, deadline - now)
                try await Task.sleep(for: .milliseconds(Int(pause * 1000)))
            }
        }

        /// What is not there yet, as `kind/name (Progressing: reason)`.
        private func unmet(_ cluster: EmbeddedCluster) async throws -> [String] {
            var targets: [Value] = []
            if objects.isEmpty {
                for name in ["deploy", "sts", "ds", "vm", "pvc", "job"] {
                    let gvk = KindNames.resolve(name)!
                    targets += try await cluster.list(gvk.groupKind, namespace: nil, selector: .everything).items
                }
            } else {
                for object in objects {
                    let id = Self.parse(object, namespace: namespace)!
                    guard let value = try? await cluster.get(id) else {
                        targets.append(["kind": .string(id.kind), "metadata": ["name": .string(id.name)], "missing": true])
                        continue
                    }
                    targets.append(value)
                }
            }
            var pending: [String] = []
            for target in targets {
                let name = "\(target["kind"]?.stringValue?.lowercased() ?? "")/\(target[path: ["metadata", "name"]]?.stringValue ?? "")"
                if target["missing"] != nil {
                    pending.append("\(name) (not found)")
                    continue
                }
                if condition.hasPrefix("condition=") {
                    let type = String(condition.dropFirst("condition=".count))
                    let met = target[path: ["status", "conditions"]]?.sequenceValue?.contains { $0["type"]?.stringValue == type && $0["status"] == "True" } ?? false
                    if !met { pending.append("\(name) (\(type) not True)") }
                } else if let health = HealthAssessor.assess(target), health.status != .healthy {
                    pending.append("\(name) (\(health))")
                }
            }
            return pending
        }
    }
}

extension ClusterCommand {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an object (and, by default, what it owns).")

        @OptionGroup var state: StateOptions
        @Argument(help: "The kind.") var kind: String
        @Argument(help: "The object's name.") var name: String
        @Option(name: .shortAndLong, help: "Namespace.") var namespace: String = "default"
        @Option(help: "background, foreground or orphan.") var cascade: String = "background"

        func validate() throws {
            guard KindNames.resolve(kind) != nil else { throw ValidationError("the server doesn't have a resource type \"\(kind)\"") }
            guard ["background", "foreground", "orphan"].contains(cascade) else {
                throw ValidationError("--cascade must be background, foreground or orphan")
            }
        }

        func run() async throws {
            let gvk = KindNames.resolve(kind)!
            let id = KindNames.id(kind: gvk, name: name, namespace: namespace)
            let cluster = try await state.open()
            let propagation = DeletionPropagation(rawValue: cascade.prefix(1).uppercased() + cascade.dropFirst())!
            do {
                try await cluster.delete(id, propagation: propagation, dryRun: false)
                try await cluster.reconcile()
            } catch {
                throw CommandFailure(message: error.description)
            }
            printOut("\(KindNames.reference(id).replacingFirst("/", with: " \"") + "\"") deleted")
        }
    }

    struct Scale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the replicas of a Deployment, ReplicaSet or StatefulSet.")

        @OptionGroup var state: StateOptions
        @Argument(help: "KIND/NAME, e.g. deployment/web.") var object: String
        @Option(help: "The new number of replicas.") var replicas: Int
        @Option(name: .shortAndLong, help: "Namespace.") var namespace: String = "default"

        func validate() throws {
            guard replicas >= 0 else { throw ValidationError("--replicas must not be negative") }
            guard let id = Wait.parse(object, namespace: namespace), ["Deployment", "ReplicaSet", "StatefulSet"].contains(id.kind) else {
                throw ValidationError("\"\(object)\" is not a deployment, replicaset or statefulset as KIND/NAME")
            }
        }

        func run() async throws {
            let id = Wait.parse(object, namespace: namespace)!
            let cluster = try await state.open()
            do {
                var current = try await cluster.get(id)
                current.set(.int(replicas), at: ["spec", "replicas"])
                _ = try await cluster.update(current, manager: "windlass-cli")
                try await cluster.reconcile()
            } catch {
                throw CommandFailure(message: error.description)
            }
            printOut("\(KindNames.reference(id)) scaled")
        }
    }
}

extension String {
    fileprivate func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let index = firstIndex(of: target) else { return self }
        return String(self[..<index]) + replacement + String(self[self.index(after: index)...])
    }
}

extension ClusterCommand {
    struct FailNode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fail-node",
            abstract: "Make a node NotReady; after the grace period its pods are recreated elsewhere."
        )

        @OptionGroup var state: StateOptions
        @Argument(help: "The node.") var node: String
        @Option(help: "Seconds before the node's pods are evicted (default 40).") var gracePeriod: Double?

        func run() async throws {
            try await state.withCluster { (cluster) async throws(ClusterError) in try await cluster.failNode(node, graceSeconds: gracePeriod) }
            printOut("node/\(node) failed")
        }
    }

    struct RecoverNode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "recover-node", abstract: "Bring a failed node back.")

        @OptionGroup var state: StateOptions
        @Argument(help: "The node.") var node: String

        func run() async throws {
            try await state.withCluster { (cluster) async throws(ClusterError) in try await cluster.recoverNode(node) }
            printOut("node/\(node) recovered")
        }
    }

    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cordon a node and evict its pods (DaemonSet pods stay).")

        @OptionGroup var state: StateOptions
        @Argument(help: "The node.") var node: String

        @Option(help: "How long to keep retrying evictions a disruption budget refuses, in seconds.") var timeout: Double = 60

        func run() async throws {
            let deadline = SystemClock().now() + timeout
            while true {
                let (evicted, blocked) = try await state.withCluster { (cluster) async throws(ClusterError) in try await cluster.drain(node) }
                for pod in evicted {
                    printOut("evicting pod \(pod.namespace ?? "")/\(pod.name)")
                }
                if blocked.isEmpty { break }
                for pod in blocked {
                    printOut("error when evicting pods/\"\(pod.name)\" -n \"\(pod.namespace ?? "")\" (will retry after 1s): Cannot evict pod as it would violate the pod's disruption budget.")
                }
                guard SystemClock().now() < deadline else {
                    throw CommandFailure(message: "drain of node/\(node) timed out: \(blocked.count) pod(s) still protected by a disruption budget")
                }
                try await Task.sleep(for: .seconds(1))
            }
            printOut("node/\(node) drained")
        }
    }

    struct Uncordon: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a node schedulable again.")

        @OptionGroup var state: StateOptions
        @Argument(help: "The node.") var node: String

        func run() async throws {
            try await state.withCluster { (cluster) async throws(ClusterError) in try await cluster.uncordon(node) }
            printOut("node/\(node) uncordoned")
        }
    }
}

extension ClusterCommand {
    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an object's identity, health, status and events.")

        @OptionGroup var state: StateOptions
        @Argument(help: "The kind.") var kind: String
        @Argument(help: "The object's name.") var name: String
        @Option(name: .shortAndLong, help: "Namespace.") var namespace: String = "default"

        func validate() throws {
            guard KindNames.resolve(kind) != nil else { throw ValidationError("the server doesn't have a resource type \"\(kind)\"") }
        }

        func run() async throws {
            let gvk = KindNames.resolve(kind)!
            let id = KindNames.id(kind: gvk, name: name, namespace: namespace)
            let cluster = try await state.open()
            let object: Value
            do {
                object = try await cluster.get(id)
            } catch {
                throw CommandFailure(message: error.description)
            }
            printOut(ObjectDescription.render(object, events: try await cluster.events(for: id), now: cluster.clock.now()), terminator: "")
        }
    }
}

extension ClusterCommand {
    struct Metrics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the pods' simulated traffic (requests, errors, latency) in Prometheus' text format."
        )

        @OptionGroup var state: StateOptions

        func run() async throws {
            let cluster = try await state.open()
            printOut(await cluster.simulatedMetrics(), terminator: "")
        }
    }
}
