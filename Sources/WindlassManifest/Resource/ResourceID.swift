/// An API group, version and kind, as `apiVersion` and `kind` spell them.
public struct GroupVersionKind: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The API group; empty for the core group (`v1`).
    public var group: String
    public var version: String
    public var kind: String

    public init(group: String, version: String, kind: String) {
        self.group = group
        self.version = version
        self.kind = kind
    }

    /// Splits `apiVersion` (`apps/v1` or `v1`).
    public init(apiVersion: String, kind: String) {
        if let slash = apiVersion.firstIndex(of: "/") {
            group = String(apiVersion[..<slash])
            version = String(apiVersion[apiVersion.index(after: slash)...])
        } else {
            group = ""
            version = apiVersion
        }
        self.kind = kind
    }

    /// `apps/v1` or `v1`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The group and kind, which identify a type across its versions.
    public var groupKind: GroupKind { GroupKind(group: group, kind: kind) }

    public var description: String { "\(apiVersion) \(kind)" }
}

/// An API group and kind: what identifies a type whatever version it is served at.
public struct GroupKind: Sendable, Hashable, Codable, CustomStringConvertible {
    public var group: String
    public var kind: String

    public init(group: String, kind: String) {
        self.group = group
        self.kind = kind
    }

    /// `apps/Deployment`, or `Service` for the core group.
    public var description: String { group.isEmpty ? kind : "\(group)/\(kind)" }
}

/// Identifies one object in a cluster: group, kind, namespace and name, plus the version it
/// was written in.
///
/// The version does not take part in equality or hashing: the API server stores one object and
/// serves it at every version, so `apps/v1` and `apps/v1beta2` Deployments named `web` in
/// `shop` are the same object.
public struct ResourceID: Sendable, Codable, Comparable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var kind: String
    /// nil for cluster-scoped objects.
    public var namespace: String?
    public var name: String

    public init(group: String, version: String, kind: String, namespace: String?, name: String) {
        self.group = group
        self.version = version
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public init(_ gvk: GroupVersionKind, namespace: String?, name: String) {
        self.init(group: gvk.group, version: gvk.version, kind: gvk.kind, namespace: namespace, name: name)
    }

    public var groupVersionKind: GroupVersionKind { GroupVersionKind(group: group, version: version, kind: kind) }
    public var groupKind: GroupKind { GroupKind(group: group, kind: kind) }
    public var apiVersion: String { groupVersionKind.apiVersion }

    /// The address used in plans and reports: `[group/]Kind/[namespace/]name`, e.g.
    /// `apps/Deployment/shop/web`, `Service/shop/web`, `Namespace/shop`.
    public var description: String {
        var out = group.isEmpty ? kind : "\(group)/\(kind)"
        if let namespace { out += "/\(namespace)" }
        return out + "/\(name)"
    }

    /// Orders by group, kind, namespace (cluster-scoped first) and name.
    public static func < (lhs: ResourceID, rhs: ResourceID) -> Bool {
        (lhs.group, lhs.kind, lhs.namespace ?? "", lhs.name) < (rhs.group, rhs.kind, rhs.namespace ?? "", rhs.name)
    }
}

extension ResourceID: Hashable {
    public static func == (lhs: ResourceID, rhs: ResourceID) -> Bool {
        lhs.name == rhs.name && lhs.kind == rhs.kind && lhs.namespace == rhs.namespace && lhs.group == rhs.group
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(group)
        hasher.combine(kind)
        hasher.combine(namespace)
        hasher.combine(name)
    }
}
