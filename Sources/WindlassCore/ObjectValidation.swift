import WindlassCluster
import WindlassManifest

/// The checks the API server makes on write: names, workload selectors, and fields that may not
/// change once set.
enum ObjectValidation {
    static func validate(_ object: Value, id: ResourceID, previous: Value?, customSchema: Value? = nil) throws(ClusterError) {
        var causes: [ClusterError.Cause] = []
        // A custom resource is checked against its definition's schema, as the API server does.
        if let customSchema {
            for problem in ManifestValidator.problems(in: object, kind: id.groupVersionKind, customSchema: customSchema) {
                causes.append(.init(field: problem.field, message: "Invalid value: " + problem.message))
            }
        }
        if let problem = NameRules.objectName(id.name, kind: id.groupKind) {
            causes.append(.init(field: "metadata.name", message: "Invalid value: \"\(id.name)\": \(problem)"))
        }
        if id.group == "apps", ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"].contains(id.kind) {
            workload(object, causes: &causes)
        }
        if id.group == "kubevirt.io", id.kind == "VirtualMachine", object[path: ["spec", "running"]] != nil, object[path: ["spec", "runStrategy"]] != nil {
            // KubeVirt's admission refuses both: one decides whether the VM runs.
            causes.append(.init(field: "spec.running", message: "Invalid value: running and runStrategy are mutually exclusive"))
        }
        if let previous {
            for path in ImmutableFields.paths(for: id.groupKind) where previous[path: path] != nil && previous[path: path] != object[path: path] {
                causes.append(.init(field: path.joined(separator: "."), message: "field is immutable"))
            }
        }
        guard causes.isEmpty else {
            let kind = id.group.isEmpty ? id.kind : "\(id.kind).\(id.group)"
            let details = causes.map { "\($0.field): \($0.message)" }.joined(separator: ", ")
            throw ClusterError(.invalid, "\(kind) \"\(id.name)\" is invalid: \(details)", causes: causes)
        }
    }

    private static func workload(_ object: Value, causes: inout [ClusterError.Cause]) {
        guard let selectorValue = object[path: ["spec", "selector"]], !selectorValue.isNull else {
            causes.append(.init(field: "spec.selector", message: "Required value"))
            return
        }
        let selector: LabelSelector
        do {
            selector = try LabelSelector(selectorValue)
        } catch {
            causes.append(.init(field: "spec.selector", message: error.message))
            return
        }
        if selector.isEmpty {
            causes.append(.init(field: "spec.selector", message: "Invalid value: empty selector is invalid for a workload"))
            return
        }
        let labels = ObjectStore.labels(of: object[path: ["spec", "template"]] ?? .null)
        if !selector.matches(labels) {
            causes.append(.init(field: "spec.template.metadata.labels", message: "Invalid value: selector does not match template labels"))
        }
    }
}
