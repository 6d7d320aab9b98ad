import WindlassCluster
import WindlassManifest

/// StatefulSets as Kubernetes runs them: pods `<name>-<ordinal>` with stable claims from
/// `volumeClaimTemplates`, started in order (OrderedReady: each once the one before is Ready)
/// or all at once (Parallel), removed from the highest ordinal, and rolling updates from the
/// highest ordinal down to `partition`, one pod at a time.
struct StatefulSetController: Controller {
    static let kind = GroupKind(group: "apps", kind: "StatefulSet")
    static let revisionLabel = "controller-revision-hash"

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        var changed = false
        for set in context.store.list(Self.kind, namespace: nil) {
            if try reconcile(set, &context) { changed = true }
        }
        return changed
    }

    private func reconcile(_ set: Value, _ context: inout ControllerContext) throws(ClusterError) -> Bool {
        let id = ObjectBuilder.id(set)
        let name = id.name
        let replicas = set[path: ["spec", "replicas"]]?.intValue ?? 1
        let ordered = set[path: ["spec", "podManagementPolicy"]]?.stringValue != "Parallel"
        let template = set[path: ["spec", "template"]] ?? [:]
        let revision = name + "-" + DeploymentController.podTemplateHash(template)
        let pods = ObjectBuilder.owned(by: set, kind: "Pod", in: context.store).filter { !Kubelet.isTerminal($0) }
        var byOrdinal: [Int: Value] = [:]
        for pod in pods {
            if let ordinal = Self.ordinal(of: pod, in: name) { byOrdinal[ordinal] = pod }
        }

        // Create missing pods (and their claims), in order when OrderedReady.
        for ordinal in 0..<replicas where byOrdinal[ordinal] == nil {
            if ordered, (0..<ordinal).contains(where: { byOrdinal[$0].map { !ObjectBuilder.isReady($0) } ?? true }) { break }
            try createClaims(for: set, ordinal: ordinal, &context)
            let podName = "\(name)-\(ordinal)"
            var pod = ObjectBuilder.pod(named: podName, from: template, owner: set, extraLabels: [
                Self.revisionLabel: revision, "statefulset.kubernetes.io/pod-name": podName, "apps.kubernetes.io/pod-index": String(ordinal),
            ])
            pod.set(.string(podName), at: ["spec", "hostname"])
            if let service = set[path: ["spec", "serviceName"]]?.stringValue { pod.set(.string(service), at: ["spec", "subdomain"]) }
            pod.set(.sequence(Self.claimVolumes(set, ordinal: ordinal)), at: ["spec", "volumes"])
            _ = try context.store.create(pod, manager: "statefulset-controller", now: context.now)
            context.event(.normal, "SuccessfulCreate", "create Pod \(podName) in StatefulSet \(name) successful", id)
            return true
        }
        // Remove surplus pods from the highest ordinal.
        if let highest = byOrdinal.keys.filter({ $0 >= replicas }).max() {
            try context.store.delete(ObjectBuilder.id(byOrdinal[highest]!), propagation: .background)
            context.event(.normal, "SuccessfulDelete", "delete Pod \(name)-\(highest) in StatefulSet \(name) successful", id)
            return true
        }
        // Rolling update: once every pod is Ready, replace the highest outdated one at or above the partition.
        let partition = set[path: ["spec", "updateStrategy", "rollingUpdate", "partition"]]?.intValue ?? 0
        if set[path: ["spec", "updateStrategy", "type"]]?.stringValue != "OnDelete",
            byOrdinal.count == replicas, byOrdinal.values.allSatisfy(ObjectBuilder.isReady),
            let outdated = byOrdinal.keys.filter({ $0 >= partition && Self.revision(of: byOrdinal[$0]!) != revision }).max()
        {
            try context.store.delete(ObjectBuilder.id(byOrdinal[outdated]!), propagation: .background)
            context.event(.normal, "SuccessfulDelete", "delete Pod \(name)-\(outdated) in StatefulSet \(name) successful", id)
            return true
        }

        let ready = pods.filter(ObjectBuilder.isReady).count
        let updated = pods.filter { Self.revision(of: $0) == revision }.count
        let current = set[path: ["status", "currentRevision"]]?.stringValue ?? revision
        var status: Value = [:]
        status.set(set[path: ["metadata", "generation"]] ?? 1, at: ["observedGeneration"])
        status.set(.int(pods.count), at: ["replicas"])
        status.set(.int(ready), at: ["readyReplicas"])
        status.set(.int(ready), at: ["availableReplicas"])
        status.set(.int(updated), at: ["updatedReplicas"])
        let complete = updated == replicas && pods.count == replicas
        status.set(.int(complete ? updated : pods.count - updated), at: ["currentReplicas"])
        status.set(.string(complete ? revision : current), at: ["currentRevision"])
        status.set(.string(revision), at: ["updateRevision"])
        guard status != set["status"] else { return false }
        _ = try context.store.updateStatus(id, status: status, now: context.now)
        return true
    }

    static func ordinal(of pod: Value, in name: String) -> Int? {
        guard let podName = pod[path: ["metadata", "name"]]?.stringValue, podName.hasPrefix(name + "-") else { return nil }
        return Int(podName.dropFirst(name.count + 1))
    }

    static func revision(of pod: Value) -> String {
        pod[path: ["metadata", "labels", revisionLabel]]?.stringValue ?? ""
    }

    /// The template's volumes plus one per claim template, bound to `<claim>-<set>-<ordinal>`.
    static func claimVolumes(_ set: Value, ordinal: Int) -> [Value] {
        var volumes = set[path: ["spec", "template", "spec", "volumes"]]?.sequenceValue ?? []
        let name = set[path: ["metadata", "name"]]?.stringValue ?? ""
        for claim in set[path: ["spec", "volumeClaimTemplates"]]?.sequenceValue ?? [] {
            guard let claimName = claim[path: ["metadata", "name"]]?.stringValue else { continue }
            volumes.append(["name": .string(claimName), "persistentVolumeClaim": ["claimName": .string("\(claimName)-\(name)-\(ordinal)")]])
        }
        return volumes
    }

    /// Claims outlive their pods, as Kubernetes keeps them (they are not owned by the set).
    private func createClaims(for set: Value, ordinal: Int, _ context: inout ControllerContext) throws(ClusterError) {
        let name = set[path: ["metadata", "name"]]?.stringValue ?? ""
        let namespace = set[path: ["metadata", "namespace"]] ?? "default"
        for template in set[path: ["spec", "volumeClaimTemplates"]]?.sequenceValue ?? [] {
            guard let claimName = template[path: ["metadata", "name"]]?.stringValue else { continue }
            let claim: Value = [
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": ["name": .string("\(claimName)-\(name)-\(ordinal)"), "namespace": namespace,
                             "labels": set[path: ["spec", "selector", "matchLabels"]] ?? [:]],
                "spec": template["spec"] ?? [:],
            ]
            if let id = ResourceID(object: claim), context.store.stored(id) != nil { continue }
            _ = try context.store.create(claim, manager: "statefulset-controller", now: context.now)
        }
    }
}
