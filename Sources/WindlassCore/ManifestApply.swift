public import WindlassCluster
public import WindlassManifest

/// Applies a set of manifests as a person would with `kubectl apply -f`: every object is first
/// applied as a dry run, so one refused object means nothing is applied; then Namespaces and
/// CustomResourceDefinitions go first, the rest in file order.
public enum ManifestApply {
    public enum Outcome: String, Sendable {
        case created, configured, unchanged
    }

    public static func apply(
        _ resources: [Resource],
        to cluster: some ClusterBackend,
        manager: String,
        force: Bool = false,
        onApplied: (ResourceID, Outcome) -> Void = { _, _ in }
    ) async throws(ClusterError) -> [(ResourceID, Outcome)] {
        let ordered = resources.enumerated().sorted { a, b in
            let rank = { (r: Resource) in r.id.kind == "Namespace" ? 0 : r.id.kind == "CustomResourceDefinition" ? 1 : 2 }
            return (rank(a.element), a.offset) < (rank(b.element), b.offset)
        }.map(\.element)
        // Objects in namespaces created by this same apply cannot be dry-run before those exist.
        let newNamespaces = Set(ordered.filter { $0.id.kind == "Namespace" }.map(\.id.name))
        for resource in ordered where resource.id.namespace.map({ !newNamespaces.contains($0) }) ?? true {
            do {
                _ = try await cluster.apply(resource.object, options: ApplyOptions(fieldManager: manager, dryRun: true, force: force))
            } catch {
                throw ClusterError(error.code, "\(RESTMapping.reference(resource.id)): \(error.message)", causes: error.causes)
            }
        }
        var outcomes: [(ResourceID, Outcome)] = []
        for resource in ordered {
            let before = try? await cluster.get(resource.id)
            let after: Value
            do {
                after = try await cluster.apply(resource.object, options: ApplyOptions(fieldManager: manager, force: force))
            } catch {
                throw ClusterError(error.code, "\(RESTMapping.reference(resource.id)): \(error.message)", causes: error.causes)
            }
            let outcome: Outcome
            if before == nil {
                outcome = .created
            } else if before?[path: ["metadata", "resourceVersion"]] == after[path: ["metadata", "resourceVersion"]] {
                outcome = .unchanged
            } else {
                outcome = .configured
            }
            outcomes.append((resource.id, outcome))
            // The write is durable by now: saying so is an acknowledgement.
            onApplied(resource.id, outcome)
        }
        return outcomes
    }
}
