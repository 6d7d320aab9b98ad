public import WindlassManifest

/// `kubectl describe`-like text: identity, labels and annotations, health, spec and status as
/// YAML, and the object's events.
public enum ObjectDescription {
    public static func render(_ object: Value, events: [ClusterEvent], now: Double) -> String {
        var out = ""
        func line(_ label: String, _ value: String) {
            out += label + ":" + String(repeating: " ", count: max(1, 14 - label.count)) + value + "\n"
        }
        line("Name", object[path: ["metadata", "name"]]?.stringValue ?? "")
        if let namespace = object[path: ["metadata", "namespace"]]?.stringValue { line("Namespace", namespace) }
        line("Kind", "\(object["kind"]?.stringValue ?? "") (\(object["apiVersion"]?.stringValue ?? ""))")
        line("Created", object[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "<unknown>")
        for (label, key) in [("Labels", "labels"), ("Annotations", "annotations")] {
            let entries = object[path: ["metadata", key]]?.mappingValue?.entries ?? []
            let text = entries.map { "\($0.key)=\($0.value.stringValue ?? $0.value.description)" }
            line(label, text.isEmpty ? "<none>" : text.joined(separator: "\n" + String(repeating: " ", count: 15)))
        }
        if let health = HealthAssessor.assess(object) { line("Health", health.description) }
        for section in ["spec", "status"] {
            guard let value = object[section], !value.isNull else { continue }
            out += section.prefix(1).uppercased() + section.dropFirst() + ":\n"
            let body = YAMLWriter(sortKeys: true).write(value)
            for text in body.split(separator: "\n", omittingEmptySubsequences: false) where !text.isEmpty {
                out += "  " + text + "\n"
            }
        }
        out += "Events:"
        guard !events.isEmpty else { return out + "        <none>\n" }
        out += "\n"
        var rows = [["  Type", "Reason", "Age", "Message"], ["  ----", "------", "---", "-------"]]
        for event in events {
            let age = ObjectTable.age(["metadata": ["creationTimestamp": .string(Timestamp.rfc3339(event.lastTime))]], now: now)
            let count = event.count > 1 ? " (x\(event.count))" : ""
            rows.append(["  " + event.kind.rawValue, event.reason, age + count, event.message])
        }
        return out + ObjectTable.columns(rows)
    }
}
