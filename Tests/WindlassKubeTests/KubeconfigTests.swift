import Foundation
import Testing
import WindlassKube
import WindlassTesting

@Suite("Kubeconfigs, read as kubectl reads them")
struct KubeconfigTests {
    static let first = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: dev
          cluster:
            server: https://10.0.0.1:6443
            certificate-authority: certs/ca.crt
            tls-server-name: api.dev.internal
        - name: shared
          cluster: {server: "https://first.example:443"}
        users:
        - name: dev-admin
          user:
            token: first-token
        contexts:
        - name: dev
          context: {cluster: dev, user: dev-admin, namespace: apps}
        """

    static let second = """
        apiVersion: v1
        kind: Config
        current-context: prod
        clusters:
        - name: shared
          cluster: {server: "https://second.example:443"}
        - name: prod
          cluster:
            server: https://prod.example:6443
            insecure-skip-tls-verify: true
            proxy-url: http://user:secret@127.0.0.1:3128
        users:
        - name: eks
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1beta1
              command: ./bin/get-token
              args: [--cluster, prod]
              env: [{name: REGION, value: eu-west-1}]
              provideClusterInfo: true
        - name: files
          user:
            tokenFile: token
        contexts:
        - name: prod
          context: {cluster: prod, user: eks}
        - name: shared
          context: {cluster: shared, user: files}
        """

    func write(_ directory: TemporaryDirectory) throws -> (String, String) {
        try FileManager.default.createDirectory(atPath: directory.path + "/a/certs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory.path + "/b", withIntermediateDirectories: true)
        try "-----BEGIN CERTIFICATE-----\n".write(toFile: directory.path + "/a/certs/ca.crt", atomically: true, encoding: .utf8)
        try Self.first.write(toFile: directory.path + "/a/config", atomically: true, encoding: .utf8)
        try Self.second.write(toFile: directory.path + "/b/config", atomically: true, encoding: .utf8)
        return (directory.path + "/a/config", directory.path + "/b/config")
    }

    @Test("KUBECONFIG merges files: the first to name a cluster, user, context or current-context wins")
    func merging() throws {
        let directory = try TemporaryDirectory()
        let (a, b) = try write(directory)
        let config = try Kubeconfig.load(environment: ["KUBECONFIG": "\(a):\(directory.path)/missing:\(b)", "HOME": directory.path])
        #expect(config.currentContext == "dev")
        #expect(config.clusters["shared"]?.server == "https://first.example:443")
        #expect(config.clusters["prod"]?.server == "https://prod.example:6443")
        #expect(config.files == [a, b])

        let dev = try config.select()
        #expect(dev.namespace == "apps")
        #expect(dev.user.token == "first-token")
        #expect(dev.cluster.tlsServerName == "api.dev.internal")
        // Relative paths are relative to the file that holds them.
        #expect(dev.cluster.certificateAuthority == Array("-----BEGIN CERTIFICATE-----\n".utf8))

        let prod = try config.select(context: "prod")
        #expect(prod.namespace == "default")
        #expect(prod.cluster.insecureSkipTLSVerify)
        #expect(prod.cluster.proxyURL == "http://user:secret@127.0.0.1:3128")
        let exec = try #require(prod.user.exec)
        #expect(exec.command == directory.path + "/b/./bin/get-token")
        #expect(exec.arguments == ["--cluster", "prod"])
        #expect(exec.environment.map(\.name) == ["REGION"])
        #expect(exec.provideClusterInfo)

        let shared = try config.select(context: "shared")
        #expect(shared.user.tokenFile == directory.path + "/b/token")
        #expect(shared.cluster.server == "https://first.example:443")
        #expect(KubeconfigSelection.redacted("https://u:p@h:1/x") == "https://***@h:1/x")
    }

    @Test("--kubeconfig must exist; without it and KUBECONFIG, ~/.kube/config is read")
    func explicitAndHome() throws {
        let directory = try TemporaryDirectory()
        let (_, b) = try write(directory)
        #expect(throws: KubeconfigError.self) { try Kubeconfig.load(explicitPath: directory.path + "/nope") }
        do {
            _ = try Kubeconfig.load(environment: ["HOME": directory.path])
            Issue.record("no ~/.kube/config was accepted")
        } catch {
            #expect(error.message.contains("/.kube/config does not exist"))
        }
        try FileManager.default.createDirectory(atPath: directory.path + "/.kube", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: b, toPath: directory.path + "/.kube/config")
        #expect(try Kubeconfig.load(environment: ["HOME": directory.path]).currentContext == "prod")
    }

    @Test("Mistakes are one line naming the file and where in it", arguments: [
        ("clusters: {a: b}\n", "1:11: clusters must be a list"),
        ("clusters:\n- name: a\n  cluster: {server: 42}\n", "3:21: clusters[a].cluster.server must be a string"),
        ("clusters:\n- name: a\n  cluster: {server: ftp://x}\n", "3:21: cluster \"a\": server ftp://x is not an http(s) URL"),
        ("clusters:\n- cluster: {server: https://x}\n", "2:3: clusters[] has no name"),
        ("clusters:\n- name: a\n  cluster: {server: https://x, certificate-authority-data: '!!'}\n", "certificate-authority-data is not valid base64"),
        ("clusters:\n- name: a\n  cluster: {server: https://x, certificate-authority: nope.crt}\n", "certificate-authority "),
        ("users:\n- name: u\n  user: {client-certificate-data: YQ==}\n", "3:9: user \"u\": a client certificate needs its key"),
        ("users:\n- name: u\n  user:\n    auth-provider: {name: gcp}\n", "4:20: user \"u\": auth-provider (gcp) was removed from kubectl"),
        ("users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}\n", "exec.apiVersion \"client.authentication.k8s.io/v1alpha1\" is not one of"),
        ("users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1}\n", "4:11: user \"u\": exec has no command"),
        ("kind: Pod\n", "1:7: kind is \"Pod\"; a kubeconfig's kind is Config"),
        ("clusters: [\n", "kubeconfig"),
        ("- a\n", "1:1: a kubeconfig is a mapping"),
    ])
    func mistakes(text: String, expected: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/config"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try Kubeconfig.load(explicitPath: path)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.message.hasPrefix(path + ":") || error.message.hasPrefix(path + " "), "\(error.message)")
            if expected != "kubeconfig" { #expect(error.message.contains(expected), "\(error.message)") }
            #expect(!error.message.contains("\n"))
        }
    }

    @Test("Contexts that do not resolve name what is missing")
    func selection() throws {
        let config = try Kubeconfig.parse(
            """
            clusters: [{name: c, cluster: {server: "https://x"}}]
            contexts:
            - {name: no-cluster, context: {cluster: gone, user: u}}
            - {name: no-user, context: {cluster: c, user: gone}}
            - {name: anonymous, context: {cluster: c}}
            """, path: "k.yaml")
        func message(_ context: String?) -> String {
            do {
                _ = try config.select(context: context)
                return ""
            } catch {
                return error.message
            }
        }
        #expect(message(nil) == "k.yaml: no current-context is set (pass --context; contexts: anonymous, no-cluster, no-user)")
        #expect(message("prod") == "k.yaml: context \"prod\" does not exist (contexts: anonymous, no-cluster, no-user)")
        #expect(message("no-cluster") == "k.yaml: context \"no-cluster\" names cluster \"gone\", which does not exist")
        #expect(message("no-user") == "k.yaml: context \"no-user\" names user \"gone\", which does not exist")
        #expect(message("anonymous") == "")
    }
}

@Suite("Exec credential plugins")
struct ExecCredentialPluginTests {
    /// A plugin script in `directory` whose body is `script`.
    func plugin(_ directory: TemporaryDirectory, _ script: String, apiVersion: String = "client.authentication.k8s.io/v1") throws -> ExecCredentialPlugin {
        let path = directory.path + "/plugin.sh"
        try ("#!/bin/sh\n" + script).write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        let config = Kubeconfig.ExecConfig(
            apiVersion: apiVersion, command: path, arguments: ["--flag"], environment: [(name: "GREETING", value: "hi")], installHint: "install it with apt",
            provideClusterInfo: true)
        let cluster = Kubeconfig.Cluster(server: "https://127.0.0.1:6443", certificateAuthority: nil, insecureSkipTLSVerify: false, tlsServerName: nil, proxyURL: nil)
        return ExecCredentialPlugin(config: config, cluster: cluster, timeout: 1)
    }

    @Test("A plugin's token and expiry are read; it sees its arguments, environment and KUBERNETES_EXEC_INFO")
    func token() async throws {
        let directory = try TemporaryDirectory()
        let plugin = try plugin(directory, """
            echo "$1 $GREETING $KUBERNETES_EXEC_INFO" > \(directory.path)/seen
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"abc","expirationTimestamp":"2030-01-02T03:04:05Z"}}'
            """)
        let credential = try await plugin.credential()
        #expect(credential.token == "abc")
        #expect(credential.expiry == 1_893_553_445)
        #expect(!credential.expired(at: 1_893_553_400))
        #expect(credential.expired(at: 1_893_553_440))
        let seen = try String(contentsOfFile: directory.path + "/seen", encoding: .utf8)
        #expect(seen.hasPrefix("--flag hi {"))
        #expect(seen.contains("\"kind\":\"ExecCredential\""))
        #expect(seen.contains("\"interactive\":false"))
        #expect(seen.contains("\"server\":\"https://127.0.0.1:6443\""))
    }

    @Test("Plugins that fail, hang or print nonsense are one clear line", arguments: [
        ("echo 'token expired, run aws sso login' >&2; exit 3", "exited 3: token expired, run aws sso login"),
        ("echo not json", "its output is not JSON"),
        ("echo '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"x\"}}'", "it answered apiVersion client.authentication.k8s.io/v1beta1, not client.authentication.k8s.io/v1"),
        ("echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{}}'", "neither a token nor a client certificate"),
        ("echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"x\",\"expirationTimestamp\":\"soon\"}}'", "expirationTimestamp soon is not an RFC 3339 time"),
    ])
    func failures(script: String, expected: String) async throws {
        let directory = try TemporaryDirectory()
        let plugin = try plugin(directory, script)
        do {
            _ = try await plugin.credential()
            Issue.record("accepted")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(error.message.hasPrefix("exec plugin \(directory.path)/plugin.sh"))
        }
    }

    /// Whether `pid` is a process that has not ended (a zombie has).
    static func running(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[close...].dropFirst(2).hasPrefix("Z")
    }

    /// No wall-clock bound: the message exists only when the timeout fired, and what it started
    /// must be gone, not left running for its 300 s.
    @Test("A plugin that hangs is killed at its timeout, with everything it started")
    func hang() async throws {
        let directory = try TemporaryDirectory()
        let plugin = try plugin(directory, "sleep 300 &\necho $! > \(directory.path)/child\nwait\n")
        do {
            _ = try await plugin.credential()
            Issue.record("accepted")
        } catch {
            #expect(error.message == "exec plugin \(directory.path)/plugin.sh: no credential after 1 s (killed)", "\(error.message)")
        }
        let child = try #require(Int32(try String(contentsOfFile: directory.path + "/child", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // Killed with its group; whoever adopted it may take a moment to reap it.
        for _ in 0..<250 where Self.running(child) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!Self.running(child), "the plugin's child \(child) outlived it")
    }

    @Test("A plugin that is not installed says how to install it")
    func missing() async throws {
        let config = Kubeconfig.ExecConfig(
            apiVersion: "client.authentication.k8s.io/v1", command: "/nonexistent/gke-gcloud-auth-plugin", arguments: [], environment: [],
            installHint: "Install gke-gcloud-auth-plugin", provideClusterInfo: false)
        let cluster = Kubeconfig.Cluster(server: "https://x", certificateAuthority: nil, insecureSkipTLSVerify: false, tlsServerName: nil, proxyURL: nil)
        do {
            _ = try await ExecCredentialPlugin(config: config, cluster: cluster).credential()
            Issue.record("accepted")
        } catch {
            #expect(error.message.contains("cannot run it"))
            #expect(error.message.contains("Install gke-gcloud-auth-plugin"))
        }
    }
}
