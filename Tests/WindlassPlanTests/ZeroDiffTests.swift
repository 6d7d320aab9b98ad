import Testing
import WindlassCluster
import WindlassCore
import WindlassManifest
import WindlassPlan

@Suite("Zero diff after sync")
struct ZeroDiffTests {
    @Test("every generated variation, synced into the core, plans as no change")
    func zeroDiff() async throws {
        let bed = try await PlanBed()
        let objects: [Value] = [["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "zero"]]] + Variations.all()
        #expect(objects.count >= 200)
        let set = try bed.load(objects)
        #expect(errors(set).isEmpty, "\(errors(set))")
        #expect(set.resources.count == objects.count)

        let first = try await bed.plan(set)
        #expect(first.summary.add == objects.count)
        #expect(first.changes.allSatisfy { $0.action == .create })
        try await bed.sync(first)

        let second = try await bed.plan(set)
        let drifting = second.changes.filter { $0.action != .noop }
        for change in drifting {
            Issue.record("\(change.id): \(change.action) \(change.reason): \(change.fields.map { "\($0.path): \($0.before.map(String.init(describing:)) ?? "-") => \($0.after.map(String.init(describing:)) ?? "-")" })")
        }
        #expect(second.changes.count == objects.count)
        #expect(second.summary.line() == "No changes. Live state matches the manifests.")
    }
}
