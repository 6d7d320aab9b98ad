import Testing
import WindlassCluster
import WindlassManifest

@Suite("Rolling update arithmetic (REFERENCE.md §3)")
struct RolloutMathTests {
    @Test("25% surge rounds up, 25% unavailable rounds down", arguments: [
        (10, 3, 2), (4, 1, 1), (3, 1, 0), (1, 1, 0), (100, 25, 25), (0, 0, 1),
    ])
    func defaults(replicas: Int, surge: Int, unavailable: Int) throws {
        let budget = try RolloutMath.budget(maxSurge: nil, maxUnavailable: nil, replicas: replicas)
        #expect(budget == RolloutMath.Budget(maxSurge: surge, maxUnavailable: unavailable))
    }

    @Test("absolute values, mixed forms, and both zero → one unavailable")
    func explicit() throws {
        #expect(try RolloutMath.budget(maxSurge: 1, maxUnavailable: 0, replicas: 3) == .init(maxSurge: 1, maxUnavailable: 0))
        #expect(try RolloutMath.budget(maxSurge: "50%", maxUnavailable: 2, replicas: 5) == .init(maxSurge: 3, maxUnavailable: 2))
        #expect(try RolloutMath.budget(maxSurge: 0, maxUnavailable: "0%", replicas: 5) == .init(maxSurge: 0, maxUnavailable: 1))
        #expect(throws: ClusterError.self) { try RolloutMath.budget(maxSurge: "lots", maxUnavailable: nil, replicas: 5) }
        #expect(throws: ClusterError.self) { try RolloutMath.budget(maxSurge: -1, maxUnavailable: nil, replicas: 5) }
    }

    @Test("scale up: min(replicas + surge − all, replicas − new), never negative")
    func scaleUp() {
        // 10 replicas, surge 3: from 10 old, the new RS may start 3.
        #expect(RolloutMath.scaleUp(replicas: 10, surge: 3, totalReplicas: 10, newReplicas: 0) == 3)
        // Already at 13 in total: nothing more until old ones go.
        #expect(RolloutMath.scaleUp(replicas: 10, surge: 3, totalReplicas: 13, newReplicas: 3) == 0)
        // Near the end the cap is what the new RS still lacks.
        #expect(RolloutMath.scaleUp(replicas: 10, surge: 3, totalReplicas: 9, newReplicas: 9) == 1)
        #expect(RolloutMath.scaleUp(replicas: 10, surge: 3, totalReplicas: 15, newReplicas: 2) == 0)
    }

    @Test("scale down keeps replicas − maxUnavailable available")
    func scaleDown() {
        #expect(RolloutMath.scaleDown(replicas: 10, maxUnavailable: 2, availableReplicas: 13) == 5)
        #expect(RolloutMath.scaleDown(replicas: 10, maxUnavailable: 2, availableReplicas: 8) == 0)
        #expect(RolloutMath.scaleDown(replicas: 10, maxUnavailable: 2, availableReplicas: 5) == 0)
    }

    @Test("canary weights round to nearest, ties up", arguments: [
        (10, 10, 1), (10, 25, 3), (5, 10, 1), (3, 50, 2), (4, 10, 0), (10, 100, 10), (10, 0, 0),
    ])
    func canary(replicas: Int, weight: Int, expected: Int) {
        #expect(RolloutMath.canaryReplicas(replicas: replicas, weight: weight) == expected)
    }
}
