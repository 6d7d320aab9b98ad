public import WindlassManifest

/// The arithmetic of a Deployment's rolling update, exactly as the Kubernetes controller does it.
public enum RolloutMath {
    /// How far a rolling update may go above and below the desired replicas.
    public struct Budget: Sendable, Hashable {
        public var maxSurge: Int
        public var maxUnavailable: Int

        public init(maxSurge: Int, maxUnavailable: Int) {
            self.maxSurge = maxSurge
            self.maxUnavailable = maxUnavailable
        }
    }

    /// Resolves `maxSurge` (a percentage rounds up) and `maxUnavailable` (rounds down) against
    /// `replicas`; when both come to 0, one pod may be unavailable so the rollout can progress.
    /// Defaults are 25 % each.
    public static func budget(maxSurge: Value?, maxUnavailable: Value?, replicas: Int) throws(ClusterError) -> Budget {
        let surge = try resolve(maxSurge ?? "25%", of: replicas, roundUp: true, field: "maxSurge")
        var unavailable = try resolve(maxUnavailable ?? "25%", of: replicas, roundUp: false, field: "maxUnavailable")
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return Budget(maxSurge: surge, maxUnavailable: unavailable)
    }

    /// An int-or-string: an integer, or a percentage of `total`.
    public static func resolve(_ value: Value, of total: Int, roundUp: Bool, field: String) throws(ClusterError) -> Int {
        switch value.content {
        case .int(let n) where n >= 0:
            return n
        case .string(let s) where s.hasSuffix("%"):
            guard let percent = Int(s.dropLast()), percent >= 0 else { break }
            let scaled = percent * total
            return roundUp ? (scaled + 99) / 100 : scaled / 100
        case .null:
            return 0
        default:
            break
        }
        throw ClusterError(.invalid, "spec.strategy.rollingUpdate.\(field): must be a non-negative integer or a percentage, got \(value)")
    }

    /// How many replicas the new ReplicaSet may add now:
    /// `min(replicas + surge − all replicas, replicas − new replicas)`, never negative.
    public static func scaleUp(replicas: Int, surge: Int, totalReplicas: Int, newReplicas: Int) -> Int {
        max(0, min(replicas + surge - totalReplicas, replicas - newReplicas))
    }

    /// How many old replicas may go now while at least `replicas − maxUnavailable` stay available.
    public static func scaleDown(replicas: Int, maxUnavailable: Int, availableReplicas: Int) -> Int {
        max(0, availableReplicas - (replicas - maxUnavailable))
    }

    /// The replica-ratio canary split: `weight`% of `replicas`, rounded to nearest with ties up.
    public static func canaryReplicas(replicas: Int, weight: Int) -> Int {
        (replicas * weight * 2 + 100) / 200
    }
}
