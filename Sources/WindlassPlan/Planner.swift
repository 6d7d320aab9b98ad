public import WindlassCluster
public import WindlassManifest

/// Makes plans: the desired set against a live snapshot, compared as Argo CD and Flux compare
/// (REFERENCE.md §2). For each object the manifest is applied, in memory, onto the live object
/// with server-side apply semantics as the sync's field manager, defaults filled in, and the
/// result compared with the live object. So server-filled fields cancel out, fields other
/// managers own stay (an autoscaler's `replicas` is not drift unless the manifest sets it), and
/// a field removed from git disappears only if Windlass owned it. Pure: no I/O.
public struct Planner: Sendable {
    public var options: PlanOptions

    public init(options: PlanOptions = PlanOptions()) {
        self.options = options
    }

    var tracking: Tracking { Tracking(application: options.application) }

    // MARK: - Desired against live

    /// The plan that brings `live` to `desired`. `desiredIsEmpty` overrides the empty-set check
    /// when `desired` is a part of the real set (pull-request plans read only changed files).
    public func plan(_ desired: ManifestSet, source: Plan.Source, live: LiveSnapshot, comparedWithLive: Bool = true, desiredIsEmpty: Bool? = nil)
        -> Plan
    {
        var plan = Plan(
            application: options.application, source: source, changes: [], retained: [], rollouts: [], manifestChanges: nil, drift: [],
            warnings: [], diagnostics: [], comparedWithLive: comparedWithLive)
        // What reading the manifests warned of, where the plan is read (a terminal, a comment, the UI).
        plan.warnings += desired.diagnostics.filter { $0.severity == .warning }.map { "\($0.location): \($0.message)" }
        let entries = readSettings(desired, diagnostics: &plan.diagnostics)
        plan.diagnostics += Self.unservedKinds(entries, served: live.servedKinds, desired: desired)
        let stages = effectiveStages(entries)
        let (strategies, canaryProblems) = CanaryStrategies.read(desired)
        plan.diagnostics += canaryProblems

        // The comparisons are independent: spread them over the cores.
        let compared: [Plan.Change?] = parallelMap(count: entries.count, concurrency: ManifestLoader.processorCount) { index in
            let entry = entries[index]
            let id = entry.resource.id
            guard !entry.settings.skip, entry.settings.hook == nil else { return nil }
            let liveObject = live.objects[id]
            if liveObject == nil, live.unreadableReason(id) != nil { return nil }
            var change = compare(tracking.prepare(entry.resource.object, as: id), live: liveObject, id: id, settings: entry.settings)
            change.stage = stages[index]
            change.location = desired.location(of: entry.resource)
            return change
        }
        for (index, entry) in entries.enumerated() {
            let resource = entry.resource
            if entry.settings.skip { continue }
            if let hook = entry.settings.hook {
                let prepared = tracking.prepare(resource.object, as: resource.id)
                let after = Self.normalized(Self.created(prepared), ignoring: [], mask: options.secretMask)
                for phase in hook.phases {
                    plan.changes.append(
                        Plan.Change(
                            id: resource.id, action: .create, reason: "\(phase.rawValue) hook, run on every sync", stage: Plan.Stage(phase: phase, wave: entry.settings.wave),
                            hook: hook, before: nil, after: after, fields: [], location: desired.location(of: resource), origin: nil, object: prepared))
                }
                continue
            }
            guard var change = compared[index] else {
                let reason = live.unreadableReason(resource.id) ?? "unknown"
                plan.warnings.append("could not read \(resource.id) from the cluster (\(reason)); it is left out of this plan")
                continue
            }
            if change.action == .update, let strategy = strategies[resource.id], !strategy.steps.isEmpty,
                change.fields.contains(where: { $0.path.hasPrefix("spec.template") }), let before = change.before, let after = change.after
            {
                // The first deploy of a workload skips the steps; an update of its pods runs them.
                change.canary = strategy
                plan.rollouts.append(RolloutPreview.canary(id: resource.id, strategy: strategy, before: before, after: after))
            } else if change.action == .update || change.action == .replace, let before = change.before, let after = change.after,
                let rollout = RolloutPreview.make(id: resource.id, before: before, after: after, fields: change.fields)
            {
                plan.rollouts.append(rollout)
            }
            plan.changes.append(change)
        }

        prune(desired, live: live, desiredIsEmpty: desiredIsEmpty ?? desired.resources.isEmpty, into: &plan)
        namespaces(entries, live: live, into: &plan)
        let conflicts = plan.ownershipConflicts
        if !conflicts.isEmpty, !options.takeOwnership {
            let owners = Set(conflicts.compactMap(\.trackedBy)).sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            plan.warnings.append(
                "\(conflicts.count) object\(conflicts.count == 1 ? " is" : "s are") tracked by another application (\(owners)): a sync refuses \(conflicts.count == 1 ? "it" : "them") unless told to take ownership"
            )
        }
        plan.changes.sort { a, b in
            if a.stage != b.stage { return a.stage < b.stage }
            // Pruning goes in reverse of the apply order.
            return a.stage.kind == .apply ? SyncOrder.precedes(a.id, b.id) : SyncOrder.precedes(b.id, a.id)
        }
        return plan
    }

    /// One resource: what a sync would do to it.
    func compare(_ prepared: Value, live: Value?, id: ResourceID, settings: SyncSettings) -> Plan.Change {
        let ignored = settings.ignoredPointers + options.ignoreDifferences.filter { $0.matches(id) }.flatMap(\.pointers)
        var change = Plan.Change(
            id: id, action: .noop, reason: "in sync", stage: Plan.Stage(phase: .sync, wave: settings.wave), hook: nil, before: nil, after: nil,
            fields: [], location: nil, origin: nil, object: prepared)
        let answered = options.serverResults[id]
        guard let live else {
            change.action = .create
            change.reason = "not in the cluster"
            change.after = Self.normalized(answered ?? Self.created(prepared), ignoring: ignored, mask: options.secretMask)
            return change
        }
        let predicted = answered ?? Defaults.apply(to: ServerSideApply.predict(prepared, onto: live, manager: options.fieldManager))
        let before = Self.normalized(live, ignoring: ignored, mask: options.secretMask)
        let after = Self.normalized(predicted, ignoring: ignored, mask: options.secretMask)
        if before == after { return change }
        let fields = FieldDiff.changes(from: before, to: after)
        if fields.isEmpty { return change }
        change.before = before
        change.after = after
        change.fields = fields
        change.action = .update
        let immutable = ImmutableFields.paths(for: id.groupKind).filter { path in
            live[path: path] != nil && !FieldDiff.equivalent(live[path: path], predicted[path: path])
        }
        change.trackedBy = tracking.otherOwner(of: live, as: id)
        if let first = immutable.first {
            change.action = .replace
            change.reason = "\(first.joined(separator: ".")) is immutable"
        } else if settings.replace {
            change.action = .replace
            change.reason = "Replace=true"
        } else if let owner = tracking.otherOwner(of: live, as: id) {
            change.trackedBy = owner
            change.reason =
                options.takeOwnership
                ? "tracked by application \"\(owner)\"; taken over (take ownership)"
                : "tracked by application \"\(owner)\"; a sync refuses it unless told to take ownership"
        } else if !tracking.isTracked(live, as: id) {
            let onlyTracking = fields.allSatisfy { $0.path.hasPrefix("metadata.labels") || $0.path.hasPrefix("metadata.annotations") }
            change.reason =
                onlyTracking
                ? "not yet tracked by application \"\(options.application)\"; a sync adopts it"
                : "live differs from the manifest (and is not yet tracked by application \"\(options.application)\")"
        } else {
            change.reason = "live differs from the manifest"
        }
        return change
    }

    /// Namespaces the objects need that neither exist nor are in the manifests: created first
    /// (in the earliest stage of their objects, untracked) with `CreateNamespace=true`, else
    /// listed as missing with a warning. Unknown when the snapshot did not read every Namespace.
    private func namespaces(_ entries: [Entry], live: LiveSnapshot, into plan: inout Plan) {
        let declared = Set(entries.filter { $0.resource.id.group == "" && $0.resource.id.kind == "Namespace" }.map(\.resource.id.name))
        var needed: [String: (stage: Plan.Stage, objects: Int, create: Bool)] = [:]
        for change in plan.changes where change.action != .delete && change.action != .noop || change.hook != nil {
            guard let namespace = change.id.namespace, !declared.contains(namespace), live.namespaceExists(namespace) == false else { continue }
            let settings = entries.first { $0.resource.id == change.id }?.settings
            var entry = needed[namespace] ?? (change.stage, 0, false)
            entry.stage = min(entry.stage, change.stage)
            entry.objects += 1
            entry.create = entry.create || options.createNamespace || settings?.createNamespace == true
            needed[namespace] = entry
        }
        for (namespace, need) in needed.sorted(by: { $0.key < $1.key }) {
            guard need.create else {
                plan.missingNamespaces.append(namespace)
                plan.warnings.append(
                    "namespace \"\(namespace)\" does not exist and is not in the manifests: \(need.objects) object\(need.objects == 1 ? "" : "s") would fail to apply (sync with CreateNamespace=true, or add the Namespace)")
                continue
            }
            let object: Value = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]]
            let id = ResourceID(group: "", version: "v1", kind: "Namespace", namespace: nil, name: namespace)
            plan.changes.append(
                Plan.Change(
                    id: id, action: .create, reason: "CreateNamespace=true", stage: need.stage, hook: nil, before: nil,
                    after: Self.normalized(Self.created(object), ignoring: [], mask: options.secretMask), fields: [], location: nil, origin: nil, object: object))
        }
    }

    /// Tracked objects that are no longer in git: deleted, or retained with the reason.
    private func prune(_ desired: ManifestSet, live: LiveSnapshot, desiredIsEmpty: Bool, into plan: inout Plan) {
        let desiredIDs = Set(desired.resources.map(\.id))
        var candidates: [(ResourceID, Value)] = []
        for (id, object) in live.objects where !desiredIDs.contains(id) && tracking.isTracked(object, as: id) {
            candidates.append((id, object))
        }
        candidates.sort { $0.0 < $1.0 }
        if desiredIsEmpty && !options.allowEmpty && !candidates.isEmpty {
            plan.warnings.append(
                "the manifests are empty: nothing is pruned unless allowEmpty is set (\(candidates.count) tracked object\(candidates.count == 1 ? "" : "s") kept)"
            )
        }
        for (id, object) in candidates {
            let settings = SyncSettings.read(object).settings
            if settings.hook != nil { continue }  // Hooks are removed by their delete policy, not pruned.
            let reason: String? =
                if !options.prune {
                    "prune is off for application \"\(options.application)\""
                } else if settings.pruneDisabled {
                    "prune disabled by annotation"
                } else if desiredIsEmpty && !options.allowEmpty {
                    "the manifests are empty and allowEmpty is off"
                } else {
                    nil
                }
            if let reason {
                plan.retained.append(Plan.Retained(id: id, reason: reason))
                continue
            }
            plan.changes.append(
                Plan.Change(
                    id: id, action: .delete, reason: "no longer in the manifests",
                    stage: Plan.Stage(phase: .sync, wave: settings.wave, kind: settings.pruneLast ? .pruneLast : .prune), hook: nil,
                    before: Self.normalized(object, ignoring: [], mask: options.secretMask), after: nil, fields: [], location: nil, origin: nil, object: nil))
        }
    }

    // MARK: - Settings and stages

    struct Entry {
        var resource: Resource
        var settings: SyncSettings
    }

    private func readSettings(_ desired: ManifestSet, diagnostics: inout [Diagnostic]) -> [Entry] {
        var entries: [Entry] = []
        entries.reserveCapacity(desired.resources.count)
        for resource in desired.resources {
            let (settings, problems) = SyncSettings.read(resource.object)
            for problem in problems {
                diagnostics.append(Diagnostic(.error, at: desired.location(of: problem.span), problem.message))
            }
            if settings.hook != nil, ["Namespace", "CustomResourceDefinition"].contains(resource.id.kind) {
                diagnostics.append(
                    Diagnostic(.error, at: desired.location(of: resource), "\(resource.id) cannot be a hook: it must exist before the objects in it"))
            }
            entries.append(Entry(resource: resource, settings: settings))
        }
        return entries
    }

    /// An error for each object whose kind the cluster does not serve and no
    /// CustomResourceDefinition in the manifests declares: applying it would fail halfway.
    static func unservedKinds(_ entries: [Entry], served: Set<GroupKind>?, desired: ManifestSet) -> [Diagnostic] {
        guard let served else { return [] }
        var declared: Set<GroupKind> = []
        for entry in entries where entry.resource.id.kind == "CustomResourceDefinition" {
            let spec = entry.resource.object["spec"]
            if let group = spec?["group"]?.stringValue, let kind = spec?["names"]?["kind"]?.stringValue { declared.insert(GroupKind(group: group, kind: kind)) }
        }
        var reported: Set<GroupKind> = []
        var diagnostics: [Diagnostic] = []
        for entry in entries where !entry.settings.skip {
            let kind = entry.resource.id.groupKind
            guard !served.contains(kind), !declared.contains(kind), reported.insert(kind).inserted else { continue }
            let name = kind.group.isEmpty ? kind.kind : "\(kind.kind).\(kind.group)"
            let remedy =
                WindlassCRDs.kinds.contains(kind)
                ? "install Windlass's CustomResourceDefinitions first: windlass crds | kubectl apply --server-side -f -"
                : "install its CustomResourceDefinition first (or add it to the manifests)"
            diagnostics.append(Diagnostic(.error, at: desired.location(of: entry.resource), "the cluster serves no kind \(name): \(remedy)"))
        }
        return diagnostics
    }

    /// Each entry's stage: its phase and wave, except that a Namespace moves to the earliest
    /// stage of anything in it, and a CustomResourceDefinition to the earliest of its resources.
    private func effectiveStages(_ entries: [Entry]) -> [Plan.Stage] {
        var earliestInNamespace: [String: Plan.Stage] = [:]
        var earliestOfKind: [GroupKind: Plan.Stage] = [:]
        func lower(_ stage: Plan.Stage, than current: Plan.Stage?) -> Plan.Stage {
            guard let current else { return stage }
            return stage < current ? stage : current
        }
        for entry in entries where !entry.settings.skip {
            for phase in entry.settings.hook?.phases ?? [.sync] {
                let stage = Plan.Stage(phase: phase, wave: entry.settings.wave)
                if let namespace = entry.resource.id.namespace {
                    earliestInNamespace[namespace] = lower(stage, than: earliestInNamespace[namespace])
                }
                earliestOfKind[entry.resource.id.groupKind] = lower(stage, than: earliestOfKind[entry.resource.id.groupKind])
            }
        }
        return entries.map { entry in
            var stage = Plan.Stage(phase: .sync, wave: entry.settings.wave)
            let id = entry.resource.id
            if id.kind == "Namespace", id.group.isEmpty, let earliest = earliestInNamespace[id.name] {
                stage = lower(earliest, than: stage)
            } else if id.kind == "CustomResourceDefinition", let defined = Self.definedKind(entry.resource.object),
                let earliest = earliestOfKind[defined]
            {
                stage = lower(earliest, than: stage)
            }
            return stage
        }
    }

    static func definedKind(_ crd: Value) -> GroupKind? {
        guard let group = crd[path: ["spec", "group"]]?.stringValue, let kind = crd[path: ["spec", "names", "kind"]]?.stringValue else { return nil }
        return GroupKind(group: group, kind: kind)
    }

    // MARK: - Normalization

    static let serverMetadata = [
        "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ]
    static let serverAnnotations = ["kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision"]

    /// An object as plans compare and show it: no server-owned metadata, no status, ignored
    /// pointers removed, Secret values masked.
    public static func normalized(_ object: Value, ignoring pointers: [JSONPointer], mask: SecretMask) -> Value {
        var out = object
        out.remove(at: ["status"])
        if case .mapping(var metadata)? = out["metadata"]?.content {
            for field in serverMetadata { metadata[field] = nil }
            if case .mapping(var annotations)? = metadata["annotations"]?.content {
                for key in serverAnnotations { annotations[key] = nil }
                metadata["annotations"] = annotations.isEmpty ? nil : Value(.mapping(annotations))
            }
            out.set(Value(.mapping(metadata)), at: ["metadata"])
        }
        for pointer in pointers { out = pointer.removing(from: out) }
        return mask.masked(out)
    }

    /// A new object as the server would store it.
    static func created(_ prepared: Value) -> Value {
        var out = prepared
        out.remove(at: ["status"])
        return Defaults.apply(to: out)
    }
}
