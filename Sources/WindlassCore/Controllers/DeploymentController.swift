import WindlassCluster
import WindlassManifest

/// The Deployment controller as Kubernetes runs it: one ReplicaSet per pod template, named
/// `<deployment>-<pod-template-hash>` and numbered by the revision annotation; rolling updates
/// within maxSurge and maxUnavailable (REFERENCE.md §3), or Recreate; pause; old ReplicaSets
/// kept up to revisionHistoryLimit; status with Available and Progressing conditions, and the
/// progress deadline.
struct DeploymentController: Controller {
    static let kind = GroupKind(group: "apps", kind: "Deployment")
    static let revisionKey = "deployment.kubernetes.io/revision"
    static let hashKey = "pod-template-hash"

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        var changed = false
        // Deployments that changed, whose ReplicaSets did, or whose progress deadline is due.
        let deployments = context.objects(of: Self.kind, for: "deployment") { change in
            switch change.object["kind"]?.stringValue {
            case "Deployment": return [NamespacedName(change.object)]
            case "ReplicaSet": return NamespacedName.owner(of: change.object, kind: "Deployment").map { [$0] } ?? []
            default: return []
            }
        }
        for deployment in deployments {
            if try reconcile(deployment, &context) { changed = true }
        }
        return changed
    }

    private func reconcile(_ deployment: Value, _ context: inout ControllerContext) throws(ClusterError) -> Bool {
        let id = ObjectBuilder.id(deployment)
        let replicas = ObjectBuilder.int(deployment, "spec", "replicas")
        let template = deployment[path: ["spec", "template"]] ?? [:]
        let (replicaSets, newRS, old) = Self.replicaSets(of: deployment, template: template, in: context.store)
        let maxRevision = replicaSets.map(Self.revision).max() ?? 0
        let paused = deployment[path: ["spec", "paused"]]?.boolValue == true

        if !paused {
            guard let newRS else {
                let oldPods = old.reduce(0) { $0 + ObjectBuilder.int($1, "spec", "replicas") }
                let recreate = deployment[path: ["spec", "strategy", "type"]]?.stringValue == "Recreate"
                let start: Int
                if recreate {
                    start = oldPods == 0 ? replicas : 0
                } else {
                    let budget = try budget(deployment, replicas)
                    start = RolloutMath.scaleUp(replicas: replicas, surge: budget.maxSurge, totalReplicas: oldPods, newReplicas: 0)
                }
                let created = try context.store.create(Self.replicaSet(for: deployment, revision: maxRevision + 1, replicas: start), manager: "deployment-controller", now: context.now)
                let name = created[path: ["metadata", "name"]]?.stringValue ?? ""
                context.event(.normal, "ScalingReplicaSet", "Scaled up replica set \(name) to \(start)", id)
                try setRevision(deployment, maxRevision + 1, &context)
                try markProgress(deployment, reason: "NewReplicaSetCreated", message: "Created new replica set \"\(name)\"", &context)
                return true
            }
            // A template rolled back to an older ReplicaSet makes it the newest revision again.
            if Self.revision(of: newRS) < maxRevision {
                var bumped = newRS
                bumped.set(.string(String(maxRevision + 1)), at: ["metadata", "annotations", Self.revisionKey])
                _ = try context.store.update(bumped, manager: "deployment-controller", now: context.now)
                try setRevision(deployment, maxRevision + 1, &context)
                return true
            }
            // A step scaled something. Kubernetes syncs the Deployment again at once on that
            // ReplicaSet's change, for the next step (scale the old down once the new is up); here
            // the next steps are taken in the same pass, until none is left. Then the status says
            // so (with the Progressing condition's lastUpdateTime, which restarts the deadline),
            // as syncRolloutStatus does after each scale.
            if try rollout(deployment, newRS: newRS, old: old, replicas: replicas, &context) {
                var current = Self.replicaSets(of: deployment, template: template, in: context.store)
                for _ in 0..<8 {
                    guard let newRS = current.new, try rollout(deployment, newRS: newRS, old: current.old, replicas: replicas, &context) else { break }
                    current = Self.replicaSets(of: deployment, template: template, in: context.store)
                }
                _ = try syncStatus(deployment, newRS: current.new, all: current.all, replicas: replicas, paused: paused, progressed: true, &context)
                return true
            }
            if try cleanup(deployment, old: old, &context) { return true }
        }
        return try syncStatus(deployment, newRS: newRS, all: replicaSets, replicas: replicas, paused: paused, &context)
    }

    /// The Deployment's ReplicaSets: all of them, the one of its current template, and the
    /// others by revision.
    static func replicaSets(of deployment: Value, template: Value, in store: ObjectStore) -> (all: [Value], new: Value?, old: [Value]) {
        let all = ObjectBuilder.owned(by: deployment, kind: "ReplicaSet", in: store)
        let new = all.first { templateWithoutHash($0) == template }
        let old = all.filter { $0[path: ["metadata", "uid"]] != new?[path: ["metadata", "uid"]] }.sorted { revision(of: $0) < revision(of: $1) }
        return (all, new, old)
    }

    private func budget(_ deployment: Value, _ replicas: Int) throws(ClusterError) -> RolloutMath.Budget {
        try RolloutMath.budget(
            maxSurge: deployment[path: ["spec", "strategy", "rollingUpdate", "maxSurge"]],
            maxUnavailable: deployment[path: ["spec", "strategy", "rollingUpdate", "maxUnavailable"]],
            replicas: replicas
        )
    }

    /// One step of the rollout; true when it scaled something.
    private func rollout(_ deployment: Value, newRS: Value, old: [Value], replicas: Int, _ context: inout ControllerContext) throws(ClusterError) -> Bool {
        let id = ObjectBuilder.id(deployment)
        let newReplicas = ObjectBuilder.int(newRS, "spec", "replicas")
        let oldActive = old.filter { ObjectBuilder.int($0, "spec", "replicas") > 0 }

        if deployment[path: ["spec", "strategy", "type"]]?.stringValue == "Recreate" {
            if !oldActive.isEmpty {
                for rs in oldActive { try scale(rs, to: 0, for: id, &context) }
                return true
            }
            // Wait until every old pod is gone before starting new ones.
            if old.contains(where: { ObjectBuilder.int($0, "status", "replicas") > 0 }) { return false }
            if newReplicas != replicas {
                try scale(newRS, to: replicas, for: id, &context)
                return true
            }
            return false
        }

        let budget = try budget(deployment, replicas)
        let all = [newRS] + old
        let total = all.reduce(0) { $0 + ObjectBuilder.int($1, "spec", "replicas") }
        if newReplicas > replicas {
            try scale(newRS, to: replicas, for: id, &context)
            return true
        }
        if newReplicas < replicas {
            let up = RolloutMath.scaleUp(replicas: replicas, surge: budget.maxSurge, totalReplicas: total, newReplicas: newReplicas)
            if up > 0 {
                try scale(newRS, to: newReplicas + up, for: id, &context)
                return true
            }
        }
        guard !oldActive.isEmpty else { return false }

        // Scale old ReplicaSets down while at least replicas − maxUnavailable stay available:
        // unhealthy old replicas first, then the oldest ReplicaSets.
        let minAvailable = replicas - budget.maxUnavailable
        let newUnavailable = newReplicas - ObjectBuilder.int(newRS, "status", "availableReplicas")
        var maxScaledDown = total - minAvailable - newUnavailable
        if maxScaledDown <= 0 { return false }
        var scaled = false
        var remainingOld: [Value] = []
        for rs in oldActive {
            let current = ObjectBuilder.int(rs, "spec", "replicas")
            let unhealthy = max(0, current - ObjectBuilder.int(rs, "status", "availableReplicas"))
            let cleanup = min(unhealthy, maxScaledDown)
            if cleanup > 0 {
                try scale(rs, to: current - cleanup, for: id, &context)
                maxScaledDown -= cleanup
                scaled = true
            }
            remainingOld.append(rs)
        }
        if scaled { return true }
        let available = all.reduce(0) { $0 + ObjectBuilder.int($1, "status", "availableReplicas") }
        var budgetDown = available - minAvailable
        guard budgetDown > 0 else { return false }
        for rs in remainingOld where budgetDown > 0 {
            let current = ObjectBuilder.int(rs, "spec", "replicas")
            let down = min(current, budgetDown)
            if down > 0 {
                try scale(rs, to: current - down, for: id, &context)
                budgetDown -= down
                scaled = true
            }
        }
        return scaled
    }

    private func scale(_ replicaSet: Value, to replicas: Int, for deployment: ResourceID, _ context: inout ControllerContext) throws(ClusterError) {
        let current = ObjectBuilder.int(replicaSet, "spec", "replicas")
        guard current != replicas else { return }
        try context.scale(ObjectBuilder.id(replicaSet), to: replicas, for: "deployment", manager: "deployment-controller")
        let name = replicaSet[path: ["metadata", "name"]]?.stringValue ?? ""
        let verb = replicas > current ? "up" : "down"
        context.event(.normal, "ScalingReplicaSet", "Scaled \(verb) replica set \(name) to \(replicas) from \(current)", deployment)
    }

    /// Old ReplicaSets scaled to zero beyond revisionHistoryLimit go, oldest first.
    private func cleanup(_ deployment: Value, old: [Value], _ context: inout ControllerContext) throws(ClusterError) -> Bool {
        let limit = deployment[path: ["spec", "revisionHistoryLimit"]]?.intValue ?? 10
        let idle = old.filter { ObjectBuilder.int($0, "spec", "replicas") == 0 && ObjectBuilder.int($0, "status", "replicas") == 0 }
        guard idle.count > limit else { return false }
        for rs in idle.prefix(idle.count - limit) {
            try context.store.delete(ObjectBuilder.id(rs), propagation: .background)
        }
        return true
    }

    private func setRevision(_ deployment: Value, _ revision: Int, _ context: inout ControllerContext) throws(ClusterError) {
        guard let current = try? context.store.get(ObjectBuilder.id(deployment)) else { return }
        var updated = current
        updated.set(.string(String(revision)), at: ["metadata", "annotations", Self.revisionKey])
        if updated != current {
            updated.remove(at: ["metadata", "resourceVersion"])
            _ = try context.store.update(updated, manager: "deployment-controller", now: context.now)
        }
    }

    /// Records progress: the Progressing condition's lastUpdateTime restarts the deadline.
    private func markProgress(_ deployment: Value, reason: String, message: String, _ context: inout ControllerContext) throws(ClusterError) {
        guard let current = try? context.store.get(ObjectBuilder.id(deployment)) else { return }
        var status = current["status"] ?? [:]
        var conditions = status["conditions"]?.sequenceValue ?? []
        conditions.removeAll { $0["type"]?.stringValue == "Progressing" }
        var progressing = ObjectBuilder.condition("Progressing", true, reason: reason, message: message, now: context.now, previous: current[path: ["status", "conditions"]])
        progressing.set(.string(Timestamp.rfc3339(context.now)), at: ["lastUpdateTime"])
        conditions.append(progressing)
        status.set(.sequence(conditions), at: ["conditions"])
        try context.updateOwnStatus(ObjectBuilder.id(current), status: status, for: "deployment")
    }

    /// Writes the status the ReplicaSets add up to; `progressed` when this pass scaled one.
    private func syncStatus(
        _ deployment: Value, newRS: Value?, all: [Value], replicas: Int, paused: Bool, progressed: Bool = false, _ context: inout ControllerContext
    ) throws(ClusterError) -> Bool {
        let deployment = (try? context.store.get(ObjectBuilder.id(deployment))) ?? deployment
        let total = all.reduce(0) { $0 + ObjectBuilder.int($1, "status", "replicas") }
        let updated = newRS.map { ObjectBuilder.int($0, "status", "replicas") } ?? 0
        let ready = all.reduce(0) { $0 + ObjectBuilder.int($1, "status", "readyReplicas") }
        let available = all.reduce(0) { $0 + ObjectBuilder.int($1, "status", "availableReplicas") }
        let maxUnavailable = (try? budget(deployment, replicas).maxUnavailable) ?? 0
        let previous = deployment[path: ["status", "conditions"]]
        var status: Value = [:]
        status.set(deployment[path: ["metadata", "generation"]] ?? 1, at: ["observedGeneration"])
        status.set(.int(total), at: ["replicas"])
        status.set(.int(updated), at: ["updatedReplicas"])
        status.set(.int(ready), at: ["readyReplicas"])
        status.set(.int(available), at: ["availableReplicas"])
        status.set(.int(max(0, total - available)), at: ["unavailableReplicas"])

        let availableCondition = available >= replicas - maxUnavailable
            ? ObjectBuilder.condition("Available", true, reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability.", now: context.now, previous: previous)
            : ObjectBuilder.condition("Available", false, reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability.", now: context.now, previous: previous)
        let oldProgressing = previous?.sequenceValue?.first { $0["type"]?.stringValue == "Progressing" }
        let name = newRS?[path: ["metadata", "name"]]?.stringValue ?? ""
        var progressing: Value
        let complete = updated == replicas && available >= replicas && total == replicas
        if paused {
            progressing = ObjectBuilder.condition("Progressing", oldProgressing?["status"]?.stringValue != "False", reason: "DeploymentPaused", message: "Deployment is paused", now: context.now, previous: previous)
        } else if complete {
            progressing = ObjectBuilder.condition("Progressing", true, reason: "NewReplicaSetAvailable", message: "ReplicaSet \"\(name)\" has successfully progressed.", now: context.now, previous: previous)
        } else if progressed {
            progressing = ObjectBuilder.condition("Progressing", true, reason: "ReplicaSetUpdated", message: "ReplicaSet \"\(name)\" is progressing.", now: context.now, previous: previous)
            progressing.set(.string(Timestamp.rfc3339(context.now)), at: ["lastUpdateTime"])
            let deadline = Double(deployment[path: ["spec", "progressDeadlineSeconds"]]?.intValue ?? 600)
            context.due("deployment", NamespacedName(deployment), at: context.now + deadline + 1)
        } else {
            let deadline = Double(deployment[path: ["spec", "progressDeadlineSeconds"]]?.intValue ?? 600)
            let lastUpdate = oldProgressing?["lastUpdateTime"]?.stringValue.flatMap(Timestamp.parse) ?? context.now
            if oldProgressing?["reason"]?.stringValue == "ProgressDeadlineExceeded" || context.now - lastUpdate > deadline {
                progressing = ObjectBuilder.condition("Progressing", false, reason: "ProgressDeadlineExceeded", message: "ReplicaSet \"\(name)\" has timed out progressing.", now: context.now, previous: previous)
            } else {
                context.due("deployment", NamespacedName(deployment), at: lastUpdate + deadline + 1)
                progressing = oldProgressing ?? ObjectBuilder.condition("Progressing", true, reason: "ReplicaSetUpdated", message: "ReplicaSet \"\(name)\" is progressing.", now: context.now, previous: previous)
            }
        }
        if progressing["lastUpdateTime"] == nil {
            progressing.set(oldProgressing?["lastUpdateTime"] ?? .string(Timestamp.rfc3339(context.now)), at: ["lastUpdateTime"])
        }
        if oldProgressing?["reason"] != progressing["reason"] {
            progressing.set(.string(Timestamp.rfc3339(context.now)), at: ["lastUpdateTime"])
        }
        status.set(.sequence([availableCondition, progressing]), at: ["conditions"])
        guard status != deployment["status"] else { return false }
        try context.updateOwnStatus(ObjectBuilder.id(deployment), status: status, for: "deployment")
        if progressing["reason"]?.stringValue == "ProgressDeadlineExceeded", oldProgressing?["reason"]?.stringValue != "ProgressDeadlineExceeded" {
            context.event(.warning, "ProgressDeadlineExceeded", "Deployment \"\(deployment[path: ["metadata", "name"]]?.stringValue ?? "")\" exceeded its progress deadline", ObjectBuilder.id(deployment))
        }
        return true
    }

    static func revision(of replicaSet: Value) -> Int {
        Int(replicaSet[path: ["metadata", "annotations", revisionKey]]?.stringValue ?? "0") ?? 0
    }

    /// A ReplicaSet's template without the pod-template-hash label, to compare with the Deployment's.
    static func templateWithoutHash(_ replicaSet: Value) -> Value {
        var template = replicaSet[path: ["spec", "template"]] ?? [:]
        template.remove(at: ["metadata", "labels", hashKey])
        if template[path: ["metadata", "labels"]]?.mappingValue?.isEmpty == true { template.remove(at: ["metadata", "labels"]) }
        return template
    }

    /// FNV-1a of the template, encoded as Kubernetes' SafeEncodeString does it.
    static func podTemplateHash(_ template: Value) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in JSONWriter(sortKeys: true).write(template).utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(String(hash).utf8.map { alphabet[Int($0) % alphabet.count] })
    }

    static func replicaSet(for deployment: Value, revision: Int, replicas: Int) -> Value {
        let template = deployment[path: ["spec", "template"]] ?? [:]
        let hash = podTemplateHash(template)
        let name = (deployment[path: ["metadata", "name"]]?.stringValue ?? "rs") + "-" + hash
        var rsTemplate = template
        rsTemplate.set(.string(hash), at: ["metadata", "labels", hashKey])
        var selector = deployment[path: ["spec", "selector"]] ?? [:]
        selector.set(.string(hash), at: ["matchLabels", hashKey])
        var labels = template[path: ["metadata", "labels"]] ?? [:]
        labels.set(.string(hash), at: [hashKey])
        return [
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": [
                "name": .string(name), "namespace": deployment[path: ["metadata", "namespace"]] ?? "default",
                "labels": labels, "annotations": [.init(stringLiteral: revisionKey): .string(String(revision))],
                "ownerReferences": [ObjectBuilder.ownerReference(to: deployment)],
            ],
            "spec": ["replicas": .int(replicas), "selector": selector, "template": rsTemplate],
        ]
    }
}
