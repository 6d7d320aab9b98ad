public import WindlassManifest

/// One sync that changed the cluster (REFERENCE.md §6, Helm's model): what was applied, from
/// where, why, and how it ended.
public struct Revision: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Being applied now.
        case pending
        /// Applied; what the cluster runs (at most one per application).
        case deployed
        /// Was deployed; a later revision replaced it.
        case superseded
        /// Did not finish: a wave did not become healthy, a hook failed, a gate failed.
        case failed
        /// Failed and was undone by an atomic sync or an automatic rollback.
        case rolledBack = "rolled-back"
    }

    public var application: String
    public var number: Int
    public var status: Status
    /// The commit, for git sources.
    public var commit: String?
    public var source: String
    public var path: String
    /// `sha256:` of the applied manifests (canonical JSON, in order).
    public var digest: String
    /// `manual`, `auto`, `self-heal`, `rollback`.
    public var trigger: String
    /// `Plan: 1 to add, …`, or `Rollback to 3`.
    public var description: String
    public var startedAt: Double
    public var finishedAt: Double?
    /// Why it failed.
    public var message: String?
    /// Resource by resource, as the sync ended: `apps/Deployment/shop/web synced`.
    public var results: [String]
    /// What rendered the manifests (`kustomize v5.5.0`); nil for plain files.
    public var renderer: String?

    public init(
        application: String, number: Int, status: Status, commit: String?, source: String, path: String, digest: String, trigger: String,
        description: String, startedAt: Double, finishedAt: Double? = nil, message: String? = nil, results: [String] = [], renderer: String? = nil
    ) {
        self.application = application
        self.number = number
        self.status = status
        self.commit = commit
        self.source = source
        self.path = path
        self.digest = digest
        self.trigger = trigger
        self.description = description
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.message = message
        self.results = results
        self.renderer = renderer
    }

    /// The revision as a JSON-ready value.
    public var value: Value {
        var out: Value = [
            "application": .string(application), "revision": .int(number), "status": .string(status.rawValue),
            "commit": commit.map(Value.string) ?? .null, "source": .string(source), "path": .string(path), "digest": .string(digest),
            "trigger": .string(trigger), "description": .string(description), "startedAt": .string(Timestamp.rfc3339(startedAt)),
            "finishedAt": finishedAt.map { .string(Timestamp.rfc3339($0)) } ?? .null, "message": message.map(Value.string) ?? .null,
        ]
        out.set(.sequence(results.map(Value.string)), at: ["results"])
        if let renderer { out.set(.string(renderer), at: ["renderer"]) }
        return out
    }
}
