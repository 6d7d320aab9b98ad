public import WindlassManifest

/// The annotations and labels that steer a sync, in Windlass's spelling first and then the
/// Argo CD and Flux spellings it honours, so that their users migrate without edits.
public enum SyncAnnotations {
    public static let syncWave = ["windlass.dev/sync-wave", "argocd.argoproj.io/sync-wave"]
    public static let hook = ["windlass.dev/hook", "argocd.argoproj.io/hook"]
    public static let hookDeletePolicy = ["windlass.dev/hook-delete-policy", "argocd.argoproj.io/hook-delete-policy"]
    /// Helm's hook annotations, read as Argo CD reads them in rendered charts when no
    /// Windlass or Argo CD hook annotation is set (see ``HelmHooks``).
    public static let helmHook = HelmHookAnnotation.key
    public static let helmHookWeight = "helm.sh/hook-weight"
    public static let helmHookDeletePolicy = "helm.sh/hook-delete-policy"
    public static let prune = ["windlass.dev/prune", "kustomize.toolkit.fluxcd.io/prune"]
    public static let compareOptions = ["windlass.dev/compare-options", "argocd.argoproj.io/compare-options"]
    public static let syncOptions = ["windlass.dev/sync-options", "argocd.argoproj.io/sync-options"]
    /// `<application>:<group>/<Kind>:<namespace>/<name>`: which application owns an object.
    public static let trackingID = "windlass.dev/tracking-id"
    /// The application's name, so a cluster can list an application's objects by selector.
    public static let applicationLabel = "windlass.dev/application"
}

/// The phases of a sync, in the order they run.
public enum SyncPhase: String, Sendable, Hashable, Comparable, CaseIterable, Codable {
    case preSync = "PreSync"
    case sync = "Sync"
    case postSync = "PostSync"
    case syncFail = "SyncFail"

    var rank: Int {
        switch self {
        case .preSync: return -1
        case .sync: return 0
        case .postSync: return 1
        case .syncFail: return 2
        }
    }

    public static func < (lhs: SyncPhase, rhs: SyncPhase) -> Bool { lhs.rank < rhs.rank }
}

/// When a hook's object is deleted.
public enum HookDeletePolicy: String, Sendable, Hashable, Codable {
    case hookSucceeded = "HookSucceeded"
    case hookFailed = "HookFailed"
    case beforeHookCreation = "BeforeHookCreation"
}

/// A resource that runs in a phase of every sync instead of being kept in step.
public struct Hook: Sendable, Hashable {
    public var phases: [SyncPhase]
    public var deletePolicies: [HookDeletePolicy]
}

/// How one resource is synced, read from its annotations.
public struct SyncSettings: Sendable, Hashable {
    public var wave = 0
    /// nil for an ordinary resource; a hook otherwise.
    public var hook: Hook?
    /// `Skip`: the resource is not applied at all.
    public var skip = false
    public var pruneDisabled = false
    public var pruneLast = false
    /// `Replace=true`: changes are applied by delete and create.
    public var replace = false
    /// JSON pointers whose differences are not drift (`IgnoreDifferences=/spec/replicas`).
    public var ignoredPointers: [JSONPointer] = []
    /// `IgnoreExtraneous`: a live object that is not in git is not reported.
    public var ignoreExtraneous = false
    /// `CreateNamespace=true` on one object: its namespace is created when missing.
    public var createNamespace = false

    public init() {}

    /// Reads the settings of `object`; each problem found is returned with the span of the
    /// annotation value at fault, and the setting it concerns keeps its default.
    public static func read(_ object: Value) -> (settings: SyncSettings, problems: [(span: SourceSpan, message: String)]) {
        var settings = SyncSettings()
        var problems: [(SourceSpan, String)] = []
        let annotations = object[path: ["metadata", "annotations"]]?.mappingValue

        /// The first spelling present of an annotation; disagreeing spellings are a problem.
        func annotation(_ keys: [String]) -> (value: String, span: SourceSpan, key: String)? {
            var found: (String, SourceSpan, String)?
            for key in keys {
                guard let value = annotations?[key], let text = value.stringValue ?? value.scalarText else { continue }
                if let first = found {
                    if first.0 != text {
                        problems.append((value.span, "annotation \(key) says \"\(text)\" but \(first.2) says \"\(first.0)\"; remove one"))
                    }
                } else {
                    found = (text, value.span, key)
                }
            }
            return found
        }

        // Each annotation is read once: a read reports spellings that disagree.
        if let wave = annotation(SyncAnnotations.syncWave) {
            if let number = Int(wave.value.trimmingWhitespace()) {
                settings.wave = number
            } else {
                problems.append((wave.span, "annotation \(wave.key) must be an integer, not \"\(wave.value)\""))
            }
        } else if let weight = annotation([SyncAnnotations.helmHookWeight]) {
            // Helm's weight orders like a wave; a value Helm itself would read as 0 is 0.
            settings.wave = Int(weight.value.trimmingWhitespace()) ?? 0
        }
        if let hook = annotation(SyncAnnotations.hook) {
            var phases: [SyncPhase] = []
            for name in hook.value.split(separator: ",").map({ $0.trimmingWhitespace() }) {
                if name == "Skip" {
                    settings.skip = true
                } else if let phase = SyncPhase(rawValue: name) {
                    if !phases.contains(phase) { phases.append(phase) }
                } else {
                    problems.append((hook.span, "annotation \(hook.key): unknown hook \"\(name)\" (expected PreSync, Sync, PostSync, SyncFail or Skip)"))
                }
            }
            if !phases.isEmpty { settings.hook = Hook(phases: phases, deletePolicies: [.beforeHookCreation]) }
        } else if let helm = annotation([SyncAnnotations.helmHook]) {
            HelmHooks.apply(helm.value, to: &settings)
        }
        if let policy = annotation(SyncAnnotations.hookDeletePolicy) {
            var policies: [HookDeletePolicy] = []
            for name in policy.value.split(separator: ",").map({ $0.trimmingWhitespace() }) {
                if let known = HookDeletePolicy(rawValue: name) {
                    policies.append(known)
                } else {
                    problems.append(
                        (policy.span, "annotation \(policy.key): unknown delete policy \"\(name)\" (expected HookSucceeded, HookFailed or BeforeHookCreation)")
                    )
                }
            }
            if settings.hook == nil {
                problems.append((policy.span, "annotation \(policy.key) is set on a resource that is not a hook"))
            } else if !policies.isEmpty {
                settings.hook?.deletePolicies = policies
            }
        } else if settings.hook != nil, let helm = annotation([SyncAnnotations.helmHookDeletePolicy]) {
            // Helm's spelling, unknown values left alone as Argo CD leaves them.
            let policies = options(helm.value).compactMap { HelmHooks.deletePolicies[$0] }
            if !policies.isEmpty { settings.hook?.deletePolicies = policies }
        }
        if let prune = annotation(SyncAnnotations.prune) {
            switch prune.value {
            case "disabled": settings.pruneDisabled = true
            case "enabled": break
            default: problems.append((prune.span, "annotation \(prune.key) must be \"disabled\" or \"enabled\", not \"\(prune.value)\""))
            }
        }
        if let options = annotation(SyncAnnotations.syncOptions) {
            for option in Self.options(options.value) {
                switch option {
                case "PruneLast=true": settings.pruneLast = true
                case "Prune=false": settings.pruneDisabled = true
                case "Replace=true": settings.replace = true
                case "CreateNamespace=true": settings.createNamespace = true
                default: break  // Other Argo CD sync options do not change a plan.
                }
            }
        }
        if let options = annotation(SyncAnnotations.compareOptions) {
            for option in Self.options(options.value) {
                if option == "IgnoreExtraneous" {
                    settings.ignoreExtraneous = true
                } else if option.hasPrefix("IgnoreDifferences=") {
                    let text = String(option.dropFirst("IgnoreDifferences=".count))
                    do {
                        settings.ignoredPointers.append(try JSONPointer(parsing: text))
                    } catch {
                        problems.append((options.span, "annotation \(options.key): \(error.message)"))
                    }
                }
            }
        }
        return (settings, problems)
    }

    static func options(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}

/// Helm's hooks in manifests rendered from a chart, mapped as Argo CD maps them:
/// `pre-install` and `pre-upgrade` run as PreSync hooks, `post-install` and `post-upgrade` as
/// PostSync ones, `helm.sh/hook-weight` orders them like a wave, and
/// `helm.sh/hook-delete-policy` (`before-hook-creation`, `hook-succeeded`, `hook-failed`)
/// says when they are deleted. `crd-install` marks an ordinary resource. Hooks of events a
/// sync has no counterpart for (`pre-delete`, `post-rollback`, `test`, …) are not applied,
/// as Argo CD leaves them out.
public enum HelmHooks {
    static let phases: [String: SyncPhase] = [
        "pre-install": .preSync, "pre-upgrade": .preSync, "post-install": .postSync, "post-upgrade": .postSync,
    ]
    static let deletePolicies: [String: HookDeletePolicy] = [
        "before-hook-creation": .beforeHookCreation, "hook-succeeded": .hookSucceeded, "hook-failed": .hookFailed,
    ]

    /// Makes `settings` those of a `helm.sh/hook` value: a hook of its phases (deleted before
    /// its next creation until `helm.sh/hook-delete-policy` says otherwise), or left out.
    static func apply(_ value: String, to settings: inout SyncSettings) {
        guard HelmHookAnnotation.makesHook(value) else { return }
        var phases: [SyncPhase] = []
        for name in SyncSettings.options(value) {
            if let phase = Self.phases[name], !phases.contains(phase) { phases.append(phase) }
        }
        guard !phases.isEmpty else {
            settings.skip = true
            return
        }
        settings.hook = Hook(phases: phases, deletePolicies: [.beforeHookCreation])
    }
}
