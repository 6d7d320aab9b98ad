public import WindlassKustomize
public import WindlassManifest
public import WindlassPipeline
public import WindlassPlan
public import WindlassRollout

#if canImport(Glibc)
import Foundation
import Glibc
#endif

/// `windlass.yaml`: a `windlass.dev/v1` `Config` with the daemon's server settings and the
/// applications it keeps in step. Every mistake is a located error (`file:line:col`); secrets
/// are named by reference (an environment variable or a file) and read only at start.
public struct DaemonConfig: Sendable {
    /// The shortest poll or drift interval a config may give: a fetch (or a drift check) every
    /// millisecond would be all the daemon does.
    public static let minimumInterval: Double = 1

    /// A secret given by reference: `{env: NAME}` or `{file: PATH}`.
    public enum SecretReference: Sendable, Hashable, CustomStringConvertible {
        case environment(String)
        case file(String)

        public var description: String {
            switch self {
            case .environment(let name): return "environment variable \(name)"
            case .file(let path): return "file \(path)"
            }
        }

        /// The secret's value; an error names the reference, never a value.
        public func resolve() throws(ConfigError) -> String {
            switch self {
            case .environment(let name):
                guard let value = getenv(name).map({ String(cString: $0) }), !value.isEmpty else {
                    throw ConfigError(message: "the \(self) is not set")
                }
                return value
            case .file(let path):
                let bytes: [UInt8]
                do {
                    bytes = try SmallFile.read(path)
                } catch {
                    throw ConfigError(message: error == .tooLarge ? "the \(self) is larger than 64 KiB" : "the \(self) cannot be read")
                }
                let value = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
                guard !value.isEmpty else { throw ConfigError(message: "the \(self) is empty") }
                return value
            }
        }
    }

    public struct Server: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var apiTokens: [SecretReference] = []
        /// Tokens that read everything and change nothing (the web UI hides its buttons for
        /// them; the API answers their writes with 403).
        public var readOnlyTokens: [SecretReference] = []
        /// How long a web UI session lasts after its login, in seconds (default 12 hours).
        public var sessionTTL: Double = 43_200
        /// Webhook secrets by provider: `github`, `gitlab`, `generic`.
        public var webhooks: [String: SecretReference] = [:]
        /// The largest request body accepted, in bytes.
        public var maxBodyBytes = 1_048_576
        /// How long a request's body may take to arrive, in seconds (slower: 408).
        public var bodyTimeout: Double = 10
        /// Whether reads (status, history, drift) need no token on a loopback listener
        /// (`anonymousReads: loopback`) or always need one (`none`); nil: `none` once API tokens
        /// are configured, `loopback` while there are none (a machine's own daemon, where there
        /// is no token to give). Work (plans, syncs, rollbacks, rollout verbs) always needs a
        /// token.
        public var anonymousLoopbackReads: Bool? = nil
        /// Replicas of the daemon on one config elect a leader through a Lease; only the leader
        /// works (nil: no election, this daemon works alone).
        public var leaderElection: LeaderElection? = nil

        /// Whether reads need no token on a loopback listener, the default applied.
        public var readsOpenOnLoopback: Bool { anonymousLoopbackReads ?? (apiTokens.isEmpty && readOnlyTokens.isEmpty) }

        public init() {}
    }

    /// `server.leaderElection`: the Lease replicas hold (`coordination.k8s.io/v1`), in the
    /// cluster a kubeconfig and context name (default: the first Kubernetes destination's).
    public struct LeaderElection: Sendable, Hashable {
        public var namespace = "default"
        public var name = "windlass-leader"
        public var kubeconfig: String? = nil
        public var context: String? = nil

        public init() {}
    }

    /// When drift is looked for: a cron schedule, or an interval (with up to 10 % jitter).
    public enum DriftSchedule: Sendable, Hashable {
        case cron(CronSchedule)
        case interval(seconds: Double)
    }

    public struct Application: Sendable {
        public var name: String
        public var repository: String
        public var ref: String = "HEAD"
        public var path: String = "manifests"
        /// How kustomizations under the path are rendered (`source.kustomize`, over the
        /// config's `kustomize` defaults).
        public var kustomize = KustomizeSettings()
        /// `embedded` (the default), or `kubernetes` when a kubeconfig or context names the cluster.
        public var cluster = "embedded"
        /// A Kubernetes destination's kubeconfig (absolute: a relative one is relative to the
        /// config file), and its context.
        public var kubeconfig: String? = nil
        public var context: String? = nil
        /// A Kubernetes destination client's pace (nil: 100 requests a second, bursts of 1,000).
        public var qps: Double? = nil
        public var burst: Int? = nil
        public var namespace = "default"
        public var automated = true
        public var prune = true
        public var selfHeal = false
        public var allowEmpty = false
        /// Whether objects another application tracks are taken over (else a sync refuses them).
        public var takeOwnership = false
        /// Sync options as Argo CD writes them (`CreateNamespace=true`).
        public var syncOptions: [String] = []
        /// How often the repository is polled, in seconds (at least ``DaemonConfig/minimumInterval``).
        public var interval: Double = 180
        public var drift: DriftSchedule? = nil
        public var driftSelfHeal = false
        public var ignoreDifferences: [IgnoreRule] = []
        /// Which policies judge the application: none (the manifests' own Policy documents always
        /// count), `builtin`, an absolute directory on disk, or a directory of the repository
        /// read at the commit being synced.
        public var policies: WindlassPipeline.Application.PolicySource = .none
        /// The application's Prometheus: analysis may query it beside the allowed hosts.
        public var prometheus: String? = nil
        /// The hosts analysis may query (`analysis.allowedHosts`; nil: loopback only).
        public var allowedHosts: [String]? = nil

        /// The hosts this application's analysis may query: the configured list (or loopback)
        /// and the application's Prometheus.
        public var analysisHosts: AllowedHosts {
            var hosts = allowedHosts.map { AllowedHosts($0) } ?? AllowedHosts(["loopback"])
            if let prometheus { hosts.allow(url: prometheus) }
            return hosts
        }

        public init(name: String, repository: String) {
            self.name = name
            self.repository = repository
        }
    }

    public var server = Server()
    /// The kustomize settings every application starts from (the config's `kustomize`).
    public var kustomize = KustomizeSettings()
    public var applications: [Application] = []
    /// Where the embedded cluster's Kubernetes API is served beside the daemon
    /// (`clusters: {embedded: {api: {listen: HOST:PORT}}}`); nil: it is not.
    public var embeddedAPI: (host: String, port: Int)? = nil
    /// The config file, as given.
    public var path: String

    public struct ConfigError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public init(server: Server = Server(), applications: [Application] = [], path: String = "") {
        self.server = server
        self.applications = applications
        self.path = path
    }

    /// Reads a config's text; the config is nil when there is any error.
    public static func read(_ text: String, path: String) -> (config: DaemonConfig?, diagnostics: [Diagnostic]) {
        var reader = Reader(path: path, lines: text.split(separator: "\n", omittingEmptySubsequences: false))
        let documents: [YAMLDocument]
        do {
            documents = try YAMLReader.read(text)
        } catch {
            return (nil, [Diagnostic(.error, at: SourceLocation(path: path, position: error.position), error.message)])
        }
        guard documents.count == 1, let root = documents.first?.root, root.mappingValue != nil else {
            return (nil, [Diagnostic(.error, at: SourceLocation(path: path), "a config is one YAML document: a windlass.dev/v1 Config mapping")])
        }
        let config = reader.config(root)
        return (reader.diagnostics.isEmpty ? config : nil, reader.diagnostics)
    }

    /// The checks, each mistake appended as a located error.
    struct Reader {
        let path: String
        /// The config's lines, to place an error inside a quoted scalar.
        let lines: [Substring]
        var diagnostics: [Diagnostic] = []
        /// The config's `kustomize`, read before the applications.
        var defaultKustomize = KustomizeSettings()

        mutating func error(_ value: Value, _ message: String, offset: Int = 0) {
            var position = value.span.start
            if offset > 0 {
                let line = Int(position.line) - 1
                let column = Int(position.column) - 1
                var quoted = false
                if line >= 0, line < lines.count, column >= 0, column < lines[line].count {
                    let c = lines[line][lines[line].index(lines[line].startIndex, offsetBy: column)]
                    quoted = c == "\"" || c == "'"
                }
                position.column += UInt32(offset) + (quoted ? 1 : 0)
            }
            diagnostics.append(Diagnostic(.error, at: SourceLocation(path: path, position: position), message))
        }

        /// Unknown keys, with the closest known one suggested.
        mutating func keys(_ value: Value, _ known: [String], in what: String) {
            guard let mapping = value.mappingValue else { return }
            for entry in mapping.entries where !known.contains(entry.key) {
                let hint = Self.closest(entry.key, known).map { " (did you mean \"\($0)\"?)" } ?? ""
                error(entry.value, "\(what): unknown field \"\(entry.key)\"\(hint)")
            }
        }

        static func closest(_ word: String, _ candidates: [String]) -> String? {
            func distance(_ a: [Character], _ b: [Character]) -> Int {
                var row = Array(0...b.count)
                for i in 1...max(a.count, 1) where !a.isEmpty {
                    var previous = row[0]
                    row[0] = i
                    for j in stride(from: 1, through: b.count, by: 1) {
                        let old = row[j]
                        row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                        previous = old
                    }
                }
                return row[b.count]
            }
            let best = candidates.map { ($0, distance(Array(word.lowercased()), Array($0.lowercased()))) }.min { $0.1 < $1.1 }
            guard let best, best.1 <= max(2, word.count / 3) else { return nil }
            return best.0
        }

        mutating func mapping(_ value: Value?, _ what: String) -> Value? {
            guard let value, !value.isNull else { return nil }
            guard value.mappingValue != nil else {
                error(value, "\(what) must be a mapping")
                return nil
            }
            return value
        }

        mutating func string(_ value: Value?, _ what: String) -> String? {
            guard let value, !value.isNull else { return nil }
            guard let text = value.stringValue, !text.isEmpty else {
                error(value, "\(what) must be a non-empty string")
                return nil
            }
            return text
        }

        mutating func bool(_ value: Value?, _ what: String) -> Bool? {
            guard let value, !value.isNull else { return nil }
            guard case .bool(let flag) = value.content else {
                error(value, "\(what) must be true or false")
                return nil
            }
            return flag
        }

        /// A scalar as written: `3m`, `127.0.0.1:8080`, `90`.
        static func written(_ value: Value) -> String {
            if let string = value.stringValue { return string }
            if let text = value.scalarText { return text }
            if let number = value.intValue { return String(number) }
            return ""
        }

        mutating func seconds(_ value: Value?, _ what: String, minimum: Double? = nil) -> Double? {
            guard let value, !value.isNull else { return nil }
            let text = Self.written(value)
            guard let seconds = DurationText.seconds(text), seconds > 0 else {
                error(value, "\(what) \"\(text)\" is not a duration such as 30s, 3m or 1h")
                return nil
            }
            if let minimum, seconds < minimum {
                error(value, "\(what) \"\(text)\" is shorter than \(Int(minimum))s, the shortest allowed (each one costs a fetch or a drift check)")
                return nil
            }
            return seconds
        }

        mutating func secret(_ value: Value?, _ what: String) -> SecretReference? {
            guard let value = mapping(value, what) else { return nil }
            keys(value, ["env", "file"], in: what)
            let env = string(value["env"], "\(what).env")
            let file = string(value["file"], "\(what).file")
            switch (env, file) {
            case (let name?, nil): return .environment(name)
            case (nil, let path?): return .file(path)
            default:
                error(value, "\(what) must name exactly one of env or file (secrets are never written in the config)")
                return nil
            }
        }

        mutating func config(_ root: Value) -> DaemonConfig {
            var config = DaemonConfig(path: path)
            keys(root, ["apiVersion", "kind", "server", "clusters", "kustomize", "applications"], in: "config")
            if let settings = mapping(root["kustomize"], "kustomize") {
                defaultKustomize = kustomize(settings, over: KustomizeSettings(), what: "kustomize")
                config.kustomize = defaultKustomize
            }
            if root["apiVersion"]?.stringValue != "windlass.dev/v1" {
                error(root["apiVersion"] ?? root, "apiVersion must be windlass.dev/v1")
            }
            if root["kind"]?.stringValue != "Config" {
                error(root["kind"] ?? root, "kind must be Config")
            }
            if let server = mapping(root["server"], "server") {
                config.server = self.server(server)
            }
            if let clusters = mapping(root["clusters"], "clusters") {
                keys(clusters, ["embedded"], in: "clusters")
                if let embedded = mapping(clusters["embedded"], "clusters.embedded") {
                    keys(embedded, ["api"], in: "clusters.embedded")
                    if let api = mapping(embedded["api"], "clusters.embedded.api") {
                        keys(api, ["listen"], in: "clusters.embedded.api")
                        if let listen = api["listen"] {
                            let text = Self.written(listen)
                            if let address = Self.hostPort(text) {
                                config.embeddedAPI = address
                            } else {
                                error(listen, "clusters.embedded.api.listen \"\(text)\" is not HOST:PORT")
                            }
                        } else {
                            error(api, "clusters.embedded.api needs listen: HOST:PORT")
                        }
                    }
                }
            }
            if let list = root["applications"] {
                guard let items = list.sequenceValue else {
                    error(list, "applications must be a list")
                    return config
                }
                var seen: [String: Value] = [:]
                for item in items {
                    guard let app = application(item) else { continue }
                    if let first = seen[app.name] {
                        error(item["name"] ?? item, "application \(app.name) is defined twice (first at line \(first.span.start.line))")
                    }
                    seen[app.name] = item["name"] ?? item
                    config.applications.append(app)
                }
            }
            if var election = config.server.leaderElection, election.kubeconfig == nil, election.context == nil {
                // The Lease lives in the first Kubernetes destination's cluster.
                if let first = config.applications.first(where: { $0.kubeconfig != nil || $0.context != nil }) {
                    election.kubeconfig = first.kubeconfig
                    election.context = first.context
                    config.server.leaderElection = election
                } else if let node = root["server"]?["leaderElection"] {
                    error(node, "server.leaderElection needs a Kubernetes cluster for its Lease: give kubeconfig (and context), or a Kubernetes destination")
                }
            }
            return config
        }

        /// `HOST:PORT` or `[V6]:PORT`.
        static func hostPort(_ text: String) -> (host: String, port: Int)? {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port), colon != text.startIndex
            else { return nil }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return host.isEmpty ? nil : (host, port)
        }

        /// `destination.qps` and `destination.burst`.
        /// `kustomize: {binary, buildOptions, allowRemoteResources, enableHelm, timeout}`
        /// over `base`; a relative binary path is relative to the config file.
        mutating func kustomize(_ node: Value, over base: KustomizeSettings, what: String) -> KustomizeSettings {
            keys(node, ["binary", "buildOptions", "allowRemoteResources", "enableHelm", "timeout"], in: what)
            var settings = base
            if let binary = string(node["binary"], "\(what).binary") { settings.binary = binary.contains("/") ? absolute(binary) : binary }
            if let options = node["buildOptions"] {
                if let text = options.stringValue {
                    // Argo CD writes them as one string.
                    settings.buildOptions = text.split(separator: " ").map(String.init)
                } else if let items = options.sequenceValue {
                    settings.buildOptions = items.compactMap { string($0, "\(what).buildOptions entry") }
                } else {
                    error(options, "\(what).buildOptions must be a list of flags")
                }
            }
            settings.allowRemoteResources = bool(node["allowRemoteResources"], "\(what).allowRemoteResources") ?? settings.allowRemoteResources
            settings.enableHelm = bool(node["enableHelm"], "\(what).enableHelm") ?? settings.enableHelm
            settings.timeout = seconds(node["timeout"], "\(what).timeout", minimum: 1) ?? settings.timeout
            return settings
        }

        mutating func pace(_ destination: Value, of app: inout Application, what: String) {
            if let qps = destination["qps"] {
                let number = Self.positive(qps)
                if number == nil { error(qps, "\(what): destination.qps must be a positive number") }
                app.qps = number
            }
            if let burst = destination["burst"] {
                let number = Self.positive(burst).map { Int($0) }
                if number == nil || Double(number!) != Self.positive(burst) { error(burst, "\(what): destination.burst must be a whole number, at least 1") }
                app.burst = number
            }
        }

        static func positive(_ value: Value) -> Double? {
            if let number = value.intValue { return number > 0 ? Double(number) : nil }
            if let number = value.doubleValue { return number > 0 ? number : nil }
            return nil
        }

        /// A path relative to the config file, made absolute (`~/` is the home directory).
        func absolute(_ file: String) -> String {
            if file.hasPrefix("/") { return file }
            if file.hasPrefix("~/") { return NSHomeDirectory() + file.dropFirst() }
            let directory = (path as NSString).deletingLastPathComponent
            let cwd = FileManager.default.currentDirectoryPath
            let base = directory.hasPrefix("/") ? directory : directory.isEmpty ? cwd : cwd + "/" + directory
            return ((base + "/" + file) as NSString).standardizingPath
        }

        mutating func server(_ value: Value) -> Server {
            var server = Server()
            keys(value, ["listen", "apiTokens", "readOnlyTokens", "sessionTTL", "webhooks", "maxBodyBytes", "bodyTimeout", "anonymousReads", "leaderElection"], in: "server")
            if let election = mapping(value["leaderElection"], "server.leaderElection") {
                keys(election, ["namespace", "name", "kubeconfig", "context"], in: "server.leaderElection")
                var settings = LeaderElection()
                if let namespace = string(election["namespace"], "server.leaderElection.namespace") {
                    if let problem = NameRules.dns1123Label(namespace) { error(election["namespace"]!, "server.leaderElection.namespace \"\(namespace)\" \(problem)") }
                    settings.namespace = namespace
                }
                if let name = string(election["name"], "server.leaderElection.name") {
                    if let problem = NameRules.dns1123Subdomain(name) { error(election["name"]!, "server.leaderElection.name \"\(name)\" \(problem)") }
                    settings.name = name
                }
                settings.kubeconfig = string(election["kubeconfig"], "server.leaderElection.kubeconfig").map(absolute)
                settings.context = string(election["context"], "server.leaderElection.context")
                server.leaderElection = settings
            }
            if let listen = value["listen"] {
                let text = Self.written(listen)
                if let address = Self.hostPort(text) {
                    server.host = address.host
                    server.port = address.port
                } else {
                    error(listen, "server.listen \"\(text)\" is not HOST:PORT")
                }
            }
            if let tokens = value["apiTokens"] {
                if let items = tokens.sequenceValue {
                    server.apiTokens = items.compactMap { secret($0, "server.apiTokens[]") }
                } else {
                    error(tokens, "server.apiTokens must be a list of {env: NAME} or {file: PATH}")
                }
            }
            if let tokens = value["readOnlyTokens"] {
                if let items = tokens.sequenceValue {
                    server.readOnlyTokens = items.compactMap { secret($0, "server.readOnlyTokens[]") }
                } else {
                    error(tokens, "server.readOnlyTokens must be a list of {env: NAME} or {file: PATH}")
                }
            }
            if let ttl = value["sessionTTL"] {
                server.sessionTTL = seconds(ttl, "server.sessionTTL") ?? server.sessionTTL
            }
            if let webhooks = mapping(value["webhooks"], "server.webhooks") {
                keys(webhooks, ["github", "gitlab", "generic"], in: "server.webhooks")
                for provider in ["github", "gitlab", "generic"] {
                    guard let entry = mapping(webhooks[provider], "server.webhooks.\(provider)") else { continue }
                    keys(entry, ["secret"], in: "server.webhooks.\(provider)")
                    if let reference = secret(entry["secret"], "server.webhooks.\(provider).secret") {
                        server.webhooks[provider] = reference
                    } else if entry["secret"] == nil {
                        error(entry, "server.webhooks.\(provider) needs a secret")
                    }
                }
            }
            if let timeout = value["bodyTimeout"] {
                server.bodyTimeout = seconds(timeout, "server.bodyTimeout", minimum: DaemonConfig.minimumInterval) ?? server.bodyTimeout
            }
            if let reads = value["anonymousReads"] {
                switch reads.stringValue {
                case "loopback": server.anonymousLoopbackReads = true
                case "none": server.anonymousLoopbackReads = false
                default: error(reads, "server.anonymousReads must be loopback or none")
                }
            }
            if let limit = value["maxBodyBytes"] {
                if let bytes = limit.intValue, bytes >= 1024 { server.maxBodyBytes = bytes } else { error(limit, "server.maxBodyBytes must be a number of bytes, at least 1024") }
            }
            return server
        }

        mutating func application(_ item: Value) -> Application? {
            guard let item = mapping(item, "each application") else { return nil }
            keys(item, ["name", "source", "destination", "syncPolicy", "interval", "drift", "ignoreDifferences", "policies", "analysis"], in: "application")
            guard let name = string(item["name"], "application name") else {
                if item["name"] == nil { error(item, "each application needs a name") }
                return nil
            }
            if let problem = NameRules.dns1123Label(name) { error(item["name"]!, "application name \"\(name)\" \(problem)") }
            let what = "application \(name)"
            guard let source = mapping(item["source"], "\(what): source") else {
                if item["source"] == nil { error(item, "\(what) needs a source: {repo: URL, ref: main, path: manifests}") }
                return nil
            }
            keys(source, ["repo", "ref", "path", "kustomize"], in: "\(what): source")
            guard let repository = string(source["repo"], "\(what): source.repo") else {
                if source["repo"] == nil { error(source, "\(what): source needs repo") }
                return nil
            }
            var app = Application(name: name, repository: repository)
            app.ref = string(source["ref"], "\(what): source.ref") ?? app.ref
            app.path = string(source["path"], "\(what): source.path") ?? app.path
            app.kustomize = defaultKustomize
            if let settings = mapping(source["kustomize"], "\(what): source.kustomize") {
                app.kustomize = kustomize(settings, over: defaultKustomize, what: "\(what): source.kustomize")
            }
            if let destination = mapping(item["destination"], "\(what): destination") {
                keys(destination, ["cluster", "kubeconfig", "context", "namespace", "qps", "burst"], in: "\(what): destination")
                pace(destination, of: &app, what: what)
                app.kubeconfig = string(destination["kubeconfig"], "\(what): destination.kubeconfig").map(absolute)
                app.context = string(destination["context"], "\(what): destination.context")
                if let cluster = destination["cluster"] {
                    if cluster.stringValue == "embedded" {
                        if app.kubeconfig != nil || app.context != nil {
                            error(cluster, "\(what): destination.cluster embedded takes no kubeconfig or context")
                        }
                        app.cluster = "embedded"
                    } else {
                        error(
                            cluster,
                            "\(what): destination.cluster \"\(cluster.stringValue ?? "")\" is not a cluster Windlass knows: use cluster: embedded, or kubeconfig: and context: for a Kubernetes cluster")
                    }
                } else if app.kubeconfig != nil || app.context != nil {
                    app.cluster = "kubernetes"
                }
                if let namespace = string(destination["namespace"], "\(what): destination.namespace") {
                    if let problem = NameRules.dns1123Label(namespace) { error(destination["namespace"]!, "\(what): destination.namespace \"\(namespace)\" \(problem)") }
                    app.namespace = namespace
                }
            }
            if let policy = mapping(item["syncPolicy"], "\(what): syncPolicy") {
                keys(policy, ["automated", "prune", "selfHeal", "allowEmpty", "takeOwnership", "syncOptions"], in: "\(what): syncPolicy")
                app.automated = bool(policy["automated"], "\(what): syncPolicy.automated") ?? app.automated
                app.prune = bool(policy["prune"], "\(what): syncPolicy.prune") ?? app.prune
                app.selfHeal = bool(policy["selfHeal"], "\(what): syncPolicy.selfHeal") ?? app.selfHeal
                app.allowEmpty = bool(policy["allowEmpty"], "\(what): syncPolicy.allowEmpty") ?? app.allowEmpty
                app.takeOwnership = bool(policy["takeOwnership"], "\(what): syncPolicy.takeOwnership") ?? app.takeOwnership
                if let list = policy["syncOptions"], !list.isNull {
                    if let items = list.sequenceValue {
                        for item in items {
                            guard let option = string(item, "\(what): syncPolicy.syncOptions entry") else { continue }
                            var probe = WindlassPipeline.Application.SyncOptions()
                            if let problem = WindlassPipeline.Application.apply(syncOptions: [option], to: &probe) {
                                error(item, "\(what): syncPolicy.syncOptions: \(problem)")
                            } else {
                                app.syncOptions.append(option)
                            }
                        }
                    } else {
                        error(list, "\(what): syncPolicy.syncOptions must be a list")
                    }
                }
            }
            app.interval = seconds(item["interval"], "\(what): interval", minimum: DaemonConfig.minimumInterval) ?? app.interval
            if let drift = mapping(item["drift"], "\(what): drift") {
                keys(drift, ["schedule", "interval", "selfHeal"], in: "\(what): drift")
                switch (drift["schedule"], drift["interval"]) {
                case (let schedule?, nil):
                    if let text = string(schedule, "\(what): drift.schedule") {
                        do {
                            let cron = try CronSchedule(parsing: text)
                            if cron.next(after: 0) == nil && cron.next(after: 1_800_000_000) == nil {
                                self.error(schedule, "\(what): drift.schedule \"\(text)\" never fires")
                            }
                            app.drift = .cron(cron)
                        } catch {
                            self.error(schedule, "\(what): drift.schedule: \(error.message)", offset: error.offset)
                        }
                    }
                case (nil, let interval?):
                    if let seconds = seconds(interval, "\(what): drift.interval", minimum: DaemonConfig.minimumInterval) { app.drift = .interval(seconds: seconds) }
                case (nil, nil):
                    error(drift, "\(what): drift needs a schedule (cron) or an interval")
                default:
                    error(drift, "\(what): drift takes a schedule or an interval, not both")
                }
                app.driftSelfHeal = bool(drift["selfHeal"], "\(what): drift.selfHeal") ?? false
            }
            if let rules = item["ignoreDifferences"] {
                for rule in rules.sequenceValue ?? [] {
                    keys(rule, ["group", "kind", "name", "namespace", "jsonPointers"], in: "\(what): ignoreDifferences[]")
                    var pointers: [JSONPointer] = []
                    for pointer in rule["jsonPointers"]?.sequenceValue ?? [] {
                        do {
                            pointers.append(try JSONPointer(parsing: pointer.stringValue ?? ""))
                        } catch {
                            self.error(pointer, "\(what): ignoreDifferences: \(error.message)")
                        }
                    }
                    if pointers.isEmpty { error(rule, "\(what): each ignoreDifferences rule needs jsonPointers") }
                    app.ignoreDifferences.append(
                        IgnoreRule(
                            group: rule["group"]?.stringValue, kind: rule["kind"]?.stringValue, name: rule["name"]?.stringValue,
                            namespace: rule["namespace"]?.stringValue, pointers: pointers))
                }
                if rules.sequenceValue == nil { error(rules, "\(what): ignoreDifferences must be a list") }
            }
            if let setting = string(item["policies"], "\(what): policies") { app.policies = .init(setting: setting) }
            if let analysis = mapping(item["analysis"], "\(what): analysis") {
                keys(analysis, ["prometheus", "allowedHosts"], in: "\(what): analysis")
                app.prometheus = string(analysis["prometheus"], "\(what): analysis.prometheus")
                if let address = app.prometheus, let node = analysis["prometheus"], AllowedHosts.origin(of: address) == nil {
                    error(node, "\(what): analysis.prometheus must be an http:// or https:// URL with a host")
                }
                if let list = analysis["allowedHosts"], !list.isNull {
                    if let items = list.sequenceValue {
                        var entries: [String] = []
                        for item in items {
                            guard let entry = string(item, "\(what): analysis.allowedHosts entry") else { continue }
                            if let problem = AllowedHosts.problem(in: entry) {
                                error(item, "\(what): analysis.allowedHosts: \(problem)")
                            } else {
                                entries.append(entry)
                            }
                        }
                        app.allowedHosts = entries
                    } else {
                        error(list, "\(what): analysis.allowedHosts must be a list of hosts")
                    }
                }
            }
            return app
        }
    }
}

extension DaemonConfig.Application {
    /// The application as the pipeline runs it.
    public var pipelineApplication: Application {
        Application(
            name: name,
            source: Application.Source(repository: repository, revision: ref, path: path, kustomize: kustomize),
            destination: {
                var destination = Application.Destination(cluster: cluster, kubeconfig: kubeconfig, context: context, namespace: namespace)
                destination.qps = qps
                destination.burst = burst
                return destination
            }(),
            syncOptions: {
                var options = Application.SyncOptions(prune: prune, allowEmpty: allowEmpty, takeOwnership: takeOwnership)
                _ = Application.apply(syncOptions: syncOptions, to: &options)  // checked when the config was read
                return options
            }(),
            policies: policies,
            ignoreDifferences: ignoreDifferences)
    }
}
