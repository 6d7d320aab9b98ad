import WindlassCluster
import WindlassManifest

/// Jobs as Kubernetes runs them: up to `parallelism` pods at a time until `completions` have
/// succeeded (Complete), or more than `backoffLimit` have failed (Failed, BackoffLimitExceeded).
/// The simulated kubelet finishes a job pod `sim.windlass.dev/run-seconds` (default 1) after it
/// starts, failed when `sim.windlass.dev/fail: "true"`.
struct JobController: Controller {
    static let kind = GroupKind(group: "batch", kind: "Job")

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        var changed = false
        for job in context.store.list(Self.kind, namespace: nil) {
            if try reconcile(job, &context) { changed = true }
        }
        return changed
    }

    private func reconcile(_ job: Value, _ context: inout ControllerContext) throws(ClusterError) -> Bool {
        let id = ObjectBuilder.id(job)
        let finished = job[path: ["status", "conditions"]]?.sequenceValue?.contains {
            ($0["type"] == "Complete" || $0["type"] == "Failed") && $0["status"] == "True"
        } ?? false
        let pods = ObjectBuilder.owned(by: job, kind: "Pod", in: context.store)
        let active = pods.filter { !Kubelet.isTerminal($0) }
        let succeeded = pods.filter { $0[path: ["status", "phase"]] == "Succeeded" }.count
        let failed = pods.filter { $0[path: ["status", "phase"]] == "Failed" }.count
        let completions = job[path: ["spec", "completions"]]?.intValue ?? 1
        let parallelism = job[path: ["spec", "parallelism"]]?.intValue ?? 1
        let backoffLimit = job[path: ["spec", "backoffLimit"]]?.intValue ?? 6
        let suspended = job[path: ["spec", "suspend"]]?.boolValue == true
        var condition: Value? = nil

        if !finished {
            if failed > backoffLimit {
                for pod in active { try context.store.delete(ObjectBuilder.id(pod), propagation: .background) }
                condition = ObjectBuilder.condition("Failed", true, reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit", now: context.now, previous: nil)
                context.event(.warning, "BackoffLimitExceeded", "Job has reached the specified backoff limit", id)
            } else if succeeded >= completions {
                condition = ObjectBuilder.condition("Complete", true, reason: "", message: "", now: context.now, previous: nil)
                context.event(.normal, "Completed", "Job completed", id)
            } else if !suspended {
                let wanted = min(parallelism, completions - succeeded) - active.count
                if wanted > 0 {
                    for _ in 0..<wanted {
                        let created = try ObjectBuilder.createWithGeneratedName("\(id.name)-", in: &context.store, manager: "job-controller", now: context.now) { name in
                            var pod = ObjectBuilder.pod(named: name, from: job[path: ["spec", "template"]] ?? [:], owner: job, extraLabels: ["job-name": id.name])
                            pod.set(.string(id.name), at: ["metadata", "labels", "batch.kubernetes.io/job-name"])
                            return pod
                        }
                        context.event(.normal, "SuccessfulCreate", "Created pod: \(created[path: ["metadata", "name"]]?.stringValue ?? "")", id)
                    }
                    return true
                }
            }
        }
        var status = job["status"] ?? [:]
        status.set(.int(finished || condition != nil ? 0 : active.count), at: ["active"])
        status.set(.int(succeeded), at: ["succeeded"])
        status.set(.int(failed), at: ["failed"])
        if status["startTime"] == nil { status.set(.string(Timestamp.rfc3339(context.now)), at: ["startTime"]) }
        if let condition {
            status.set(.sequence((status["conditions"]?.sequenceValue ?? []) + [condition]), at: ["conditions"])
            if condition["type"] == "Complete" { status.set(.string(Timestamp.rfc3339(context.now)), at: ["completionTime"]) }
        }
        guard status != job["status"] else { return false }
        _ = try context.store.updateStatus(id, status: status, now: context.now)
        return true
    }
}
