public import WindlassManifest

/// Argo CD's health states, from best to worst.
public enum HealthStatus: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
    case healthy = "Healthy"
    case suspended = "Suspended"
    case progressing = "Progressing"
    case missing = "Missing"
    case degraded = "Degraded"
    case unknown = "Unknown"

    private var rank: Int { Self.allCases.firstIndex(of: self)! }

    /// Worse compares greater: an application is as healthy as its `max()` resource.
    public static func < (lhs: HealthStatus, rhs: HealthStatus) -> Bool { lhs.rank < rhs.rank }
}

/// A health state with the reason for it.
public struct Health: Sendable, Hashable, Codable, CustomStringConvertible {
    public var status: HealthStatus
    public var message: String

    public init(_ status: HealthStatus, _ message: String = "") {
        self.status = status
        self.message = message
    }

    public var description: String { message.isEmpty ? status.rawValue : "\(status.rawValue): \(message)" }

    /// The least healthy of several (Healthy when there are none).
    public static func aggregate(_ healths: [Health]) -> Health {
        healths.max { $0.status < $1.status } ?? Health(.healthy)
    }
}

/// Health assessment per kind, as Argo CD does it (REFERENCE.md §4).
public enum HealthAssessor {
    /// The health of a live object, or nil for kinds whose health is not assessed (ConfigMaps,
    /// Secrets, RBAC…), which do not count toward an application's health.
    public static func assess(_ object: Value) -> Health? {
        guard let kind = object["kind"]?.stringValue else { return nil }
        let group = GroupVersionKind(apiVersion: object["apiVersion"]?.stringValue ?? "", kind: kind).group
        switch (group, kind) {
        case ("apps", "Deployment"): return deployment(object)
        case ("apps", "StatefulSet"): return statefulSet(object)
        case ("apps", "DaemonSet"): return daemonSet(object)
        case ("apps", "ReplicaSet"): return replicaSet(object)
        case ("", "Pod"): return pod(object)
        case ("batch", "Job"): return job(object)
        case ("", "Service"): return service(object)
        case ("", "PersistentVolumeClaim"): return persistentVolumeClaim(object)
        case ("kubevirt.io", "VirtualMachine"): return virtualMachine(object)
        case ("kubevirt.io", "VirtualMachineInstance"): return virtualMachineInstance(object)
        default: return nil
        }
    }

    static func int(_ object: Value, _ path: String...) -> Int? { object[path: path]?.intValue }

    static func condition(_ object: Value, _ type: String) -> Value? {
        object[path: ["status", "conditions"]]?.sequenceValue?.first { $0["type"]?.stringValue == type }
    }

    /// Whether the controller has seen the latest spec.
    static func observed(_ object: Value) -> Bool {
        let generation = int(object, "metadata", "generation") ?? 0
        let observed = int(object, "status", "observedGeneration") ?? 0
        return observed >= generation
    }

    /// `kubectl rollout status` for a Deployment.
    public static func deployment(_ object: Value) -> Health {
        if object[path: ["spec", "paused"]]?.boolValue == true {
            return Health(.suspended, "Deployment is paused")
        }
        guard observed(object) else {
            return Health(.progressing, "Waiting for rollout to finish: observed deployment generation less than desired generation")
        }
        if condition(object, "Progressing")?["reason"]?.stringValue == "ProgressDeadlineExceeded" {
            let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
            return Health(.degraded, "Deployment \"\(name)\" exceeded its progress deadline")
        }
        let replicas = int(object, "spec", "replicas") ?? 1
        let updated = int(object, "status", "updatedReplicas") ?? 0
        let current = int(object, "status", "replicas") ?? 0
        let available = int(object, "status", "availableReplicas") ?? 0
        if updated < replicas {
            return Health(.progressing, "Waiting for rollout to finish: \(updated) out of \(replicas) new replicas have been updated...")
        }
        if current > updated {
            return Health(.progressing, "Waiting for rollout to finish: \(current - updated) old replicas are pending termination...")
        }
        if available < updated {
            return Health(.progressing, "Waiting for rollout to finish: \(available) of \(updated) updated replicas are available...")
        }
        return Health(.healthy, "successfully rolled out")
    }

    public static func statefulSet(_ object: Value) -> Health {
        guard observed(object) else {
            return Health(.progressing, "Waiting for statefulset spec update to be observed...")
        }
        let replicas = int(object, "spec", "replicas") ?? 1
        let ready = int(object, "status", "readyReplicas") ?? 0
        if ready < replicas {
            return Health(.progressing, "Waiting for \(replicas - ready) pods to be ready...")
        }
        if object[path: ["spec", "updateStrategy", "type"]]?.stringValue == "OnDelete" {
            return Health(.healthy, "statefulset has OnDelete update strategy")
        }
        let partition = int(object, "spec", "updateStrategy", "rollingUpdate", "partition") ?? 0
        let updated = int(object, "status", "updatedReplicas") ?? 0
        if partition > 0 {
            if updated < replicas - partition {
                return Health(.progressing, "Waiting for partitioned roll out to finish: \(updated) out of \(replicas - partition) new pods have been updated...")
            }
            return Health(.healthy, "partitioned roll out complete: \(updated) new pods have been updated...")
        }
        let current = object[path: ["status", "currentRevision"]]?.stringValue
        let update = object[path: ["status", "updateRevision"]]?.stringValue
        if let update, current != update {
            return Health(.progressing, "waiting for statefulset rolling update to complete \(updated) pods at revision \(update)...")
        }
        return Health(.healthy, "statefulset rolling update complete \(ready) pods at revision \(update ?? "")...")
    }

    public static func daemonSet(_ object: Value) -> Health {
        guard observed(object) else {
            return Health(.progressing, "Waiting for daemon set spec update to be observed...")
        }
        if object[path: ["spec", "updateStrategy", "type"]]?.stringValue == "OnDelete" {
            return Health(.healthy, "daemon set has OnDelete update strategy")
        }
        let desired = int(object, "status", "desiredNumberScheduled") ?? 0
        let updated = int(object, "status", "updatedNumberScheduled") ?? 0
        let available = int(object, "status", "numberAvailable") ?? 0
        if updated < desired {
            return Health(.progressing, "Waiting for daemon set rollout to finish: \(updated) out of \(desired) new pods have been updated...")
        }
        if available < desired {
            return Health(.progressing, "Waiting for daemon set rollout to finish: \(available) of \(desired) updated pods are available...")
        }
        return Health(.healthy, "daemon set \(available) of \(desired) updated pods are available")
    }

    public static func replicaSet(_ object: Value) -> Health {
        guard observed(object) else {
            return Health(.progressing, "Waiting for rollout to finish: observed replica set generation less than desired generation")
        }
        if condition(object, "ReplicaFailure")?["status"]?.stringValue == "True" {
            return Health(.degraded, condition(object, "ReplicaFailure")?["message"]?.stringValue ?? "replica failure")
        }
        let replicas = int(object, "spec", "replicas") ?? 1
        let available = int(object, "status", "availableReplicas") ?? 0
        if available < replicas {
            return Health(.progressing, "Waiting for rollout to finish: \(available) out of \(replicas) new replicas are available...")
        }
        return Health(.healthy)
    }

    /// Waiting reasons that mean a pod will not start on its own.
    static let failingReasons: Set<String> = [
        "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "InvalidImageName",
    ]

    public static func pod(_ object: Value) -> Health {
        let statuses = (object[path: ["status", "initContainerStatuses"]]?.sequenceValue ?? [])
            + (object[path: ["status", "containerStatuses"]]?.sequenceValue ?? [])
        for status in statuses {
            if let waiting = status[path: ["state", "waiting"]], let reason = waiting["reason"]?.stringValue,
                failingReasons.contains(reason)
            {
                return Health(.degraded, waiting["message"]?.stringValue ?? reason)
            }
        }
        switch object[path: ["status", "phase"]]?.stringValue {
        case "Succeeded":
            return Health(.healthy, object[path: ["status", "message"]]?.stringValue ?? "")
        case "Failed":
            return Health(.degraded, object[path: ["status", "message"]]?.stringValue ?? "pod failed")
        case "Running":
            if object[path: ["spec", "restartPolicy"]]?.stringValue == "Always" || object[path: ["spec", "restartPolicy"]] == nil {
                if condition(object, "Ready")?["status"]?.stringValue == "True" { return Health(.healthy) }
                return Health(.progressing, "pod is running but not ready")
            }
            return Health(.progressing, "pod is running")
        case "Pending":
            let reason = condition(object, "PodScheduled")?["message"]?.stringValue
            return Health(.progressing, reason ?? "pod is pending")
        default:
            return Health(.unknown, "pod phase is unknown")
        }
    }

    public static func job(_ object: Value) -> Health {
        if condition(object, "Failed")?["status"]?.stringValue == "True" {
            return Health(.degraded, condition(object, "Failed")?["message"]?.stringValue ?? "job failed")
        }
        if condition(object, "Complete")?["status"]?.stringValue == "True" {
            return Health(.healthy, condition(object, "Complete")?["message"]?.stringValue ?? "job complete")
        }
        if object[path: ["spec", "suspend"]]?.boolValue == true {
            return Health(.suspended, "job is suspended")
        }
        return Health(.progressing, "job is running")
    }

    public static func service(_ object: Value) -> Health {
        guard object[path: ["spec", "type"]]?.stringValue == "LoadBalancer" else { return Health(.healthy) }
        if let ingress = object[path: ["status", "loadBalancer", "ingress"]]?.sequenceValue, !ingress.isEmpty {
            return Health(.healthy)
        }
        return Health(.progressing, "waiting for a load balancer address")
    }

    public static func persistentVolumeClaim(_ object: Value) -> Health {
        switch object[path: ["status", "phase"]]?.stringValue {
        case "Bound": return Health(.healthy)
        case "Lost": return Health(.degraded, "claim lost its volume")
        default: return Health(.progressing, "waiting for the claim to be bound")
        }
    }

    public static func virtualMachine(_ object: Value) -> Health {
        let printable = object[path: ["status", "printableStatus"]]?.stringValue
        if let printable, ["ErrorUnschedulable", "CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff", "ErrorPvcNotFound", "DataVolumeError"].contains(printable) {
            return Health(.degraded, "VM is \(printable)")
        }
        let runStrategy = object[path: ["spec", "runStrategy"]]?.stringValue
            ?? (object[path: ["spec", "running"]]?.boolValue == false ? "Halted" : "Always")
        if runStrategy == "Halted" {
            return Health(.suspended, "VM is stopped")
        }
        if object[path: ["status", "ready"]]?.boolValue == true {
            return Health(.healthy, "VM is running and ready")
        }
        if runStrategy == "Manual", printable == "Stopped" || printable == nil {
            return Health(.suspended, "VM is stopped (manual run strategy)")
        }
        return Health(.progressing, "VM is \(printable ?? "starting")")
    }

    public static func virtualMachineInstance(_ object: Value) -> Health {
        switch object[path: ["status", "phase"]]?.stringValue {
        case "Running":
            return condition(object, "Ready")?["status"]?.stringValue == "True"
                ? Health(.healthy) : Health(.progressing, "instance is running but not ready")
        case "Failed": return Health(.degraded, "instance failed")
        case "Succeeded": return Health(.suspended, "instance stopped")
        default: return Health(.progressing, "instance is \(object[path: ["status", "phase"]]?.stringValue ?? "pending")")
        }
    }
}
