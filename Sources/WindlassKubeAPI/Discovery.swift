import WindlassCluster
import WindlassManifest

/// The discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}`) of a
/// cluster's REST mapping, plus the review resources the API server itself answers.
struct Discovery {
    let mapping: RESTMapping

    /// The version `/version` reports; kubectl's dispatcher on these machines runs the kubectl
    /// of the same minor version.
    static let minorVersion = "32"
    static let gitVersion = "v1.\(minorVersion).0-windlass"

    /// The resources the server answers itself, beside the cluster's.
    static let reviews: [APIResource] = [
        APIResource(group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview", name: "selfsubjectaccessreviews",
            namespaced: false, verbs: ["create"]),
        APIResource(group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectRulesReview", name: "selfsubjectrulesreviews",
            namespaced: false, verbs: ["create"]),
        APIResource(group: "authentication.k8s.io", version: "v1", kind: "SelfSubjectReview", name: "selfsubjectreviews",
            namespaced: false, verbs: ["create"]),
        APIResource(group: "events.k8s.io", version: "v1", kind: "Event", name: "events", namespaced: true,
            verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"], shortNames: ["ev"]),
    ]

    var resources: [APIResource] { mapping.resources + Self.reviews }

    /// The resource `name` of a group-version, if served.
    func resource(group: String, version: String, name: String) -> APIResource? {
        resources.first { $0.group == group && $0.version == version && $0.name == name }
    }

    static var version: Value {
        [
            "major": "1", "minor": .string(minorVersion), "gitVersion": .string(gitVersion), "gitCommit": "windlass",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "n/a", "compiler": "swift", "platform": "linux/amd64",
        ]
    }

    func coreVersions(serverAddress: String) -> Value {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ]
    }

    /// The groups other than core, each with its one served version, in the order first seen.
    var groupNames: [(group: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: [String]] = [:]
        for resource in resources where !resource.group.isEmpty {
            if versions[resource.group] == nil { order.append(resource.group) }
            if !(versions[resource.group] ?? []).contains(resource.version) { versions[resource.group, default: []].append(resource.version) }
        }
        return order.map { ($0, versions[$0] ?? []) }
    }

    func groupList() -> Value {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .sequence(groupNames.map { Self.group($0.group, versions: $0.versions) })]
    }

    func group(_ name: String) -> Value? {
        guard let entry = groupNames.first(where: { $0.group == name }) else { return nil }
        var document = Self.group(entry.group, versions: entry.versions)
        document.set("APIGroup", at: ["kind"])
        document.set("v1", at: ["apiVersion"])
        return document
    }

    private static func group(_ name: String, versions: [String]) -> Value {
        let list = versions.map { version -> Value in ["groupVersion": .string("\(name)/\(version)"), "version": .string(version)] }
        return ["name": .string(name), "versions": .sequence(list), "preferredVersion": list.first ?? .null]
    }

    /// The APIResourceList of a group-version, subresources included; nil when none is served.
    func resourceList(group: String, version: String) -> Value? {
        let served = resources.filter { $0.group == group && $0.version == version }
        guard !served.isEmpty else { return nil }
        var entries: [Value] = []
        for resource in served {
            var entry: Value = [
                "name": .string(resource.name), "singularName": .string(resource.singularName), "namespaced": .bool(resource.namespaced),
                "kind": .string(resource.kind), "verbs": .sequence(resource.verbs.map { .string($0) }),
            ]
            if !resource.shortNames.isEmpty { entry.set(.sequence(resource.shortNames.map { .string($0) }), at: ["shortNames"]) }
            if !resource.categories.isEmpty { entry.set(.sequence(resource.categories.map { .string($0) }), at: ["categories"]) }
            entries.append(entry)
            for subresource in resource.subresources {
                entries.append(Self.subresourceEntry(subresource, of: resource))
            }
        }
        return [
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
            "resources": .sequence(entries),
        ]
    }

    private static func subresourceEntry(_ subresource: String, of resource: APIResource) -> Value {
        var entry: Value = ["name": .string("\(resource.name)/\(subresource)"), "singularName": "", "namespaced": .bool(resource.namespaced)]
        let (group, version, kind, verbs): (String?, String?, String, [String])
        switch subresource {
        case "scale": (group, version, kind, verbs) = ("autoscaling", "v1", "Scale", ["get", "patch", "update"])
        case "log": (group, version, kind, verbs) = (nil, nil, "Pod", ["get"])
        case "eviction": (group, version, kind, verbs) = ("policy", "v1", "Eviction", ["create"])
        case "binding": (group, version, kind, verbs) = (nil, nil, "Binding", ["create"])
        case "token": (group, version, kind, verbs) = ("authentication.k8s.io", "v1", "TokenRequest", ["create"])
        case "finalize", "approval": (group, version, kind, verbs) = (nil, nil, resource.kind, ["update"])
        default: (group, version, kind, verbs) = (nil, nil, resource.kind, ["get", "patch", "update"])
        }
        if let group { entry.set(.string(group), at: ["group"]) }
        if let version { entry.set(.string(version), at: ["version"]) }
        entry.set(.string(kind), at: ["kind"])
        entry.set(.sequence(verbs.map { .string($0) }), at: ["verbs"])
        return entry
    }
}
