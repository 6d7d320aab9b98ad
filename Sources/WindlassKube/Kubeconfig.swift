public import Foundation
import WindlassManifest

/// A kubeconfig as kubectl reads it: one file or several merged (`KUBECONFIG=a:b`), then one
/// context chosen from it. The first file to name a cluster, user or context wins, and the
/// first `current-context` found is the one used; relative paths inside a file are relative to
/// that file. What Windlass needs to reach the cluster is a ``KubeconfigSelection``.
public struct Kubeconfig: Sendable {
    /// A `clusters[]` entry.
    public struct Cluster: Sendable, Hashable {
        public var server: String
        /// PEM bytes of the certificate authorities to trust (from `certificate-authority-data`
        /// or the file `certificate-authority` names); nil: the system's.
        public var certificateAuthority: [UInt8]?
        public var insecureSkipTLSVerify: Bool
        /// The name to verify the server's certificate against instead of the URL's host.
        public var tlsServerName: String?
        /// An `http://` proxy every request goes through (HTTPS to the server is tunnelled
        /// through it with CONNECT).
        public var proxyURL: String?

        public init(server: String, certificateAuthority: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false, tlsServerName: String? = nil, proxyURL: String? = nil) {
            self.server = server
            self.certificateAuthority = certificateAuthority
            self.insecureSkipTLSVerify = insecureSkipTLSVerify
            self.tlsServerName = tlsServerName
            self.proxyURL = proxyURL
        }
    }

    /// A `users[]` entry: how the client proves who it is.
    public struct User: Sendable, Hashable {
        public var token: String?
        /// A file holding the token, read again as it changes (projected service-account tokens).
        public var tokenFile: String?
        public var clientCertificate: [UInt8]?
        public var clientKey: [UInt8]?
        public var username: String?
        public var password: String?
        public var exec: ExecConfig?

        public init(token: String? = nil, tokenFile: String? = nil, exec: ExecConfig? = nil) {
            self.token = token
            self.tokenFile = tokenFile
            self.exec = exec
        }
    }

    /// A `users[].user.exec` entry: a credential plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`, `kubelogin`).
    public struct ExecConfig: Sendable, Hashable {
        /// `client.authentication.k8s.io/v1` or `v1beta1`.
        public var apiVersion: String
        public var command: String
        public var arguments: [String]
        public var environment: [(name: String, value: String)]
        public var installHint: String?
        /// Whether the plugin is told the cluster's server and CA (`KUBERNETES_EXEC_INFO`).
        public var provideClusterInfo: Bool

        public init(apiVersion: String, command: String, arguments: [String] = [], environment: [(name: String, value: String)] = [], installHint: String? = nil,
            provideClusterInfo: Bool = false
        ) {
            self.apiVersion = apiVersion
            self.command = command
            self.arguments = arguments
            self.environment = environment
            self.installHint = installHint
            self.provideClusterInfo = provideClusterInfo
        }

        public static func == (lhs: ExecConfig, rhs: ExecConfig) -> Bool {
            lhs.apiVersion == rhs.apiVersion && lhs.command == rhs.command && lhs.arguments == rhs.arguments
                && lhs.environment.map(\.name) == rhs.environment.map(\.name) && lhs.environment.map(\.value) == rhs.environment.map(\.value)
                && lhs.installHint == rhs.installHint && lhs.provideClusterInfo == rhs.provideClusterInfo
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(apiVersion)
            hasher.combine(command)
            hasher.combine(arguments)
        }
    }

    /// A `contexts[]` entry.
    public struct Context: Sendable, Hashable {
        public var cluster: String
        public var user: String
        public var namespace: String?
    }

    public var clusters: [String: Cluster] = [:]
    public var users: [String: User] = [:]
    public var contexts: [String: Context] = [:]
    public var currentContext: String?
    /// The files read, in the order they were merged.
    public var files: [String] = []

    public init() {}

    /// The files kubectl would read: `explicitPath` (which must exist) or else `$KUBECONFIG`'s
    /// list (missing ones skipped) or else `~/.kube/config`.
    public static func load(explicitPath: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws(KubeconfigError) -> Kubeconfig {
        if let explicitPath {
            guard FileManager.default.fileExists(atPath: explicitPath) else {
                throw KubeconfigError("\(explicitPath): no such kubeconfig file")
            }
            return try merged([explicitPath])
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init).filter { FileManager.default.fileExists(atPath: $0) }
            if paths.isEmpty { throw KubeconfigError("KUBECONFIG=\(list): none of its files exists") }
            return try merged(paths)
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let path = home + "/.kube/config"
        guard FileManager.default.fileExists(atPath: path) else {
            throw KubeconfigError("no kubeconfig: \(path) does not exist and KUBECONFIG is not set (pass --kubeconfig)")
        }
        return try merged([path])
    }

    /// The files merged in order: the first to define a name wins.
    public static func merged(_ paths: [String]) throws(KubeconfigError) -> Kubeconfig {
        var config = Kubeconfig()
        for path in paths {
            let file = try KubeconfigFile.read(path)
            config.files.append(path)
            for (name, cluster) in file.clusters where config.clusters[name] == nil { config.clusters[name] = cluster }
            for (name, user) in file.users where config.users[name] == nil { config.users[name] = user }
            for (name, context) in file.contexts where config.contexts[name] == nil { config.contexts[name] = context }
            if config.currentContext == nil, let current = file.currentContext, !current.isEmpty { config.currentContext = current }
        }
        return config
    }

    /// Reads one kubeconfig from its text (`path` names it in errors and anchors relative paths).
    public static func parse(_ text: String, path: String) throws(KubeconfigError) -> Kubeconfig {
        let file = try KubeconfigFile.parse(text, path: path)
        var config = Kubeconfig()
        config.files = [path]
        config.clusters = file.clusters
        config.users = file.users
        config.contexts = file.contexts
        config.currentContext = file.currentContext
        return config
    }

    /// The cluster, user and namespace of `context` (nil: the current context).
    public func select(context name: String? = nil, namespace: String? = nil) throws(KubeconfigError) -> KubeconfigSelection {
        let where_ = files.joined(separator: ":")
        guard let contextName = name ?? currentContext else {
            throw KubeconfigError("\(where_): no current-context is set (pass --context; contexts: \(contexts.keys.sorted().joined(separator: ", ")))")
        }
        guard let context = contexts[contextName] else {
            let known = contexts.keys.sorted()
            throw KubeconfigError("\(where_): context \"\(contextName)\" does not exist" + (known.isEmpty ? "" : " (contexts: \(known.joined(separator: ", ")))"))
        }
        guard let cluster = clusters[context.cluster] else {
            throw KubeconfigError("\(where_): context \"\(contextName)\" names cluster \"\(context.cluster)\", which does not exist")
        }
        let user: User
        if context.user.isEmpty {
            user = User()
        } else if let named = users[context.user] {
            user = named
        } else {
            throw KubeconfigError("\(where_): context \"\(contextName)\" names user \"\(context.user)\", which does not exist")
        }
        return KubeconfigSelection(
            context: contextName, cluster: cluster, user: user, namespace: namespace ?? context.namespace ?? "default")
    }
}

/// What one context of a kubeconfig says about reaching its cluster.
public struct KubeconfigSelection: Sendable, Hashable {
    public var context: String
    public var cluster: Kubeconfig.Cluster
    public var user: Kubeconfig.User
    /// The context's namespace (`default` when it names none).
    public var namespace: String

    public init(context: String, cluster: Kubeconfig.Cluster, user: Kubeconfig.User, namespace: String) {
        self.context = context
        self.cluster = cluster
        self.user = user
        self.namespace = namespace
    }

    /// The server's URL without credentials, for messages.
    public var serverDescription: String { KubeconfigSelection.redacted(cluster.server) }

    /// A URL with any `user:password@` removed.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@"),
            !url[scheme.upperBound..<at].contains("/")
        else { return url }
        return String(url[..<scheme.upperBound]) + "***@" + String(url[url.index(after: at)...])
    }
}

/// A kubeconfig that cannot be read or used, as one line naming the file (and line:column
/// where the mistake is in it).
public struct KubeconfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// One kubeconfig file read with located errors.
struct KubeconfigFile {
    var clusters: [String: Kubeconfig.Cluster] = [:]
    var users: [String: Kubeconfig.User] = [:]
    var contexts: [String: Kubeconfig.Context] = [:]
    var currentContext: String?

    static func read(_ path: String) throws(KubeconfigError) -> KubeconfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeconfigError("\(path): cannot read the kubeconfig (\(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"))")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw KubeconfigError("\(path): the kubeconfig is not UTF-8 text") }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws(KubeconfigError) -> KubeconfigFile {
        let documents: [YAMLDocument]
        do {
            documents = try YAMLReader.read(text)
        } catch {
            throw KubeconfigError("\(path):\(error.position): \(error.message)")
        }
        guard let root = documents.first?.root, root.mappingValue != nil || root.isNull else {
            throw KubeconfigError("\(path):1:1: a kubeconfig is a mapping (apiVersion: v1, kind: Config)")
        }
        var reader = Reader(path: path, directory: (path as NSString).deletingLastPathComponent)
        return try reader.file(root)
    }

    /// Reads the parts of a kubeconfig, each mistake located.
    struct Reader {
        let path: String
        let directory: String

        func fail(_ value: Value, _ message: String) -> KubeconfigError {
            let position = value.span.start
            return KubeconfigError(position == .unknown ? "\(path): \(message)" : "\(path):\(position): \(message)")
        }

        func string(_ value: Value?, _ field: String) throws(KubeconfigError) -> String? {
            guard let value, !value.isNull else { return nil }
            guard let string = value.stringValue else { throw fail(value, "\(field) must be a string") }
            return string
        }

        func bool(_ value: Value?, _ field: String) throws(KubeconfigError) -> Bool {
            guard let value, !value.isNull else { return false }
            if let bool = value.boolValue { return bool }
            throw fail(value, "\(field) must be true or false")
        }

        /// A named list (`clusters`, `users`, `contexts`): each item `{name, <key>: {...}}`.
        func named(_ value: Value?, _ list: String, key: String) throws(KubeconfigError) -> [(String, Value, Value)] {
            guard let value, !value.isNull else { return [] }
            guard let items = value.sequenceValue else { throw fail(value, "\(list) must be a list") }
            var result: [(String, Value, Value)] = []
            for item in items {
                guard item.mappingValue != nil else { throw fail(item, "\(list)[] must be a mapping with name and \(key)") }
                guard let name = try string(item["name"], "\(list)[].name"), !name.isEmpty else {
                    throw fail(item, "\(list)[] has no name")
                }
                let body = item[key] ?? .null
                guard body.isNull || body.mappingValue != nil else { throw fail(body, "\(list)[\(name)].\(key) must be a mapping") }
                result.append((name, item, body))
            }
            return result
        }

        /// A path relative to the kubeconfig's directory.
        func resolved(_ path: String) -> String {
            if path.hasPrefix("/") || path.isEmpty { return path }
            if path.hasPrefix("~/") { return NSHomeDirectory() + String(path.dropFirst(1)) }
            return directory.isEmpty ? path : directory + "/" + path
        }

        /// Inline base64 data or the file named beside it.
        func bytes(data: Value?, file: Value?, _ field: String) throws(KubeconfigError) -> [UInt8]? {
            if let encoded = try string(data, field + "-data"), !encoded.isEmpty {
                guard let decoded = Data(base64Encoded: encoded.filter { !$0.isWhitespace }) else {
                    throw fail(data!, "\(field)-data is not valid base64")
                }
                return Array(decoded)
            }
            if let name = try string(file, field), !name.isEmpty {
                let full = resolved(name)
                guard let contents = FileManager.default.contents(atPath: full) else {
                    throw fail(file!, "\(field) \(full): cannot read the file")
                }
                return Array(contents)
            }
            return nil
        }

        mutating func file(_ root: Value) throws(KubeconfigError) -> KubeconfigFile {
            var file = KubeconfigFile()
            if let kind = try string(root["kind"], "kind"), kind != "Config" {
                throw fail(root["kind"]!, "kind is \"\(kind)\"; a kubeconfig's kind is Config")
            }
            for (name, _, body) in try named(root["clusters"], "clusters", key: "cluster") {
                guard let server = try string(body["server"], "clusters[\(name)].cluster.server"), !server.isEmpty else {
                    throw fail(body, "cluster \"\(name)\" has no server")
                }
                guard let url = URL(string: server), let scheme = url.scheme, ["https", "http"].contains(scheme), url.host != nil else {
                    throw fail(body["server"]!, "cluster \"\(name)\": server \(KubeconfigSelection.redacted(server)) is not an http(s) URL")
                }
                let proxy = try string(body["proxy-url"], "proxy-url")
                if let proxy, URL(string: proxy)?.scheme != "http" || URL(string: proxy)?.host == nil {
                    throw fail(body["proxy-url"]!, "cluster \"\(name)\": proxy-url \(KubeconfigSelection.redacted(proxy)) is not an http:// proxy (https:// and socks5 proxies are not supported)")
                }
                file.clusters[name] = Kubeconfig.Cluster(
                    server: server,
                    certificateAuthority: try bytes(data: body["certificate-authority-data"], file: body["certificate-authority"], "certificate-authority"),
                    insecureSkipTLSVerify: try bool(body["insecure-skip-tls-verify"], "insecure-skip-tls-verify"),
                    tlsServerName: try string(body["tls-server-name"], "tls-server-name"),
                    proxyURL: proxy)
            }
            for (name, _, body) in try named(root["users"], "users", key: "user") {
                var user = Kubeconfig.User()
                user.token = try string(body["token"], "token")
                user.tokenFile = try string(body["tokenFile"], "tokenFile").map(resolved)
                user.clientCertificate = try bytes(data: body["client-certificate-data"], file: body["client-certificate"], "client-certificate")
                user.clientKey = try bytes(data: body["client-key-data"], file: body["client-key"], "client-key")
                if (user.clientCertificate == nil) != (user.clientKey == nil) {
                    throw fail(body, "user \"\(name)\": a client certificate needs its key and a key its certificate")
                }
                user.username = try string(body["username"], "username")
                user.password = try string(body["password"], "password")
                if let provider = body["auth-provider"], !provider.isNull {
                    throw fail(provider, "user \"\(name)\": auth-provider (\(provider["name"]?.stringValue ?? "?")) was removed from kubectl; use its exec credential plugin")
                }
                if let exec = body["exec"], !exec.isNull {
                    user.exec = try execConfig(exec, user: name)
                }
                file.users[name] = user
            }
            for (name, _, body) in try named(root["contexts"], "contexts", key: "context") {
                file.contexts[name] = Kubeconfig.Context(
                    cluster: try string(body["cluster"], "contexts[\(name)].context.cluster") ?? "",
                    user: try string(body["user"], "contexts[\(name)].context.user") ?? "",
                    namespace: try string(body["namespace"], "contexts[\(name)].context.namespace").flatMap { $0.isEmpty ? nil : $0 })
            }
            file.currentContext = try string(root["current-context"], "current-context")
            return file
        }

        func execConfig(_ exec: Value, user: String) throws(KubeconfigError) -> Kubeconfig.ExecConfig {
            guard exec.mappingValue != nil else { throw fail(exec, "user \"\(user)\": exec must be a mapping") }
            let apiVersion = try string(exec["apiVersion"], "exec.apiVersion") ?? ""
            guard ExecCredentialPlugin.supportedVersions.contains(apiVersion) else {
                throw fail(exec["apiVersion"] ?? exec, "user \"\(user)\": exec.apiVersion \"\(apiVersion)\" is not one of \(ExecCredentialPlugin.supportedVersions.joined(separator: ", "))")
            }
            guard var command = try string(exec["command"], "exec.command"), !command.isEmpty else {
                throw fail(exec, "user \"\(user)\": exec has no command")
            }
            // As kubectl does: a relative command with a directory part is relative to the file.
            if command.contains("/") { command = resolved(command) }
            var arguments: [String] = []
            if let list = exec["args"], !list.isNull {
                guard let items = list.sequenceValue else { throw fail(list, "exec.args must be a list of strings") }
                for item in items {
                    guard let argument = item.stringValue else { throw fail(item, "exec.args must be a list of strings") }
                    arguments.append(argument)
                }
            }
            var environment: [(name: String, value: String)] = []
            if let list = exec["env"], !list.isNull {
                guard let items = list.sequenceValue else { throw fail(list, "exec.env must be a list of {name, value}") }
                for item in items {
                    guard let name = try string(item["name"], "exec.env[].name") else { throw fail(item, "exec.env[] has no name") }
                    environment.append((name, try string(item["value"], "exec.env[].value") ?? ""))
                }
            }
            return Kubeconfig.ExecConfig(
                apiVersion: apiVersion, command: command, arguments: arguments, environment: environment,
                installHint: try string(exec["installHint"], "exec.installHint"),
                provideClusterInfo: try bool(exec["provideClusterInfo"], "exec.provideClusterInfo"))
        }
    }
}
