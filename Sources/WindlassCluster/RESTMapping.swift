public import WindlassManifest

/// One resource a cluster serves, as discovery describes it (`kubectl api-resources`): its
/// kind, the name it has in URLs, whether it lives in a namespace, what can be done to it.
public struct APIResource: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    /// The plural name in URLs and messages: `deployments`.
    public var name: String
    public var singularName: String
    public var namespaced: Bool
    public var verbs: [String]
    public var shortNames: [String]
    /// `all` for the kinds `kubectl get all` lists.
    public var categories: [String]
    /// `status`, `scale`, …
    public var subresources: [String]

    public init(
        group: String, version: String, kind: String, name: String, singularName: String? = nil, namespaced: Bool,
        verbs: [String] = APIResource.standardVerbs, shortNames: [String] = [], categories: [String] = [], subresources: [String] = []
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.name = name
        self.singularName = singularName ?? kind.lowercased()
        self.namespaced = namespaced
        self.verbs = verbs
        self.shortNames = shortNames
        self.categories = categories
        self.subresources = subresources
    }

    /// What an API server lets a client do to most resources.
    public static let standardVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    public var groupKind: GroupKind { GroupKind(group: group, kind: kind) }
    public var groupVersionKind: GroupVersionKind { GroupVersionKind(group: group, version: version, kind: kind) }
    /// `deployments.apps`, `services`: how the API server names the resource in messages.
    public var qualifiedName: String { group.isEmpty ? name : "\(name).\(group)" }
}

/// The one mapping between kinds, resource names and scopes: every name a kubectl user types
/// for a kind (plural, singular, short name, kind, each optionally `.group`), the resource name
/// the API server uses in URLs and messages, and whether the kind is namespaced. Built-in
/// kinds come from ``builtIn``; a cluster adds the kinds its CustomResourceDefinitions declare.
public struct RESTMapping: Sendable {
    public private(set) var resources: [APIResource]
    private var byKind: [GroupKind: Int] = [:]

    public init(_ resources: [APIResource]) {
        self.resources = []
        for resource in resources { add(resource) }
    }

    /// Adds a resource, replacing one of the same kind.
    public mutating func add(_ resource: APIResource) {
        if let index = byKind[resource.groupKind] {
            resources[index] = resource
        } else {
            byKind[resource.groupKind] = resources.count
            resources.append(resource)
        }
    }

    /// Adds the resource a CustomResourceDefinition declares (its served storage version, its
    /// names and scope); a definition without a group or names adds nothing.
    public mutating func register(crd: Value) {
        guard let spec = crd["spec"], let group = spec["group"]?.stringValue, let names = spec["names"], let kind = names["kind"]?.stringValue
        else { return }
        let plural = names["plural"]?.stringValue ?? Self.guessedPlural(kind)
        let versions = spec["versions"]?.sequenceValue ?? []
        let version = (versions.first { $0["storage"]?.boolValue == true } ?? versions.first)?["name"]?.stringValue ?? "v1"
        let subresources = versions.first { $0["name"]?.stringValue == version }?["subresources"]?.mappingValue?.entries.map(\.key) ?? []
        add(
            APIResource(
                group: group, version: version, kind: kind, name: plural, singularName: names["singular"]?.stringValue,
                namespaced: spec["scope"]?.stringValue != "Cluster",
                shortNames: (names["shortNames"]?.sequenceValue ?? []).compactMap(\.stringValue),
                categories: (names["categories"]?.sequenceValue ?? []).compactMap(\.stringValue), subresources: subresources.sorted()))
    }

    /// The resource of a kind.
    public func resource(for kind: GroupKind) -> APIResource? {
        byKind[kind].map { resources[$0] }
    }

    /// The resource a name stands for, as kubectl resolves it: `deploy`, `deployments`,
    /// `deployment`, `Deployment`, `deployments.apps`, `deploy.apps`; nil when nothing matches.
    /// A name of several kinds (a custom resource named like a built-in one) prefers the
    /// built-in group, as kubectl prefers the core groups.
    public func resolve(_ name: String) -> APIResource? {
        let lower = name.lowercased()
        var candidates: [(bare: String, group: String?)] = [(lower, nil)]
        if let dot = lower.firstIndex(of: ".") {
            candidates.insert((String(lower[..<dot]), String(lower[lower.index(after: dot)...])), at: 0)
        }
        for (bare, group) in candidates {
            let matches = resources.filter { resource in
                (group == nil || resource.group == group)
                    && (resource.name == bare || resource.singularName == bare || resource.kind.lowercased() == bare || resource.shortNames.contains(bare))
            }
            if let first = matches.first { return first }
        }
        return nil
    }

    /// The resources in a category (`all`), in the order kubectl lists them.
    public func resources(inCategory category: String) -> [APIResource] {
        resources.filter { $0.categories.contains(category) }
    }

    /// Whether a kind has no namespace; an unknown kind is namespaced, as an unknown custom
    /// resource most likely is.
    public func isClusterScoped(_ kind: GroupKind) -> Bool {
        resource(for: kind).map { !$0.namespaced } ?? false
    }

    /// `deployments.apps`: how the API server names a kind's resource in messages. An unknown
    /// kind gets the lower-case plural the API machinery guesses.
    public func qualifiedName(of kind: GroupKind) -> String {
        if let resource = resource(for: kind) { return resource.qualifiedName }
        let plural = Self.guessedPlural(kind.kind)
        return kind.group.isEmpty ? plural : "\(plural).\(kind.group)"
    }

    /// `deployment.apps/web`, `service/web`: how kubectl names an object in its output.
    public static func reference(_ id: ResourceID) -> String {
        let kind = id.kind.lowercased()
        return (id.group.isEmpty ? kind : "\(kind).\(id.group)") + "/" + id.name
    }

    /// The id of `name` of a resource, in `namespace` unless the resource is cluster-scoped.
    public static func id(_ resource: APIResource, name: String, namespace: String) -> ResourceID {
        ResourceID(resource.groupVersionKind, namespace: resource.namespaced ? namespace : nil, name: name)
    }

    /// The plural the API machinery makes of a kind (`NetworkPolicy` → `networkpolicies`).
    public static func guessedPlural(_ kind: String) -> String {
        let lower = kind.lowercased()
        if lower.hasSuffix("y"), !lower.hasSuffix("ey") { return lower.dropLast() + "ies" }
        if lower.hasSuffix("s") || lower.hasSuffix("x") || lower.hasSuffix("ch") || lower.hasSuffix("sh") { return lower + "es" }
        return lower + "s"
    }
}
