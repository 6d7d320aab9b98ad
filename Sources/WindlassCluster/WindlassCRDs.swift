public import WindlassManifest

/// The CustomResourceDefinitions of Windlass's own kinds (RolloutStrategy, AnalysisTemplate,
/// Policy, PolicyException), for a Kubernetes cluster: the embedded cluster serves these kinds
/// itself, a real cluster needs them installed (`windlass crds | kubectl apply --server-side -f -`).
/// Names, scope and short names come from the built-in REST mapping, so both clusters serve the
/// kinds alike. Windlass checks the documents itself when it reads them (with located
/// errors); the schemas describe their shape for `kubectl explain` and keep the API server
/// from pruning fields Windlass reads.
public enum WindlassCRDs {
    public static let group = "windlass.dev"

    /// The four definitions, in the order they are installed.
    public static var all: [Value] {
        RESTMapping.builtIn.resources.filter { $0.group == group }.map(definition)
    }

    /// The kinds they declare.
    public static var kinds: Set<GroupKind> {
        Set(RESTMapping.builtIn.resources.filter { $0.group == group }.map(\.groupKind))
    }

    static func definition(_ resource: APIResource) -> Value {
        var names: Value = [
            "kind": .string(resource.kind), "listKind": .string(resource.kind + "List"), "plural": .string(resource.name),
            "singular": .string(resource.singularName), "categories": ["windlass"],
        ]
        if !resource.shortNames.isEmpty { names.set(.sequence(resource.shortNames.map(Value.string)), at: ["shortNames"]) }
        let (description, spec, columns) = shape(of: resource.kind)
        var version: Value = [
            "name": .string(resource.version), "served": true, "storage": true,
            "schema": [
                "openAPIV3Schema": [
                    "type": "object", "description": .string(description),
                    "properties": [
                        "apiVersion": ["type": "string"], "kind": ["type": "string"], "metadata": ["type": "object"], "spec": spec,
                        "status": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
                    ],
                ]
            ],
        ]
        version.set(.sequence(columns + [["name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"]]), at: ["additionalPrinterColumns"])
        return [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": [
                "name": .string("\(resource.name).\(resource.group)"),
                "labels": ["app.kubernetes.io/name": "windlass", "app.kubernetes.io/component": "crds"],
            ],
            "spec": [
                "group": .string(resource.group), "names": names, "scope": resource.namespaced ? "Namespaced" : "Cluster",
                "versions": .sequence([version]),
            ],
        ]
    }

    /// A property of `type`, with a description.
    static func field(_ type: String, _ description: String) -> Value {
        ["type": .string(type), "description": .string(description)]
    }

    /// An object whose contents Windlass checks itself (kept as written).
    static func open(_ description: String) -> Value {
        ["type": "object", "description": .string(description), "x-kubernetes-preserve-unknown-fields": true]
    }

    static func list(_ description: String) -> Value {
        ["type": "array", "description": .string(description), "items": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]
    }

    static func spec(_ properties: Mapping, required: [String] = []) -> Value {
        var spec: Value = ["type": "object", "properties": .mapping(properties), "x-kubernetes-preserve-unknown-fields": true]
        if !required.isEmpty { spec.set(.sequence(required.map(Value.string)), at: ["required"]) }
        return spec
    }

    static func column(_ name: String, _ path: String) -> Value {
        ["name": .string(name), "type": "string", "jsonPath": .string(path)]
    }

    static func shape(of kind: String) -> (String, Value, [Value]) {
        switch kind {
        case "RolloutStrategy":
            var properties = Mapping()
            properties["targetRef"] = [
                "type": "object", "description": "The workload the strategy rolls out: a Deployment or StatefulSet in the same namespace.",
                "required": ["kind", "name"],
                "properties": ["apiVersion": field("string", "apps/v1 when absent."), "kind": field("string", "Deployment or StatefulSet."), "name": field("string", "The workload's name.")],
            ]
            properties["canary"] = open("The canary's steps (setWeight, pause, analysis), background analysis and abort settings.")
            return (
                "How Windlass rolls out a new version of a workload: a canary beside the stable version, its steps and analysis gates.",
                spec(properties, required: ["targetRef"]), [column("Target", ".spec.targetRef.name")]
            )
        case "AnalysisTemplate":
            var properties = Mapping()
            properties["args"] = list("Arguments the metrics' queries refer to as {{args.NAME}}.")
            properties["metrics"] = list("The measurements: a provider (prometheus, web, health), an interval, a count and success or failure conditions.")
            return ("Measurements a canary step or background analysis takes, and what makes them pass.", spec(properties, required: ["metrics"]), [])
        case "Policy":
            var properties = Mapping()
            properties["failureAction"] = ["type": "string", "description": "Enforce refuses a sync that fails the policy; Audit reports it.", "enum": ["Enforce", "Audit"]]
            properties["rules"] = list("Rules: match and exclude, then validate with a pattern, anyPattern or deny conditions.")
            return ("A rule set every plan is judged by before it is applied (Kyverno's validate rules).", spec(properties, required: ["rules"]), [column("Action", ".spec.failureAction")])
        default:
            var properties = Mapping()
            properties["exceptions"] = list("The policies (and optionally rules) excepted.")
            properties["match"] = open("The resources the exception covers.")
            return ("Lets named resources through named policies; every plan shows the exception it used.", spec(properties, required: ["exceptions", "match"]), [])
        }
    }
}
