public import WindlassManifest

/// How a plan is made.
public struct PlanOptions: Sendable {
    /// The application whose objects the plan manages (its tracking id and label).
    public var application: String
    /// The field manager a sync applies as.
    public var fieldManager: String
    /// Whether objects gone from git are deleted.
    public var prune: Bool
    /// Whether an empty set of manifests may prune everything.
    public var allowEmpty: Bool
    /// Differences that are not drift.
    public var ignoreDifferences: [IgnoreRule]
    /// How Secret values are hidden (keyed by the installation).
    public var secretMask: SecretMask
    /// Whether objects another application tracks are taken over (`--take-ownership`); else a
    /// plan shows them as conflicts and a sync refuses them.
    public var takeOwnership = false
    /// `CreateNamespace=true`: a namespace the objects need that does not exist is created
    /// (before them, untracked, as Argo CD creates it); else the plan warns and a sync refuses.
    public var createNamespace = false
    /// `plan --server-dry-run`: what the API server answered a dry-run apply of each object
    /// (its defaulting, admission and mutating webhooks applied), used instead of the
    /// prediction.
    public var serverResults: [ResourceID: Value] = [:]

    public init(
        application: String = "default",
        fieldManager: String = "windlass",
        prune: Bool = true,
        allowEmpty: Bool = false,
        ignoreDifferences: [IgnoreRule] = [],
        secretMask: SecretMask = SecretMask(key: [])
    ) {
        self.application = application
        self.fieldManager = fieldManager
        self.prune = prune
        self.allowEmpty = allowEmpty
        self.ignoreDifferences = ignoreDifferences
        self.secretMask = secretMask
    }
}

/// An `ignoreDifferences` rule as Argo CD writes it: which objects (every field optional, names
/// and namespaces may use `*` globs) and which JSON pointers to ignore in them.
public struct IgnoreRule: Sendable, Hashable {
    public var group: String?
    public var kind: String?
    public var name: String?
    public var namespace: String?
    public var pointers: [JSONPointer]

    public init(group: String? = nil, kind: String? = nil, name: String? = nil, namespace: String? = nil, pointers: [JSONPointer]) {
        self.group = group
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.pointers = pointers
    }

    public func matches(_ id: ResourceID) -> Bool {
        if let group, group != id.group { return false }
        if let kind, kind != id.kind { return false }
        if let name, !Glob.matches(name, id.name) { return false }
        if let namespace, !Glob.matches(namespace, id.namespace ?? "") { return false }
        return true
    }
}

/// An RFC 6901 JSON pointer: `/spec/replicas`, `/metadata/annotations/a~1b`,
/// `/spec/template/spec/containers/0/image`.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public var tokens: [String]

    public struct ParseError: Error, Sendable {
        public var message: String
    }

    public init(parsing text: String) throws(ParseError) {
        if text.isEmpty {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else {
            throw ParseError(message: "JSON pointer \"\(text)\" must start with \"/\"")
        }
        var out: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var iterator = raw.makeIterator()
            while let c = iterator.next() {
                guard c == "~" else {
                    token.append(c)
                    continue
                }
                switch iterator.next() {
                case "0": token.append("~")
                case "1": token.append("/")
                default: throw ParseError(message: "JSON pointer \"\(text)\" has a \"~\" not followed by 0 or 1")
                }
            }
            out.append(token)
        }
        tokens = out
    }

    public var description: String {
        tokens.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
    }

    /// `value` with what the pointer names removed (a list index removes that item).
    func removing(from value: Value) -> Value {
        var out = value
        Self.remove(tokens[...], from: &out)
        return out
    }

    private static func remove(_ tokens: ArraySlice<String>, from value: inout Value) {
        guard let token = tokens.first else { return }
        let rest = tokens.dropFirst()
        switch value.content {
        case .mapping(var mapping):
            guard var child = mapping[token] else { return }
            if rest.isEmpty {
                mapping[token] = nil
            } else {
                remove(rest, from: &child)
                mapping[token] = child
            }
            value.content = .mapping(mapping)
        case .sequence(var items):
            guard let index = Int(token), items.indices.contains(index) else { return }
            if rest.isEmpty {
                items.remove(at: index)
            } else {
                remove(rest, from: &items[index])
            }
            value.content = .sequence(items)
        default:
            return
        }
    }
}
