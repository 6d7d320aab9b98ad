import WindlassCluster
import WindlassManifest

/// What a kubelet would report for each bound pod, in the spirit of kwok's stages: Pending,
/// then Running and Ready once its start delay has passed. Defined by stored timestamps
/// (ready once now ≥ start + delay), so state moves on correctly between separate CLI runs.
///
/// Pod-template annotations ship misbehaviour with a commit: `sim.windlass.dev/start-seconds`,
/// `crash-loop`, `never-ready`, `image-pull-error`.
struct Kubelet: Controller {
    static let defaultStartSeconds = 1.0

    static func isTerminal(_ pod: Value) -> Bool {
        let phase = pod[path: ["status", "phase"]]?.stringValue
        return phase == "Succeeded" || phase == "Failed"
    }

    func sync(_ context: inout ControllerContext) throws(ClusterError) -> Bool {
        var changed = false
        // Pods that changed, and pods whose start delay (or run time, or back-off) is over;
        // every pod when a node changed.
        let (pods, all) = context.changedObjects(of: Scheduler.podKind, for: "kubelet") { change in
            switch change.object["kind"]?.stringValue {
            case "Pod": return change.kind == .deleted ? [] : [NamespacedName(change.object)]
            case "Node": return nil
            default: return []
            }
        }
        // A node that is not Ready has no kubelet reporting for its pods (read again when a
        // node changed).
        if all || context.marks.silentNodes == nil {
            context.marks.silentNodes = Set(context.store.list(Scheduler.nodeKind, namespace: nil).filter { !NodeLifecycleController.isReady($0) }
                .compactMap { $0[path: ["metadata", "name"]]?.stringValue })
        }
        let silent = context.marks.silentNodes ?? []
        for pod in pods {
            guard let node = pod[path: ["spec", "nodeName"]]?.stringValue, !Self.isTerminal(pod), !silent.contains(node) else { continue }
            // A running, ready pod stays so until something changes it (crash loops count on).
            if pod[path: ["status", "phase"]]?.stringValue == "Running", ObjectBuilder.isReady(pod),
                pod[path: ["metadata", "annotations", "sim.windlass.dev/crash-loop"]] == nil
            {
                continue
            }
            let (status, wakeup) = Self.simulatedStatus(pod, now: context.now, startDelays: context.startDelays)
            if let wakeup { context.due("kubelet", NamespacedName(pod), at: wakeup) }
            guard status != pod["status"] else { continue }
            let id = ObjectBuilder.id(pod)
            let wasRunning = pod[path: ["status", "phase"]]?.stringValue == "Running"
            try context.updateOwnStatus(id, status: status, for: "kubelet")
            if !wasRunning, status["phase"]?.stringValue == "Running" {
                context.event(.normal, "Started", "Started container \(Self.firstContainer(pod))", id)
            }
            if let reason = status[path: ["containerStatuses"]]?.sequenceValue?.first?[path: ["state", "waiting", "reason"]]?.stringValue,
                ["CrashLoopBackOff", "ImagePullBackOff"].contains(reason)
            {
                context.event(.warning, reason == "CrashLoopBackOff" ? "BackOff" : "Failed", Self.waitingMessage(reason, pod), id)
            }
            changed = true
        }
        return changed
    }

    static func firstContainer(_ pod: Value) -> String {
        pod[path: ["spec", "containers"]]?.sequenceValue?.first?["name"]?.stringValue ?? ""
    }

    static func waitingMessage(_ reason: String, _ pod: Value) -> String {
        let image = pod[path: ["spec", "containers"]]?.sequenceValue?.first?["image"]?.stringValue ?? ""
        switch reason {
        case "CrashLoopBackOff": return "Back-off restarting failed container \(firstContainer(pod))"
        case "ImagePullBackOff": return "Back-off pulling image \"\(image)\""
        default: return reason
        }
    }

    /// The status the pod has at `now`, and when it will next change by itself.
    static func simulatedStatus(_ pod: Value, now: Double, startDelays: [String: Double] = [:]) -> (Value, Double?) {
        let annotations = ObjectStore.annotations(of: pod)
        let startTime = pod[path: ["status", "startTime"]]?.stringValue.flatMap(Timestamp.parse) ?? now
        let delay = annotations["sim.windlass.dev/start-seconds"].flatMap(Double.init)
            ?? (startDelays.isEmpty ? nil : TwinState.workloadKey(ofPod: pod).flatMap { startDelays[$0] }) ?? defaultStartSeconds
        let readyAt = startTime + max(0, delay)
        let previous = pod[path: ["status", "conditions"]]
        var status = pod["status"] ?? [:]
        var phase = "Pending"
        var ready = false
        var waiting: String? = "ContainerCreating"
        var restarts = 0
        var wakeup: Double? = nil
        if annotations["sim.windlass.dev/image-pull-error"] == "true" {
            waiting = "ImagePullBackOff"
        } else if now < readyAt {
            wakeup = readyAt
        } else if runsToCompletion(pod, annotations: annotations) {
            // A Job's pod finishes after its run time (other pods run until they are stopped).
            let runSeconds = annotations["sim.windlass.dev/run-seconds"].flatMap(Double.init) ?? 1
            if now >= readyAt + runSeconds {
                let failed = annotations["sim.windlass.dev/fail"] == "true"
                phase = failed ? "Failed" : "Succeeded"
                waiting = nil
                status.set(.sequence([]), at: ["conditions"])
                status.set(.string(phase), at: ["phase"])
                status.set(.string(Timestamp.rfc3339(startTime)), at: ["startTime"])
                let terminated: Value = ["terminated": ["exitCode": .int(failed ? 1 : 0), "reason": .string(failed ? "Error" : "Completed"),
                                                        "finishedAt": .string(Timestamp.rfc3339(readyAt + runSeconds))]]
                status.set(.sequence((pod[path: ["spec", "containers"]]?.sequenceValue ?? []).map {
                    ["name": $0["name"] ?? "", "image": $0["image"] ?? "", "ready": false, "restartCount": 0, "state": terminated]
                }), at: ["containerStatuses"])
                return (status, nil)
            }
            phase = "Running"
            waiting = nil
            wakeup = readyAt + runSeconds
        } else if annotations["sim.windlass.dev/crash-loop"] == "true" {
            phase = "Running"
            waiting = "CrashLoopBackOff"
            restarts = 1 + Int((now - readyAt) / 10)
            wakeup = readyAt + Double(restarts) * 10
        } else {
            phase = "Running"
            waiting = nil
            ready = annotations["sim.windlass.dev/never-ready"] != "true"
        }
        status.set(.string(phase), at: ["phase"])
        status.set(.string(Timestamp.rfc3339(startTime)), at: ["startTime"])
        if phase == "Running" {
            status.set(.string(podIP(pod)), at: ["podIP"])
        }
        let containers = (pod[path: ["spec", "containers"]]?.sequenceValue ?? []).map { container -> Value in
            var state: Value
            if let waiting {
                state = ["waiting": ["reason": .string(waiting), "message": .string(waitingMessage(waiting, pod))]]
            } else {
                state = ["running": ["startedAt": .string(Timestamp.rfc3339(readyAt))]]
            }
            return [
                "name": container["name"] ?? "", "image": container["image"] ?? "", "ready": .bool(ready),
                "started": .bool(phase == "Running" && waiting == nil), "restartCount": .int(restarts), "state": state,
            ]
        }
        status.set(.sequence(containers), at: ["containerStatuses"])
        let notReady = ready ? "" : "ContainersNotReady"
        status.set(.sequence([
            ObjectBuilder.condition("PodScheduled", true, reason: "", now: now, previous: previous),
            ObjectBuilder.condition("Initialized", true, reason: "", now: now, previous: previous),
            ObjectBuilder.condition("ContainersReady", ready, reason: notReady, now: now, previous: previous),
            ObjectBuilder.condition("Ready", ready, reason: notReady, now: now, previous: previous),
        ]), at: ["conditions"])
        return (status, wakeup)
    }

    /// Pods of Jobs, or any pod given a run time, finish; the rest (a VM's launcher included,
    /// though its restartPolicy is Never) run until they are stopped.
    static func runsToCompletion(_ pod: Value, annotations: [String: String]) -> Bool {
        if pod[path: ["spec", "restartPolicy"]]?.stringValue == "Always" { return false }
        if annotations["sim.windlass.dev/run-seconds"] != nil { return true }
        return pod[path: ["metadata", "ownerReferences"]]?.sequenceValue?.contains { $0["kind"] == "Job" } ?? false
    }

    /// A stable address from the pod's uid, in 10.244.0.0/16.
    static func podIP(_ pod: Value) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in (pod[path: ["metadata", "uid"]]?.stringValue ?? "").utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        return "10.244.\(hash % 250).\(hash / 250 % 250 + 1)"
    }
}
