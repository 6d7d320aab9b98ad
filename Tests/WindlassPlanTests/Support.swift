import Foundation
import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassPlan
import WindlassTesting

/// Manifests written to files and loaded as a user's would be, and an embedded cluster to sync
/// them into, in temporary directories.
struct PlanBed {
    let manifests: TemporaryDirectory
    let state: TemporaryDirectory
    let clock = ManualClock()
    let cluster: EmbeddedCluster
    var planner = Planner()

    init(nodes: Int = 3, cpu: String = "64", memory: String = "256Gi") async throws {
        manifests = try TemporaryDirectory()
        state = try TemporaryDirectory()
        cluster = try EmbeddedCluster(stateDirectory: state.path, clock: clock)
        try await cluster.createNodes(count: nodes, cpu: cpu, memory: memory, labels: ["compute": "true"])
    }

    /// Writes `objects` as YAML files (a few per file) and loads them.
    func load(_ objects: [Value], perFile: Int = 5) throws -> ManifestSet {
        for file in try FileManager.default.contentsOfDirectory(atPath: manifests.path) {
            try manifests.remove(file)
        }
        for start in stride(from: 0, to: objects.count, by: perFile) {
            let documents = Array(objects[start..<min(start + perFile, objects.count)])
            _ = try manifests.write("part-\(start / perFile).yaml", YAMLWriter().write(documents: documents))
        }
        return ManifestLoader.load(DirectoryTree(root: manifests.path))
    }

    func snapshot(_ set: ManifestSet) async throws -> LiveSnapshot {
        try await cluster.snapshot(desiredKinds: Set(set.resources.map(\.id.groupKind)), trackingSelector: planner.tracking.selector)
    }

    func plan(_ set: ManifestSet) async throws -> Plan {
        planner.plan(set, source: Plan.Source(location: manifests.path, path: ".", revision: nil), live: try await snapshot(set))
    }

    /// Carries out a plan the simple way (apply or delete each change in order), then lets
    /// the controllers settle for a few simulated seconds.
    func sync(_ plan: Plan) async throws {
        for change in plan.changes {
            switch change.action {
            case .create, .update:
                _ = try await cluster.apply(try #require(change.object), options: ApplyOptions(fieldManager: "windlass", force: true))
            case .replace:
                try await cluster.delete(change.id, propagation: .background, dryRun: false)
                _ = try await cluster.apply(try #require(change.object), options: ApplyOptions(fieldManager: "windlass", force: true))
            case .delete:
                try await cluster.delete(change.id, propagation: .background, dryRun: false)
            case .noop:
                break
            }
        }
        for _ in 0..<5 {
            try await cluster.reconcile()
            clock.advance(by: 1)
        }
    }
}

extension Planner {
    var tracking: Tracking { Tracking(application: options.application) }
}

func errors(_ set: ManifestSet) -> [Diagnostic] {
    (set.diagnostics + ManifestValidator().validate(set)).filter { $0.severity == .error }
}
