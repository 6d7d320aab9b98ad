public import WindlassCluster
public import WindlassManifest

extension Planner {
    /// The plan of a pull request: `head` against `live`, each change marked as caused by the
    /// pull request, by live drift from `base`, or both; with what the pull request changes in
    /// the manifests. Without `live`, `head` is compared with `base` as if `base` had just been
    /// synced (for CI jobs with no cluster).
    public func pullRequestPlan(base: ManifestSet, head: ManifestSet, source: Plan.Source, live: LiveSnapshot?, headIsEmpty: Bool? = nil) -> Plan {
        let manifestChanges = Self.manifestChanges(from: base, to: head, mask: options.secretMask)
        guard let live else {
            var plan = self.plan(head, source: source, live: synced(base), comparedWithLive: false, desiredIsEmpty: headIsEmpty)
            plan.manifestChanges = manifestChanges
            for index in plan.changes.indices where plan.changes[index].action != .noop {
                plan.changes[index].origin = .pullRequest
            }
            return plan
        }
        var plan = self.plan(head, source: source, live: live, desiredIsEmpty: headIsEmpty)
        let basePlan = self.plan(base, source: source, live: live)
        plan.manifestChanges = manifestChanges
        plan.drift = basePlan.changes.filter { $0.action != .noop && $0.hook == nil }
        let drifted = Set(plan.drift.map(\.id))
        let touched = Set(manifestChanges.map(\.id))
        for index in plan.changes.indices where plan.changes[index].action != .noop {
            let id = plan.changes[index].id
            let byPullRequest = touched.contains(id) || plan.changes[index].hook != nil
            plan.changes[index].origin = byPullRequest ? (drifted.contains(id) ? .both : .pullRequest) : .drift
        }
        return plan
    }

    /// What the cluster would hold had `set` just been synced: each object applied as this
    /// planner's field manager onto nothing, with defaults and field ownership recorded.
    public func synced(_ set: ManifestSet) -> LiveSnapshot {
        var objects: [ResourceID: Value] = [:]
        for resource in set.resources {
            let settings = SyncSettings.read(resource.object).settings
            if settings.skip || settings.hook != nil { continue }
            let prepared = tracking.prepare(resource.object, as: resource.id)
            var object = Self.created(prepared)
            let fields = FieldSet(of: ServerSideApply.ownable(prepared)).fieldsV1
            object.set(
                [["manager": .string(options.fieldManager), "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": fields]],
                at: ["metadata", "managedFields"])
            objects[resource.id] = object
        }
        return LiveSnapshot(objects: objects)
    }

    /// Resource by resource, what changes between two sets of manifests.
    public static func manifestChanges(from base: ManifestSet, to head: ManifestSet, mask: SecretMask) -> [Plan.ManifestChange] {
        let old = Dictionary(base.resources.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [Plan.ManifestChange] = []
        var seen = Set<ResourceID>()
        for resource in head.resources {
            seen.insert(resource.id)
            let location = head.location(of: resource)
            guard let previous = old[resource.id] else {
                out.append(Plan.ManifestChange(id: resource.id, action: .create, fields: [], location: location))
                continue
            }
            if previous.object == resource.object { continue }
            let fields = FieldDiff.changes(from: normalized(previous.object, ignoring: [], mask: mask), to: normalized(resource.object, ignoring: [], mask: mask))
            if !fields.isEmpty {
                out.append(Plan.ManifestChange(id: resource.id, action: .update, fields: fields, location: location))
            }
        }
        for resource in base.resources where !seen.contains(resource.id) {
            out.append(Plan.ManifestChange(id: resource.id, action: .delete, fields: [], location: base.location(of: resource)))
        }
        return out.sorted { $0.id < $1.id }
    }
}
