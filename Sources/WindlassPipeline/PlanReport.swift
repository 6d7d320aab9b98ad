public import WindlassCluster
public import WindlassManifest
public import WindlassPlan
public import WindlassPolicy

/// A plan with the policies' verdicts on it: what `plan` prints and what the API serves. The
/// plan and the verdicts are made apart (WindlassPlan and WindlassPolicy do not know each
/// other) and combined here.
public struct PlanReport: Sendable {
    public var plan: Plan
    /// The policies' verdicts on the desired manifests (nil: no policies judged them).
    public var policies: PolicyReport?
    /// Warnings from reading the policies (a policy that matches nothing, …).
    public var policyWarnings: [Diagnostic] = []
    /// The manifests the policies judged (a pull request's head).
    public var manifests: ManifestSet
    /// What the plan was compared with (nil: a pull request planned without a cluster).
    public var live: LiveSnapshot?
    /// How the sync would go, simulated on a twin of the cluster (`plan --forecast`); nil when
    /// not asked for.
    public var forecast: ForecastSection?

    public init(plan: Plan, policies: PolicyReport? = nil, manifests: ManifestSet, live: LiveSnapshot?) {
        self.plan = plan
        self.policies = policies
        self.manifests = manifests
        self.live = live
    }

    /// Whether an Enforce rule fails: a sync of this plan is refused.
    public var deniedByPolicy: Bool { (policies?.summary.failures ?? 0) > 0 }

    /// Pods the forecast found no node for.
    public var forecastUnschedulable: Int {
        if case .forecast(let forecast)? = forecast { return forecast.unschedulable.count }
        return 0
    }
}
