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
        subcommands: [Init.self, Apply.self, Get.self, Events.self, Nodes.self]
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
        do {
            let cluster = try EmbeddedCluster(stateDirectory: path)
            try await cluster.reconcile()
            return cluster
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

        func validate() throws {
            guard nodes > 0 else { throw ValidationError("--nodes must be at least 1") }
            guard Quantity(parsing: cpu) != nil, Quantity(parsing: memory) != nil else {
                throw ValidationError("--cpu and --memory must be quantities such as 8 and 32Gi")
            }
        }

        func run() async throws {
            let cluster = try await state.open()
            let existing = try await cluster.list(GroupKind(group: "", kind: "Node"), namespace: nil, selector: .everything).items
            guard existing.isEmpty else {
                throw CommandFailure(message: "the cluster in \(state.path) already has \(existing.count) nodes")
            }
            do {
                try await cluster.createNodes(count: nodes, cpu: cpu, memory: memory)
                try await cluster.reconcile()
            } catch {
                throw CommandFailure(message: error.description)
            }
            print("cluster initialised in \(state.path): \(nodes) nodes of \(cpu) CPU and \(memory)")
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
                for diagnostic in diagnostics { print(diagnostic) }
                print("nothing applied: \(diagnostics.count) error\(diagnostics.count == 1 ? "" : "s")")
                throw ExitCode(1)
            }
            let cluster = try await state.open()
            do {
                _ = try await ManifestApply.apply(set.resources, to: cluster, manager: "windlass-cli", force: forceConflicts) { id, outcome in
                    print("\(KindNames.reference(id)) \(outcome.rawValue)")
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

        func validate() throws {
            if let output, !["wide", "yaml", "json"].contains(output) {
                throw ValidationError("--output must be wide, yaml or json")
            }
            if KindNames.resolve(kind) == nil {
                throw ValidationError("the server doesn't have a resource type \"\(kind)\"")
            }
        }

        func run() async throws {
            let gvk = KindNames.resolve(kind)!
            let cluster = try await state.open()
            let clusterScoped = gvk.kind == "Node" || gvk.kind == "Namespace"
            let scope = allNamespaces || clusterScoped ? nil : namespace
            var items: [Value]
            do {
                if let name {
                    items = [try await cluster.get(ResourceID(gvk, namespace: clusterScoped ? nil : namespace, name: name))]
                } else {
                    items = try await cluster.list(gvk.groupKind, namespace: scope, selector: .everything).items
                }
            } catch {
                throw CommandFailure(message: error.description)
            }
            switch output {
            case "yaml":
                print(YAMLWriter(sortKeys: true).write(documents: items), terminator: "")
            case "json":
                let document: Value = name != nil ? items[0] : ["apiVersion": "v1", "kind": "List", "items": .sequence(items)]
                print(JSONWriter(pretty: true, sortKeys: true).write(document))
            default:
                if items.isEmpty {
                    print(allNamespaces || clusterScoped ? "No resources found" : "No resources found in \(namespace) namespace.")
                    return
                }
                print(ObjectTable.render(items, kind: gvk.groupKind, allNamespaces: allNamespaces && !clusterScoped, wide: output == "wide", now: cluster.clock.now()), terminator: "")
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
            print(ObjectTable.columns(rows), terminator: "")
        }
    }

    struct Nodes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the nodes.")

        @OptionGroup var state: StateOptions

        func run() async throws {
            let cluster = try await state.open()
            let nodes = try await cluster.list(GroupKind(group: "", kind: "Node"), namespace: nil, selector: .everything).items
            print(ObjectTable.render(nodes, kind: GroupKind(group: "", kind: "Node"), allNamespaces: false, wide: false, now: cluster.clock.now()), terminator: "")
        }
    }
}
