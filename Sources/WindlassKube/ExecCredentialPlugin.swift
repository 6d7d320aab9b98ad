import Foundation
import WindlassManifest
import WindlassProcess

/// A credential an exec plugin printed: a bearer token, a client certificate, or both, and
/// when it stops being good.
public struct ExecCredential: Sendable, Hashable {
    public var token: String?
    public var clientCertificate: [UInt8]?
    public var clientKey: [UInt8]?
    /// Seconds since 1970; nil: good until the server refuses it.
    public var expiry: Double?

    /// Whether the credential should be asked for again (it expires within `margin` seconds).
    public func expired(at now: Double, margin: Double = 10) -> Bool {
        expiry.map { now + margin >= $0 } ?? false
    }
}

/// Runs a kubeconfig's `exec` credential plugin as client-go does: the command with its
/// arguments and environment, `KUBERNETES_EXEC_INFO` describing the request (non-interactive,
/// and the cluster when `provideClusterInfo`), stdout read as an `ExecCredential`. A plugin
/// that runs longer than `timeout` is killed.
public struct ExecCredentialPlugin: Sendable {
    public static let supportedVersions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]

    public var config: Kubeconfig.ExecConfig
    public var cluster: Kubeconfig.Cluster
    public var timeout: Double

    public init(config: Kubeconfig.ExecConfig, cluster: Kubeconfig.Cluster, timeout: Double = 30) {
        self.config = config
        self.cluster = cluster
        self.timeout = timeout
    }

    /// The `ExecCredential` request the plugin reads from `KUBERNETES_EXEC_INFO`.
    var request: Value {
        var spec: Value = ["interactive": false]
        if config.provideClusterInfo {
            var info: Value = ["server": .string(cluster.server), "insecure-skip-tls-verify": .bool(cluster.insecureSkipTLSVerify)]
            if let ca = cluster.certificateAuthority { info.set(.string(Data(ca).base64EncodedString()), at: ["certificate-authority-data"]) }
            if let name = cluster.tlsServerName { info.set(.string(name), at: ["tls-server-name"]) }
            spec.set(info, at: ["cluster"])
        }
        return ["apiVersion": .string(config.apiVersion), "kind": "ExecCredential", "spec": spec]
    }

    /// Runs the plugin (off the cooperative pool) and reads its credential.
    public func credential() async throws(KubeClientError) -> ExecCredential {
        let result: (status: Int32, stdout: Data, stderr: Data, timedOut: Bool)
        do {
            result = try await run()
        } catch {
            var message = "exec plugin \(config.command): cannot run it (\(error.localizedDescription))"
            if let hint = config.installHint { message += "; \(hint.split(separator: "\n").joined(separator: " "))" }
            throw KubeClientError(.credentials, message)
        }
        if result.timedOut {
            throw KubeClientError(.credentials, "exec plugin \(config.command): no credential after \(Self.seconds(timeout)) (killed)")
        }
        guard result.status == 0 else {
            let stderr = String(decoding: result.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let last = stderr.split(separator: "\n").last.map(String.init) ?? ""
            throw KubeClientError(.credentials, "exec plugin \(config.command) exited \(result.status)" + (last.isEmpty ? "" : ": \(last)"))
        }
        return try parse(result.stdout)
    }

    /// Reads a plugin's output.
    func parse(_ output: Data) throws(KubeClientError) -> ExecCredential {
        let value: Value?
        do {
            value = try JSONReader.read(String(decoding: output, as: UTF8.self))
        } catch {
            throw KubeClientError(.credentials, "exec plugin \(config.command): its output is not JSON (\(error.position): \(error.message))")
        }
        guard let value, value["kind"]?.stringValue == "ExecCredential" else {
            throw KubeClientError(.credentials, "exec plugin \(config.command): its output is not an ExecCredential")
        }
        guard value["apiVersion"]?.stringValue == config.apiVersion else {
            throw KubeClientError(
                .credentials, "exec plugin \(config.command): it answered apiVersion \(value["apiVersion"]?.stringValue ?? "none"), not \(config.apiVersion)")
        }
        let status = value["status"]
        var credential = ExecCredential()
        credential.token = status?["token"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        credential.clientCertificate = status?["clientCertificateData"]?.stringValue.map { Array($0.utf8) }
        credential.clientKey = status?["clientKeyData"]?.stringValue.map { Array($0.utf8) }
        if let stamp = status?["expirationTimestamp"]?.stringValue {
            guard let seconds = Timestamp.parse(stamp) else {
                throw KubeClientError(.credentials, "exec plugin \(config.command): expirationTimestamp \(stamp) is not an RFC 3339 time")
            }
            credential.expiry = seconds
        }
        guard credential.token != nil || (credential.clientCertificate != nil && credential.clientKey != nil) else {
            throw KubeClientError(.credentials, "exec plugin \(config.command): its ExecCredential has neither a token nor a client certificate and key")
        }
        return credential
    }

    private func run() async throws -> (status: Int32, stdout: Data, stderr: Data, timedOut: Bool) {
        var variables = ProcessInfo.processInfo.environment
        for variable in config.environment { variables[variable.name] = variable.value }
        variables["KUBERNETES_EXEC_INFO"] = JSONWriter().write(request)
        let environment = variables
        let command = config.command.hasPrefix("/") ? [config.command] + config.arguments : ["/usr/bin/env", config.command] + config.arguments
        let timeout = self.timeout
        // A thread of its own: the plugin's wait must not queue behind other blocking work.
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try ChildProcess.run(command, environment: environment, timeout: timeout) })
            }
            thread.name = "windlass.exec-plugin"
            thread.start()
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
