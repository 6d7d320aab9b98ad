public import WindlassKustomize
public import WindlassPlan
import WindlassManifest

/// An application: a source of manifests kept in step with a destination, as an Argo CD
/// `Application` names one. The CLI builds one from its flags, the daemon from each entry of
/// its config; both hand it to an ``ApplicationPipeline``.
public struct Application: Sendable, Hashable {
    /// The application's name; its objects carry it as their tracking label.
    public var name: String
    public var source: Source
    public var destination: Destination
    public var syncOptions: SyncOptions
    /// What judges the manifests.
    public var policies: PolicySource
    /// Differences that are not drift.
    public var ignoreDifferences: [IgnoreRule]

    public init(
        name: String,
        source: Source,
        destination: Destination = Destination(),
        syncOptions: SyncOptions = SyncOptions(),
        policies: PolicySource = .none,
        ignoreDifferences: [IgnoreRule] = []
    ) {
        self.name = name
        self.source = source
        self.destination = destination
        self.syncOptions = syncOptions
        self.policies = policies
        self.ignoreDifferences = ignoreDifferences
    }

    /// Where the manifests are: a directory, a local repository or a remote URL, the revision
    /// to read (nil: `HEAD`) and the directory of manifests inside it.
    public struct Source: Sendable, Hashable {
        public var repository: String
        public var revision: String?
        public var path: String
        /// How kustomizations under the path are rendered.
        public var kustomize: KustomizeSettings

        public init(repository: String, revision: String? = nil, path: String = "manifests", kustomize: KustomizeSettings = KustomizeSettings()) {
            self.repository = repository
            self.revision = revision
            self.path = path
            self.kustomize = kustomize
        }
    }

    /// Where the objects go: the cluster (`embedded`, the default, or a Kubernetes cluster a
    /// kubeconfig's context names) and the namespace of namespaced objects that name none.
    public struct Destination: Sendable, Hashable {
        public var cluster: String
        /// The kubeconfig of a Kubernetes destination (nil with a `context`: the one kubectl
        /// would read, `$KUBECONFIG` or `~/.kube/config`).
        public var kubeconfig: String?
        /// The kubeconfig's context (nil with a `kubeconfig`: its current context).
        public var context: String?
        public var namespace: String
        /// The client's pace for a Kubernetes destination: requests a second and burst (nil:
        /// the client's defaults, 100 and 1,000).
        public var qps: Double?
        public var burst: Int?

        public init(cluster: String = "embedded", kubeconfig: String? = nil, context: String? = nil, namespace: String = "default") {
            self.cluster = cluster
            self.kubeconfig = kubeconfig
            self.context = context
            self.namespace = namespace
        }

        /// Whether the destination is a Kubernetes cluster reached through a kubeconfig.
        public var isKubernetes: Bool { kubeconfig != nil || context != nil }

        /// `kubeconfig ./prod.yaml, context prod`, or the cluster's name.
        public var description: String {
            guard isKubernetes else { return cluster }
            return [kubeconfig.map { "kubeconfig \($0)" }, context.map { "context \($0)" }].compactMap { $0 }.joined(separator: ", ")
        }
    }

    /// How a sync goes: pruning, empty sets, atomic rollback and how long a wave may take.
    public struct SyncOptions: Sendable, Hashable {
        /// Whether objects gone from git are deleted.
        public var prune: Bool
        /// Whether an empty set of manifests may prune every tracked object.
        public var allowEmpty: Bool
        /// Whether a failed sync rolls back to the revision deployed before it.
        public var atomic: Bool
        /// How long one wave may take to become healthy, in seconds.
        public var waveTimeout: Double
        /// Whether objects another application tracks are taken over (else refused).
        public var takeOwnership: Bool
        /// `CreateNamespace=true`: missing namespaces of the objects are created (else a plan
        /// warns and a sync refuses).
        public var createNamespace: Bool

        public init(prune: Bool = true, allowEmpty: Bool = false, atomic: Bool = false, waveTimeout: Double = 300, takeOwnership: Bool = false,
            createNamespace: Bool = false
        ) {
            self.prune = prune
            self.allowEmpty = allowEmpty
            self.atomic = atomic
            self.waveTimeout = waveTimeout
            self.takeOwnership = takeOwnership
            self.createNamespace = createNamespace
        }
    }

    /// The sync options written as Argo CD writes them (`CreateNamespace=true`), applied to
    /// `options`; the problem with the first one that is not known, or nil.
    public static func apply(syncOptions: [String], to options: inout SyncOptions) -> String? {
        for option in syncOptions {
            switch option.trimmingWhitespace() {
            case "CreateNamespace=true": options.createNamespace = true
            case "CreateNamespace=false": options.createNamespace = false
            default: return "unknown sync option \"\(option)\" (known: CreateNamespace=true, CreateNamespace=false)"
            }
        }
        return nil
    }

    /// Which policies judge the manifests (besides the manifests' own Policy documents, which
    /// always do).
    public enum PolicySource: Sendable, Hashable {
        /// Only the manifests' own.
        case none
        /// A directory on disk, read as it is (a platform team's shared policies; `--policies
        /// DIR`).
        case directory(String)
        /// A directory of the application's repository (relative to its root), read at the
        /// commit being planned or synced: a pull request is judged by its base commit's (the
        /// rules it is merged into). Missing: an error when `required`, else none.
        case repository(path: String, required: Bool)
        /// The built-in pack, compiled into the binary (`--policies builtin`).
        case builtin

        /// What a `policies` setting names: `builtin`, an absolute directory on disk, or a
        /// directory of the repository (relative to its root, required).
        public init(setting: String) {
            if setting == "builtin" {
                self = .builtin
            } else if setting.hasPrefix("/") {
                self = .directory(setting)
            } else {
                self = .repository(path: setting, required: true)
            }
        }

        /// The repository's convention when nothing is said: its `policies/`, if it has one.
        public static let convention = PolicySource.repository(path: "policies", required: false)
    }

    /// The planner's options for this application.
    public var planOptions: PlanOptions {
        var options = PlanOptions(application: name, prune: syncOptions.prune, allowEmpty: syncOptions.allowEmpty, ignoreDifferences: ignoreDifferences)
        options.takeOwnership = syncOptions.takeOwnership
        options.createNamespace = syncOptions.createNamespace
        return options
    }
}
