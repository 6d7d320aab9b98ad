public import WindlassManifest

/// One column of a kind's table, as the API server describes it in a `meta.k8s.io/v1` Table
/// (`kubectl get` prints the columns of priority 0, `-o wide` all of them).
public struct TableColumn: Sendable, Hashable {
    public var name: String
    /// `string`, `integer`, `number`, `boolean` or `date`.
    public var type: String
    /// `name` for the column that names the object.
    public var format: String
    public var description: String
    public var priority: Int

    public init(_ name: String, type: String = "string", format: String = "", description: String = "", priority: Int = 0) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
    }

    static let name = TableColumn("Name", format: "name", description: "Name must be unique within a namespace.")
    static let age = TableColumn("Age", description: "The time since the object was created.")
}

/// kubectl-style tables of objects: the columns a Kubernetes API server prints for each kind
/// (its `Table` answer to `kubectl get`), and custom resources by their definition's
/// `additionalPrinterColumns`.
public enum ObjectTable {
    /// The columns of a kind; `printerColumns` are a custom resource's
    /// (`additionalPrinterColumns` of its served version), nil for a built-in kind.
    public static func columns(for kind: GroupKind, printerColumns: [Value]? = nil) -> [TableColumn] {
        if let printerColumns, !printerColumns.isEmpty {
            return [TableColumn.name] + printerColumns.map { column in
                let type = column["type"]?.stringValue ?? "string"
                return TableColumn(
                    column["name"]?.stringValue ?? "", type: type, format: column["format"]?.stringValue ?? "",
                    description: column["description"]?.stringValue ?? "", priority: column["priority"]?.intValue ?? 0)
            }
        }
        func wide(_ names: String...) -> [TableColumn] { names.map { TableColumn($0, priority: 1) } }
        let age = TableColumn.age
        let c = { (name: String) in TableColumn(name) }
        let n = { (name: String) in TableColumn(name, type: "integer") }
        switch (kind.group, kind.kind) {
        case ("apps", "Deployment"):
            return [.name, c("Ready"), n("Up-to-date"), n("Available"), age] + wide("Containers", "Images", "Selector")
        case ("apps", "ReplicaSet"):
            return [.name, n("Desired"), n("Current"), n("Ready"), age] + wide("Containers", "Images", "Selector")
        case ("apps", "StatefulSet"):
            return [.name, c("Ready"), age] + wide("Containers", "Images")
        case ("apps", "DaemonSet"):
            return [.name, n("Desired"), n("Current"), n("Ready"), n("Up-to-date"), n("Available"), c("Node Selector"), age]
                + wide("Containers", "Images", "Selector")
        case ("", "Pod"):
            return [.name, c("Ready"), c("Status"), c("Restarts"), age] + wide("IP", "Node", "Nominated Node", "Readiness Gates")
        case ("", "Service"):
            return [.name, c("Type"), c("Cluster-IP"), c("External-IP"), c("Port(s)"), age] + wide("Selector")
        case ("", "Endpoints"):
            return [.name, c("Endpoints"), age]
        case ("", "Node"):
            return [.name, c("Status"), c("Roles"), age, c("Version")] + wide("Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime")
        case ("", "Namespace"):
            return [.name, c("Status"), age]
        case ("", "ConfigMap"):
            return [.name, n("Data"), age]
        case ("", "Secret"):
            return [.name, c("Type"), n("Data"), age]
        case ("", "ServiceAccount"):
            return [.name, n("Secrets"), age]
        case ("", "PersistentVolumeClaim"):
            return [.name, c("Status"), c("Volume"), c("Capacity"), c("Access Modes"), c("StorageClass"), age] + wide("VolumeMode")
        case ("", "Event"), ("events.k8s.io", "Event"):
            return [c("Last Seen"), c("Type"), c("Reason"), c("Object")] + wide("Subobject", "Source") + [c("Message")]
                + wide("First Seen", "Count", "Name")
        case ("batch", "Job"):
            return [.name, c("Status"), c("Completions"), c("Duration"), age] + wide("Containers", "Images", "Selector")
        case ("batch", "CronJob"):
            return [.name, c("Schedule"), c("Suspend"), n("Active"), c("Last Schedule"), age] + wide("Containers", "Images", "Selector")
        case ("policy", "PodDisruptionBudget"):
            return [.name, c("Min Available"), c("Max Unavailable"), c("Allowed Disruptions"), age]
        case ("coordination.k8s.io", "Lease"):
            return [.name, c("Holder"), age]
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            return [.name, TableColumn("Created At", type: "date")]
        case ("kubevirt.io", "VirtualMachine"):
            return [.name, age, c("Status"), c("Ready")]
        case ("kubevirt.io", "VirtualMachineInstance"):
            return [.name, age, c("Phase"), c("IP"), c("NodeName"), c("Ready")]
        default:
            return [.name, age]
        }
    }

    /// The cells of one object, one per column of ``columns(for:printerColumns:)``.
    public static func cells(_ o: Value, kind: GroupKind, columns: [TableColumn], printerColumns: [Value]? = nil, now: Double) -> [Value] {
        let name = Value.string(o[path: ["metadata", "name"]]?.stringValue ?? "")
        let age = Value.string(Self.age(o, now: now))
        if let printerColumns, !printerColumns.isEmpty {
            return [name] + printerColumns.map { column in
                let found = JSONPathLite.evaluate(column["jsonPath"]?.stringValue ?? "", in: o)
                if column["type"]?.stringValue == "date", let text = found?.stringValue, let time = Timestamp.parse(text) {
                    return .string(duration(now - time))
                }
                return found ?? .null
            }
        }
        func s(_ path: String...) -> Value { .string(o[path: path]?.stringValue ?? o[path: path]?.scalarText ?? "") }
        func i(_ path: String...) -> Value { .int(o[path: path]?.intValue ?? 0) }
        let containers = o[path: ["spec", "template", "spec", "containers"]]?.sequenceValue ?? []
        let containerNames = Value.string(containers.compactMap { $0["name"]?.stringValue }.joined(separator: ","))
        let images = Value.string(containers.compactMap { $0["image"]?.stringValue }.joined(separator: ","))
        let selector = Value.string(selectorText(o[path: ["spec", "selector"]]))
        switch (kind.group, kind.kind) {
        case ("apps", "Deployment"):
            let replicas = o[path: ["spec", "replicas"]]?.intValue ?? 1
            return [name, .string("\(o[path: ["status", "readyReplicas"]]?.intValue ?? 0)/\(replicas)"), i("status", "updatedReplicas"),
                    i("status", "availableReplicas"), age, containerNames, images, selector]
        case ("apps", "ReplicaSet"):
            return [name, i("spec", "replicas"), i("status", "replicas"), i("status", "readyReplicas"), age, containerNames, images, selector]
        case ("apps", "StatefulSet"):
            return [name, .string("\(o[path: ["status", "readyReplicas"]]?.intValue ?? 0)/\(o[path: ["spec", "replicas"]]?.intValue ?? 1)"), age,
                    containerNames, images]
        case ("apps", "DaemonSet"):
            let nodeSelector = (o[path: ["spec", "template", "spec", "nodeSelector"]]?.mappingValue?.entries ?? [])
                .map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ",")
            return [name, i("status", "desiredNumberScheduled"), i("status", "currentNumberScheduled"), i("status", "numberReady"),
                    i("status", "updatedNumberScheduled"), i("status", "numberAvailable"), .string(nodeSelector.isEmpty ? "<none>" : nodeSelector),
                    age, containerNames, images, selector]
        case ("", "Pod"):
            let statuses = o[path: ["status", "containerStatuses"]]?.sequenceValue ?? []
            let ready = statuses.filter { $0["ready"]?.boolValue == true }.count
            let total = o[path: ["spec", "containers"]]?.sequenceValue?.count ?? 0
            let waiting = statuses.compactMap { $0[path: ["state", "waiting", "reason"]]?.stringValue }.first
            var status = waiting ?? o[path: ["status", "phase"]]?.stringValue ?? "Pending"
            if o[path: ["metadata", "deletionTimestamp"]] != nil { status = "Terminating" }
            let restarts = statuses.reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) }
            return [name, .string("\(ready)/\(total)"), .string(status), .string("\(restarts)"), age,
                    .string(o[path: ["status", "podIP"]]?.stringValue ?? "<none>"), .string(o[path: ["spec", "nodeName"]]?.stringValue ?? "<none>"),
                    "<none>", "<none>"]
        case ("", "Service"):
            let ports = (o[path: ["spec", "ports"]]?.sequenceValue ?? []).map {
                "\($0["port"]?.intValue ?? 0)/\($0["protocol"]?.stringValue ?? "TCP")"
            }.joined(separator: ",")
            let serviceSelector = (o[path: ["spec", "selector"]]?.mappingValue?.entries ?? []).map { "\($0.key)=\($0.value.stringValue ?? "")" }
                .joined(separator: ",")
            let type = o[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
            return [name, .string(type), .string(o[path: ["spec", "clusterIP"]]?.stringValue ?? "<none>"),
                    .string(type == "ExternalName" ? o[path: ["spec", "externalName"]]?.stringValue ?? "<none>" : "<none>"),
                    .string(ports.isEmpty ? "<none>" : ports), age, .string(serviceSelector.isEmpty ? "<none>" : serviceSelector)]
        case ("", "Endpoints"):
            var addresses: [String] = []
            for subset in o["subsets"]?.sequenceValue ?? [] {
                let ports = (subset["ports"]?.sequenceValue ?? []).compactMap { $0["port"]?.intValue }
                for address in subset["addresses"]?.sequenceValue ?? [] {
                    let ip = address["ip"]?.stringValue ?? ""
                    addresses += ports.isEmpty ? [ip] : ports.map { "\(ip):\($0)" }
                }
            }
            let shown = addresses.prefix(3).joined(separator: ",") + (addresses.count > 3 ? " + \(addresses.count - 3) more..." : "")
            return [name, .string(addresses.isEmpty ? "<none>" : shown), age]
        case ("", "Node"):
            let ready = o[path: ["status", "conditions"]]?.sequenceValue?.first { $0["type"] == "Ready" }?["status"]?.stringValue == "True"
            var status = ready ? "Ready" : "NotReady"
            if o[path: ["spec", "unschedulable"]]?.boolValue == true { status += ",SchedulingDisabled" }
            let address = (o[path: ["status", "addresses"]]?.sequenceValue ?? []).first { $0["type"] == "InternalIP" }?["address"]?.stringValue
            return [name, .string(status), "<none>", age, "v1.32.0-windlass", .string(address ?? "<none>"), "<none>", "Windlass embedded node",
                    "<unknown>", "windlass://simulated"]
        case ("", "Namespace"):
            return [name, .string(o[path: ["status", "phase"]]?.stringValue ?? "Active"), age]
        case ("", "ConfigMap"):
            return [name, .int((o["data"]?.mappingValue?.count ?? 0) + (o["binaryData"]?.mappingValue?.count ?? 0)), age]
        case ("", "Secret"):
            return [name, .string(o["type"]?.stringValue ?? "Opaque"), .int((o["data"]?.mappingValue?.count ?? 0)), age]
        case ("", "ServiceAccount"):
            return [name, .int(o["secrets"]?.sequenceValue?.count ?? 0), age]
        case ("", "PersistentVolumeClaim"):
            let modes = (o[path: ["spec", "accessModes"]]?.sequenceValue ?? []).compactMap(\.stringValue).map(accessModeShort).joined(separator: ",")
            return [name, .string(o[path: ["status", "phase"]]?.stringValue ?? "Pending"), s("spec", "volumeName"),
                    .string(o[path: ["status", "capacity", "storage"]]?.stringValue ?? ""), .string(modes),
                    .string(o[path: ["spec", "storageClassName"]]?.stringValue ?? "<unset>"), age,
                    .string(o[path: ["spec", "volumeMode"]]?.stringValue ?? "Filesystem")]
        case ("", "Event"), ("events.k8s.io", "Event"):
            let last = o["lastTimestamp"]?.stringValue ?? o["eventTime"]?.stringValue ?? o[path: ["metadata", "creationTimestamp"]]?.stringValue
            let first = o["firstTimestamp"]?.stringValue ?? last
            let involved = o["involvedObject"] ?? o["regarding"] ?? .null
            let object = (involved["kind"]?.stringValue ?? "").lowercased() + "/" + (involved["name"]?.stringValue ?? "")
            let source = o[path: ["source", "component"]]?.stringValue ?? o["reportingController"]?.stringValue ?? ""
            return [.string(last.flatMap(Timestamp.parse).map { duration(now - $0) } ?? "<unknown>"), s("type"), s("reason"), .string(object),
                    s("involvedObject", "fieldPath"), .string(source), .string(o["message"]?.stringValue ?? o["note"]?.stringValue ?? ""),
                    .string(first.flatMap(Timestamp.parse).map { duration(now - $0) } ?? "<unknown>"), .int(o["count"]?.intValue ?? 1), name]
        case ("batch", "Job"):
            let completions = o[path: ["spec", "completions"]]?.intValue ?? 1
            let conditions = o[path: ["status", "conditions"]]?.sequenceValue ?? []
            let done = conditions.contains { $0["type"] == "Complete" && $0["status"] == "True" }
            let failed = conditions.contains { $0["type"] == "Failed" && $0["status"] == "True" }
            let status = done ? "Complete" : failed ? "Failed" : "Running"
            var durationText = ""
            if let start = o[path: ["status", "startTime"]]?.stringValue.flatMap(Timestamp.parse) {
                let end = o[path: ["status", "completionTime"]]?.stringValue.flatMap(Timestamp.parse) ?? now
                durationText = duration(end - start)
            }
            return [name, .string(status), .string("\(o[path: ["status", "succeeded"]]?.intValue ?? 0)/\(completions)"), .string(durationText), age,
                    containerNames, images, selector]
        case ("batch", "CronJob"):
            let jobContainers = o[path: ["spec", "jobTemplate", "spec", "template", "spec", "containers"]]?.sequenceValue ?? []
            let last = o[path: ["status", "lastScheduleTime"]]?.stringValue.flatMap(Timestamp.parse).map { duration(now - $0) } ?? "<none>"
            return [name, s("spec", "schedule"), .string(o[path: ["spec", "suspend"]]?.boolValue == true ? "True" : "False"),
                    .int(o[path: ["status", "active"]]?.sequenceValue?.count ?? 0), .string(last), age,
                    .string(jobContainers.compactMap { $0["name"]?.stringValue }.joined(separator: ",")),
                    .string(jobContainers.compactMap { $0["image"]?.stringValue }.joined(separator: ",")), "<none>"]
        case ("policy", "PodDisruptionBudget"):
            func text(_ key: String) -> Value { .string(o[path: ["spec", key]].map { $0.stringValue ?? $0.intValue.map(String.init) ?? "" } ?? "N/A") }
            return [name, text("minAvailable"), text("maxUnavailable"), .string("\(o[path: ["status", "disruptionsAllowed"]]?.intValue ?? 0)"), age]
        case ("coordination.k8s.io", "Lease"):
            return [name, s("spec", "holderIdentity"), age]
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            return [name, s("metadata", "creationTimestamp")]
        case ("kubevirt.io", "VirtualMachine"):
            return [name, age, .string(o[path: ["status", "printableStatus"]]?.stringValue ?? "Stopped"),
                    .string(o[path: ["status", "ready"]]?.boolValue == true ? "True" : "False")]
        case ("kubevirt.io", "VirtualMachineInstance"):
            let ready = o[path: ["status", "conditions"]]?.sequenceValue?.first { $0["type"] == "Ready" }?["status"]?.stringValue ?? "False"
            let ip = o[path: ["status", "interfaces"]]?.sequenceValue?.first?["ipAddress"]?.stringValue ?? ""
            return [name, age, s("status", "phase"), .string(ip), s("status", "nodeName"), .string(ready)]
        default:
            return [name, age]
        }
    }

    /// The table of `objects` of one kind, as kubectl prints it: the columns of priority 0 (all
    /// of them when `wide`), headers in capitals. With `namePrefix` (`deployment.apps/`),
    /// names are written as kubectl writes them when it lists several kinds at once.
    public static func render(
        _ objects: [Value], kind: GroupKind, allNamespaces: Bool, wide: Bool, now: Double, namePrefix: String = "", printerColumns: [Value]? = nil
    ) -> String {
        let all = columns(for: kind, printerColumns: printerColumns)
        let shown = all.indices.filter { wide || all[$0].priority == 0 }
        var header = shown.map { all[$0].name.uppercased() }
        var rows: [[String]] = objects.map { object in
            let cells = Self.cells(object, kind: kind, columns: all, printerColumns: printerColumns, now: now)
            return shown.map { index in
                let text = index < cells.count ? cellText(cells[index]) : ""
                return all[index].format == "name" ? namePrefix + text : text
            }
        }
        if allNamespaces {
            header.insert("NAMESPACE", at: 0)
            for (index, object) in objects.enumerated() {
                rows[index].insert(object[path: ["metadata", "namespace"]]?.stringValue ?? "", at: 0)
            }
        }
        return columns([header] + rows)
    }

    /// A cell as kubectl prints it: `<none>` for a missing value.
    public static func cellText(_ cell: Value) -> String {
        if cell.isNull { return "<none>" }
        if let string = cell.stringValue { return string }
        if let int = cell.intValue { return String(int) }
        if let bool = cell.boolValue { return bool ? "true" : "false" }
        if let double = cell.doubleValue { return String(double) }
        return JSONWriter().write(cell)
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

    /// `45s`, `12m`, `3h`, `2d`, as kubectl prints ages.
    public static func age(_ object: Value, now: Double) -> String {
        guard let created = object[path: ["metadata", "creationTimestamp"]]?.stringValue.flatMap(Timestamp.parse) else { return "<unknown>" }
        return duration(now - created)
    }

    /// A duration as kubectl prints one (`45s`, `5m3s`, `12m`, `3h20m`, `20h`, `2d4h`, `30d`).
    public static func duration(_ interval: Double) -> String {
        let seconds = max(0, Int(interval))
        let minutes = seconds / 60
        let hours = seconds / 3600
        func pair(_ big: Int, _ bigUnit: String, _ small: Int, _ smallUnit: String) -> String {
            small == 0 ? "\(big)\(bigUnit)" : "\(big)\(bigUnit)\(small)\(smallUnit)"
        }
        if seconds < 120 { return "\(seconds)s" }
        if minutes < 10 { return pair(minutes, "m", seconds % 60, "s") }
        if minutes < 180 { return "\(minutes)m" }
        if hours < 8 { return pair(hours, "h", minutes % 60, "m") }
        if hours < 48 { return "\(hours)h" }
        if hours < 192 { return pair(hours / 24, "d", hours % 24, "h") }
        return "\(hours / 24)d"
    }

    static func selectorText(_ selector: Value?) -> String {
        guard let selector, (try? LabelSelector(selector)) != nil else { return "<none>" }
        var terms = (selector["matchLabels"]?.mappingValue?.entries ?? []).map { "\($0.key)=\($0.value.stringValue ?? "")" }
        for expression in selector["matchExpressions"]?.sequenceValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let values = (expression["values"]?.sequenceValue ?? []).compactMap(\.stringValue).joined(separator: ",")
            switch expression["operator"]?.stringValue {
            case "In": terms.append("\(key) in (\(values))")
            case "NotIn": terms.append("\(key) notin (\(values))")
            case "Exists": terms.append(key)
            case "DoesNotExist": terms.append("!" + key)
            default: break
            }
        }
        return terms.isEmpty ? "<none>" : terms.joined(separator: ",")
    }

    static func accessModeShort(_ mode: String) -> String {
        switch mode {
        case "ReadWriteOnce": return "RWO"
        case "ReadOnlyMany": return "ROX"
        case "ReadWriteMany": return "RWX"
        case "ReadWriteOncePod": return "RWOP"
        default: return mode
        }
    }
}

/// The JSONPath subset of `additionalPrinterColumns`: `.a.b`, `.a[0]`, `.a[?(@.type=="Ready")].status`.
public enum JSONPathLite {
    public static func evaluate(_ path: String, in object: Value) -> Value? {
        var current: [Value] = [object]
        var text = Substring(path.hasPrefix("{") && path.hasSuffix("}") ? String(path.dropFirst().dropLast()) : path)
        while !text.isEmpty {
            if text.hasPrefix(".") {
                text = text.dropFirst()
                let end = text.firstIndex { $0 == "." || $0 == "[" } ?? text.endIndex
                let key = String(text[..<end])
                text = text[end...]
                current = current.compactMap { $0[key] }
            } else if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]") else { return nil }
                let inside = text[text.index(after: text.startIndex)..<close]
                text = text[text.index(after: close)...]
                if let index = Int(inside) {
                    current = current.compactMap { item in item.sequenceValue.flatMap { index < $0.count ? $0[index] : nil } }
                } else if inside.hasPrefix("?(@."), inside.hasSuffix(")"), let equals = inside.firstRange(of: "==") {
                    let key = String(inside[inside.index(inside.startIndex, offsetBy: 4)..<equals.lowerBound])
                    var wanted = String(inside[equals.upperBound...].dropLast())
                    if wanted.count >= 2, wanted.first == "\"" || wanted.first == "'" { wanted = String(wanted.dropFirst().dropLast()) }
                    current = current.flatMap { ($0.sequenceValue ?? []).filter { $0[key]?.stringValue == wanted || $0[key]?.scalarText == wanted } }
                } else if inside == "*" {
                    current = current.flatMap { $0.sequenceValue ?? [] }
                } else {
                    return nil
                }
            } else {
                return nil
            }
        }
        return current.first
    }
}
