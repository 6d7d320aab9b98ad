import ArgumentParser
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassRollout

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
            RecoverNode.self, Drain.self, Uncordon.self, Metrics.self, Serve.self, Kubeconfig.self,
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

    /// The cluster: opened here and brought up to date, or through the daemon that owns the
    /// state directory (see ``StateCluster``).
    func open() async throws -> StateCluster {
        try await StateCluster.open(path)
    }
}

/// Kinds as kubectl users name them, resolved through the cluster's discovery (built-in kinds
/// and those its CustomResourceDefinitions declare).
enum Kinds {
    /// The resource `name` stands for (`deploy`, `deployments.apps`, `Deployment`).
    static func resolve(_ name: String, in cluster: some ClusterBackend) async throws -> APIResource {
        guard let resource = try? await cluster.discovery().resolve(name) else {
            throw CommandFailure(message: "the server doesn't have a resource type \"\(name)\"")
        }
        return resource
    }

    /// The resources of `deploy,svc` or `all` (the `all` category, in kubectl's order: the core
    /// group first, then apps, autoscaling, batch and the rest, each by name), each once.
    static func resolveList(_ text: String, in cluster: some ClusterBackend) async throws -> [APIResource] {
        var out: [APIResource] = []
        for token in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingWhitespace() }) {
            guard !token.isEmpty else { throw CommandFailure(message: "\"\(text)\" names an empty resource type") }
            let found: [APIResource]
            if token == "all" {
                let groupOrder = ["", "apps", "autoscaling", "batch"]
                let members = ((try? await cluster.discovery()) ?? RESTMapping.builtIn).resources(inCategory: "all")
                found = members.sorted { a, b in
                    let (ra, rb) = (groupOrder.firstIndex(of: a.group) ?? groupOrder.count, groupOrder.firstIndex(of: b.group) ?? groupOrder.count)
                    return ra != rb ? ra < rb : (a.group, a.name) < (b.group, b.name)
                }
            } else {
                found = [try await resolve(token, in: cluster)]
            }
            for resource in found where !out.contains(where: { $0.groupKind == resource.groupKind }) { out.append(resource) }
        }
        return out
    }

    /// `KIND/NAME` as an object's id, in `namespace` unless the kind is cluster-scoped.
    static func object(_ text: String, namespace: String, in cluster: some ClusterBackend) async throws -> ResourceID {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw CommandFailure(message: "\"\(text)\" is not KIND/NAME") }
        return RESTMapping.id(try await resolve(parts[0], in: cluster), name: parts[1], namespace: namespace)
    }

    /// Whether `text` is written as `KIND/NAME`.
    static func isObjectReference(_ text: String) -> Bool {
        let parts = text.split(separator: "/", maxSplits: 1)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
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
            var nodeLabels: [String: String] = [:]
            for label in labels {
                let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                nodeLabels[parts[0]] = parts[1]
            }
            try await cluster.createNodes(count: nodes, cpu: cpu, memory: memory, labels: nodeLabels)
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
                    printOut("\(RESTMapping.reference(id)) \(outcome.rawValue)")
                    fflush(nil)
                }
                try await cluster.reconcile()
            } catch {
                throw CommandFailure(message: "\(error)")
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List objects of a kind, or show one.")

        @OptionGroup var state: StateOptions
        @Argument(help: "The kind: deployments, pods, svc, vm, …; several separated by commas (deploy,svc), or all.") var kind: String
        @Argument(help: "The object's name.") var name: String?
        @Option(name: .shortAndLong, help: "Namespace.") var namespace: String = "default"
        @Flag(name: [.customShort("A"), .long], help: "All namespaces.") var allNamespaces = false
        @Option(name: .shortAndLong, help: "Output: wide, yaml or json.") var output: String?
        @Option(name: [.customShort("l"), .long], help: "Label selector, e.g. app=web,tier!=db.") var selector: String?

        func validate() throws {
            if let output, !["wide", "yaml", "json"].contains(output) {
                throw ValidationError("--output must be wide, yaml or json")
            }
            if let selector, (try? LabelSelector(parsing: selector)) == nil {
                throw ValidationError("invalid label selector \"\(selector)\"")
            }
        }

        func run() async throws {
            let cluster = try await state.open()
            let resources = try await Kinds.resolveList(kind, in: cluster)
            if resources.count > 1 || kind.split(separator: ",").contains(where: { $0 == "all" }) {
                return try await several(resources, in: cluster)
            }
            let resource = resources[0]
            let clusterScoped = !resource.namespaced
            let scope = allNamespaces || clusterScoped ? nil : namespace
            var items: [Value]
            do {
                if let name {
                    items = [try await cluster.get(RESTMapping.id(resource, name: name, namespace: namespace))]
                } else {
                    let labels = selector.flatMap { try? LabelSelector(parsing: $0) } ?? .everything
                    items = try await cluster.list(resource.groupKind, namespace: scope, selector: labels).items
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
                printOut(ObjectTable.render(items, kind: resource.groupKind, allNamespaces: allNamespaces && !clusterScoped, wide: output == "wide", now: cluster.clock.now()), terminator: "")
            }
        }

        /// Several kinds at once (`deploy,svc`, `all`), as kubectl shows them: a table per kind
        /// that has objects, names written `kind.group/name`, a blank line between tables; one
        /// List in YAML or JSON.
        func several(_ resources: [APIResource], in cluster: StateCluster) async throws {
            let labels = selector.flatMap { try? LabelSelector(parsing: $0) } ?? .everything
            var tables: [String] = []
            var everything: [Value] = []
            for resource in resources {
                let scope = allNamespaces || !resource.namespaced ? nil : namespace
                var items: [Value]
                do {
                    if let name {
                        guard let found = try? await cluster.get(RESTMapping.id(resource, name: name, namespace: namespace)) else {
                            printError("Error from server (NotFound): \(resource.name) \"\(name)\" not found")
                            continue
                        }
                        items = [found]
                    } else {
                        items = try await cluster.list(resource.groupKind, namespace: scope, selector: labels).items
                    }
                } catch {
                    throw CommandFailure(message: error.description)
                }
                guard !items.isEmpty else { continue }
                everything += items
                let prefix = resource.singularName + (resource.group.isEmpty ? "" : ".\(resource.group)") + "/"
                tables.append(
                    ObjectTable.render(
                        items, kind: resource.groupKind, allNamespaces: allNamespaces && resource.namespaced, wide: output == "wide", now: cluster.clock.now(),
                        namePrefix: prefix))
            }
            switch output {
            case "yaml":
                printOut(YAMLWriter(sortKeys: true).write(documents: [["apiVersion": "v1", "kind": "List", "items": .sequence(everything)]]), terminator: "")
            case "json":
                printOut(JSONWriter(pretty: true, sortKeys: true).write(["apiVersion": "v1", "kind": "List", "items": .sequence(everything)]))
            default:
                if tables.isEmpty {
                    if name == nil { printOut(allNamespaces ? "No resources found" : "No resources found in \(namespace) namespace.") }
                    return
                }
                printOut(tables.joined(separator: "\n"), terminator: "")
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
                rows.append(["\(max(0, Int(now - event.lastTime)))s", event.kind.rawValue, event.reason, RESTMapping.reference(event.object), event.message])
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
            for object in objects where !Kinds.isObjectReference(object) {
                throw ValidationError("\"\(object)\" is not KIND/NAME")
            }
        }

        static func seconds(_ text: String) -> Double? {
            if text.hasSuffix("m"), let minutes = Double(text.dropLast()) { return minutes * 60 }
            if text.hasSuffix("s"), let seconds = Double(text.dropLast()) { return seconds }
            return Double(text)
        }

        func run() async throws {
            let cluster = try await state.open()
            var targets: [ResourceID]?
            if !objects.isEmpty {
                targets = []
                for object in objects { targets?.append(try await Kinds.object(object, namespace: namespace, in: cluster)) }
            }
            let waiting = ClusterWait(backend: cluster, driver: cluster.driver)
            let until: ClusterWait.Condition = condition.hasPrefix("condition=") ? .condition(String(condition.dropFirst("condition=".count))) : .healthy
            let pending: [String]
            do {
                pending = try await waiting.wait(for: targets, until: until, timeout: Self.seconds(timeout)!)
            } catch {
                throw CommandFailure(message: "\(error)")
            }
            guard pending.isEmpty else { throw CommandFailure(message: "timed out waiting for: " + pending.joined(separator: ", ")) }
            printOut(objects.isEmpty ? "all objects are Healthy" : objects.map { "\($0) condition met" }.joined(separator: "\n"))
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
            guard ["background", "foreground", "orphan"].contains(cascade) else {
                throw ValidationError("--cascade must be background, foreground or orphan")
            }
        }

        func run() async throws {
            let cluster = try await state.open()
            let id = RESTMapping.id(try await Kinds.resolve(kind, in: cluster), name: name, namespace: namespace)
            let propagation = DeletionPropagation(rawValue: cascade.prefix(1).uppercased() + cascade.dropFirst())!
            do {
                try await cluster.delete(id, propagation: propagation, dryRun: false)
                try await cluster.reconcile()
            } catch {
                throw CommandFailure(message: error.description)
            }
            printOut("\(RESTMapping.reference(id).replacingFirst("/", with: " \"") + "\"") deleted")
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
            guard Kinds.isObjectReference(object) else {
                throw ValidationError("\"\(object)\" is not a deployment, replicaset or statefulset as KIND/NAME")
            }
        }

        func run() async throws {
            let cluster = try await state.open()
            let id = try await Kinds.object(object, namespace: namespace, in: cluster)
            guard ["Deployment", "ReplicaSet", "StatefulSet"].contains(id.kind) else {
                throw CommandFailure(message: "\"\(object)\" is not a deployment, replicaset or statefulset as KIND/NAME")
            }
            do {
                var current = try await cluster.get(id)
                current.set(.int(replicas), at: ["spec", "replicas"])
                _ = try await cluster.update(current, options: WriteOptions(fieldManager: "windlass-cli"))
                try await cluster.reconcile()
            } catch {
                throw CommandFailure(message: error.description)
            }
            printOut("\(RESTMapping.reference(id)) scaled")
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
            try await state.open().failNode(node, graceSeconds: gracePeriod)
            printOut("node/\(node) failed")
        }
    }

    struct RecoverNode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "recover-node", abstract: "Bring a failed node back.")

        @OptionGroup var state: StateOptions
        @Argument(help: "The node.") var node: String

        func run() async throws {
            try await state.open().recoverNode(node)
            printOut("node/\(node) recovered")
        }
    }

    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cordon a node and evict its pods (DaemonSet pods stay).")

        @OptionGroup var state: StateOptions
        @Argument(help: "The node.") var node: String

        @Option(help: "How long to keep retrying evictions a disruption budget refuses, in seconds.") var timeout: Double = 60

        func run() async throws {
            let cluster = try await state.open()
            let waiting = ClusterWait(backend: cluster, driver: cluster.driver)
            do {
                try await waiting.drain(
                    node, fieldManager: "windlass-cli", timeout: timeout,
                    onEvicted: { pod in printOut("evicting pod \(pod.namespace ?? "")/\(pod.name)") },
                    onBlocked: { pods in
                        for pod in pods {
                            printOut(
                                "error when evicting pods/\"\(pod.name)\" -n \"\(pod.namespace ?? "")\" (will retry after 1s): Cannot evict pod as it would violate the pod's disruption budget."
                            )
                        }
                    })
            } catch {
                throw CommandFailure(message: "\(error)")
            }
            printOut("node/\(node) drained")
        }
    }

    struct Uncordon: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a node schedulable again.")

        @OptionGroup var state: StateOptions
        @Argument(help: "The node.") var node: String

        func run() async throws {
            try await state.open().uncordon(node)
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

        func run() async throws {
            let cluster = try await state.open()
            let id = RESTMapping.id(try await Kinds.resolve(kind, in: cluster), name: name, namespace: namespace)
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
            printOut(try await cluster.simulatedMetrics(), terminator: "")
        }
    }
}
