public import WindlassManifest

/// kubectl-style tables of objects: the columns `kubectl get` prints for each kind.
public enum ObjectTable {
    /// The table of `objects` of one kind. With `namePrefix` (`deployment.apps/`), names are
    /// written as kubectl writes them when it lists several kinds at once.
    public static func render(_ objects: [Value], kind: GroupKind, allNamespaces: Bool, wide: Bool, now: Double, namePrefix: String = "") -> String {
        var header: [String] = ["NAME"]
        var rows: [[String]] = []
        for object in objects {
            let (columns, cells) = row(object, kind: kind, wide: wide, now: now)
            header = ["NAME"] + columns
            rows.append([namePrefix + (object[path: ["metadata", "name"]]?.stringValue ?? "")] + cells)
        }
        if objects.isEmpty { header = ["NAME"] + row(Value.null, kind: kind, wide: wide, now: now).0 }
        if allNamespaces {
            header.insert("NAMESPACE", at: 0)
            for (index, object) in objects.enumerated() {
                rows[index].insert(object[path: ["metadata", "namespace"]]?.stringValue ?? "", at: 0)
            }
        }
        return columns([header] + rows)
    }

    /// Rows of cells padded into columns, the first row being the header.
    public static func columns(_ table: [[String]]) -> String {
        var widths = Array(repeating: 0, count: table.map(\.count).max() ?? 0)
        for row in table {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return table.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 3)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }

    static func int(_ object: Value, _ path: String...) -> Int { object[path: path]?.intValue ?? 0 }

    static func row(_ o: Value, kind: GroupKind, wide: Bool, now: Double) -> ([String], [String]) {
        let age = Self.age(o, now: now)
        switch (kind.group, kind.kind) {
        case ("apps", "Deployment"):
            let replicas = o[path: ["spec", "replicas"]]?.intValue ?? 1
            return (["READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
                    ["\(int(o, "status", "readyReplicas"))/\(replicas)", "\(int(o, "status", "updatedReplicas"))", "\(int(o, "status", "availableReplicas"))", age])
        case ("apps", "ReplicaSet"):
            return (["DESIRED", "CURRENT", "READY", "AGE"],
                    ["\(int(o, "spec", "replicas"))", "\(int(o, "status", "replicas"))", "\(int(o, "status", "readyReplicas"))", age])
        case ("apps", "StatefulSet"):
            return (["READY", "AGE"], ["\(int(o, "status", "readyReplicas"))/\(o[path: ["spec", "replicas"]]?.intValue ?? 1)", age])
        case ("apps", "DaemonSet"):
            return (["DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
                    ["\(int(o, "status", "desiredNumberScheduled"))", "\(int(o, "status", "currentNumberScheduled"))", "\(int(o, "status", "numberReady"))",
                     "\(int(o, "status", "updatedNumberScheduled"))", "\(int(o, "status", "numberAvailable"))", age])
        case ("", "Pod"):
            let statuses = o[path: ["status", "containerStatuses"]]?.sequenceValue ?? []
            let ready = statuses.filter { $0["ready"]?.boolValue == true }.count
            let total = o[path: ["spec", "containers"]]?.sequenceValue?.count ?? 0
            let waiting = statuses.compactMap { $0[path: ["state", "waiting", "reason"]]?.stringValue }.first
            let status = waiting.flatMap { $0 == "ContainerCreating" && o[path: ["status", "phase"]] == "Pending" ? $0 : $0 }
                ?? o[path: ["status", "phase"]]?.stringValue ?? "Pending"
            let restarts = statuses.reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) }
            var cells = ["\(ready)/\(total)", status, "\(restarts)", age]
            var columns = ["READY", "STATUS", "RESTARTS", "AGE"]
            if wide {
                columns += ["IP", "NODE"]
                cells += [o[path: ["status", "podIP"]]?.stringValue ?? "<none>", o[path: ["spec", "nodeName"]]?.stringValue ?? "<none>"]
            }
            return (columns, cells)
        case ("", "Service"):
            let ports = (o[path: ["spec", "ports"]]?.sequenceValue ?? []).map {
                "\($0["port"]?.intValue ?? 0)/\($0["protocol"]?.stringValue ?? "TCP")"
            }.joined(separator: ",")
            return (["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
                    [o[path: ["spec", "type"]]?.stringValue ?? "ClusterIP", o[path: ["spec", "clusterIP"]]?.stringValue ?? "<none>", "<none>", ports, age])
        case ("", "Node"):
            let ready = o[path: ["status", "conditions"]]?.sequenceValue?.first { $0["type"] == "Ready" }?["status"]?.stringValue == "True"
            var status = ready ? "Ready" : "NotReady"
            if o[path: ["spec", "unschedulable"]]?.boolValue == true { status += ",SchedulingDisabled" }
            return (["STATUS", "ROLES", "AGE", "VERSION"], [status, "<none>", age, "v1.32.0-windlass"])
        case ("kubevirt.io", "VirtualMachine"):
            return (["AGE", "STATUS", "READY"], [age, o[path: ["status", "printableStatus"]]?.stringValue ?? "Stopped", o[path: ["status", "ready"]]?.boolValue == true ? "True" : "False"])
        default:
            return (["AGE"], [age])
        }
    }

    /// `45s`, `12m`, `3h`, `2d`, as kubectl prints ages.
    public static func age(_ object: Value, now: Double) -> String {
        guard let created = object[path: ["metadata", "creationTimestamp"]]?.stringValue.flatMap(Timestamp.parse) else { return "<unknown>" }
        let seconds = max(0, Int(now - created))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 7200 { return "\(seconds / 60)m" }
        if seconds < 172_800 { return "\(seconds / 3600)h" }
        return "\(seconds / 86_400)d"
    }
}
