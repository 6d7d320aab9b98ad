public import WindlassManifest

/// What a sync would do, in the order it would do it. A value: made by ``Planner``, shown by
/// the renderers, carried out by the rollout executor.
public struct Plan: Sendable {
    public enum Action: String, Sendable, Hashable, Codable {
        case create
        case update
        /// Delete and create again: an immutable field changed, or `Replace=true`.
        case replace
        /// Prune: the object is tracked and no longer in git.
        case delete
        case noop = "no-op"

        /// Terraform's `actions` list.
        public var actions: [String] {
            switch self {
            case .replace: return ["delete", "create"]
            default: return [rawValue]
            }
        }
    }

    /// Where a change comes from, in a pull-request plan.
    public enum Origin: String, Sendable, Hashable {
        /// The pull request changes this resource's manifest.
        case pullRequest = "pull-request"
        /// The pull request does not touch it: live has drifted from the base branch.
        case drift
        /// Both.
        case both
    }

    /// A step of the sync a change belongs to.
    public struct Stage: Sendable, Hashable, Comparable, CustomStringConvertible {
        public enum Kind: Int, Sendable, Hashable {
            case apply = 0
            case prune = 1
            case pruneLast = 2
        }

        public var phase: SyncPhase
        public var wave: Int
        public var kind: Kind

        public init(phase: SyncPhase, wave: Int, kind: Kind = .apply) {
            self.phase = phase
            self.wave = wave
            self.kind = kind
        }

        /// Applies wave by wave within each phase; pruning after the Sync phase's applies, in
        /// reverse wave order; `PruneLast` objects after that.
        public static func < (lhs: Stage, rhs: Stage) -> Bool {
            func key(_ s: Stage) -> (Int, Int, Int) {
                let phase = s.kind == .apply ? s.phase.rank * 10 : SyncPhase.sync.rank * 10 + 5
                return (phase, s.kind.rawValue, s.kind == .apply ? s.wave : -s.wave)
            }
            return key(lhs) < key(rhs)
        }

        public var description: String {
            switch kind {
            case .apply: return "\(phase.rawValue) wave \(wave)"
            case .prune: return "Prune wave \(wave)"
            case .pruneLast: return "Prune last"
            }
        }
    }

    public struct Change: Sendable {
        public var id: ResourceID
        public var action: Action
        /// Why, in a few words: `not in the cluster`, `spec.selector is immutable`, …
        public var reason: String
        public var stage: Stage
        /// Set for hooks, which run on every sync instead of being kept in step.
        public var hook: Hook?
        /// The live object as compared (server fields dropped, Secret values masked); nil when new.
        public var before: Value?
        /// The object as it will be after the sync (same normalization); nil when deleted. Both
        /// are nil for a no-op, to keep plans of large repositories small.
        public var after: Value?
        /// The fields that change (updates and replaces).
        public var fields: [FieldChange]
        /// Where the manifest is (nil for prunes).
        public var location: SourceLocation?
        /// Set in pull-request plans.
        public var origin: Origin?
        /// What a sync applies, unmasked: never rendered.
        public var object: Value?
        /// For an update of a workload's pod template that has a strategy: the canary to run.
        public var canary: CanaryStrategy? = nil
        /// The other application that tracks the live object (nil: this one, or none). A sync
        /// refuses such a change unless told to take the object over.
        public var trackedBy: String? = nil
    }

    /// Namespaces that objects of the plan live in, that do not exist and are not in the
    /// manifests (a sync would fail on them; `CreateNamespace=true` creates them instead).
    public var missingNamespaces: [String] = []

    /// Changes to objects another application tracks.
    public var ownershipConflicts: [Change] { changes.filter { $0.trackedBy != nil } }

    /// A tracked object no longer in git that stays, and why.
    public struct Retained: Sendable, Hashable {
        public var id: ResourceID
        public var reason: String
    }

    /// A resource's manifest as a pull request changes it (base → head).
    public struct ManifestChange: Sendable {
        public var id: ResourceID
        public var action: Action
        public var fields: [FieldChange]
        public var location: SourceLocation?
    }

    /// What a plan was made from.
    public struct Source: Sendable, Hashable {
        public var location: String
        public var path: String
        public var revision: String?
        /// For pull-request plans, the base revision.
        public var baseRevision: String?
        /// What rendered the manifests when something did (`kustomize v5.5.0`); nil for plain files.
        public var renderer: String?

        public init(location: String, path: String, revision: String?, baseRevision: String? = nil, renderer: String? = nil) {
            self.location = location
            self.path = path
            self.revision = revision
            self.baseRevision = baseRevision
            self.renderer = renderer
        }
    }

    public var application: String
    public var source: Source
    /// Every resource, in the order a sync handles them; no-ops included.
    public var changes: [Change]
    public var retained: [Retained]
    public var rollouts: [RolloutPreview]
    /// Pull-request plans: what the pull request changes in the manifests.
    public var manifestChanges: [ManifestChange]?
    /// Pull-request plans: live drift from the base branch that the pull request did not cause.
    public var drift: [Change]
    /// Things the reader should know that do not stop the plan (an object that could not be
    /// read, an empty set that prunes nothing).
    public var warnings: [String]
    /// Problems in the manifests found while planning (hooks, waves, options), located.
    public var diagnostics: [Diagnostic]
    /// Whether `live` was a cluster (false for `--no-live` plans between two revisions).
    public var comparedWithLive: Bool

    public struct Summary: Sendable, Hashable {
        public var add = 0
        public var change = 0
        public var destroy = 0
        public var hooks = 0

        public var hasChanges: Bool { add + change + destroy > 0 }

        /// `Plan: 1 to add, 2 to change, 0 to destroy.` or `No changes. …`
        public func line(live: Bool = true) -> String {
            if !hasChanges {
                return live ? "No changes. Live state matches the manifests." : "No changes. The manifests are the same."
            }
            return "Plan: \(add) to add, \(change) to change, \(destroy) to destroy."
        }
    }

    /// Counts as Terraform counts: a replace is one add and one destroy; hooks are not counted.
    public var summary: Summary {
        var summary = Summary()
        for change in changes {
            if change.hook != nil {
                summary.hooks += 1
                continue
            }
            switch change.action {
            case .create: summary.add += 1
            case .update: summary.change += 1
            case .delete: summary.destroy += 1
            case .replace:
                summary.add += 1
                summary.destroy += 1
            case .noop: break
            }
        }
        return summary
    }

    /// The changes that do something, hooks only when something else changes.
    public var effectiveChanges: [Change] {
        let real = changes.filter { $0.hook == nil && $0.action != .noop }
        if real.isEmpty { return [] }
        return changes.filter { $0.action != .noop }
    }
}
