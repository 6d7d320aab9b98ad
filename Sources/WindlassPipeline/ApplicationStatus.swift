/// Whether the live cluster is at the source's head, as Argo CD reports it.
public enum SyncStatus: String, Sendable, Hashable, Codable {
    case synced = "Synced"
    case outOfSync = "OutOfSync"
    /// Never fetched.
    case unknown = "Unknown"
}

/// How one sync (or rollback) of an application ended, as the daemon's API and logs name it.
public enum SyncOutcome: String, Sendable, Hashable, Codable {
    /// Deployed, or nothing to change.
    case synced
    /// A canary waits for a person (or a pause); the revision stays pending.
    case paused
    /// The sync failed (and may have been rolled back).
    case failed
    /// An Enforce policy refused it; nothing was applied.
    case refused
    /// The manifests or the policies have errors; nothing was applied.
    case invalid
    /// A rollback deployed an earlier revision.
    case rolledBack = "rolled back"
    /// Something else stopped it (the cluster, the lease, the source).
    case error

    /// Whether auto-sync should leave the commit alone until a new one arrives (as Argo CD does
    /// not retry a failed revision on its own).
    public var blocksAutoSync: Bool { self == .failed || self == .refused || self == .invalid }
}
