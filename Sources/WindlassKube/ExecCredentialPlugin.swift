import Foundation
import WindlassManifest

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
                continuation.resume(with: Result { try GroupProcess.run(command, environment: environment, timeout: timeout) })
            }
            thread.name = "windlass.exec-plugin"
            thread.start()
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}

/// A child process in a process group of its own, so that a plugin that hangs is killed with
/// everything it started (a shell script's children hold its pipes open otherwise).
enum GroupProcess {
    struct Failure: Error, LocalizedError {
        var errorDescription: String?
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and newer), which Swift's
    /// Glibc module does not export.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Runs `command` (`command[0]` a path) with `environment`, stdin from /dev/null; after
    /// `timeout` seconds the whole group is killed.
    static func run(_ command: [String], environment: [String: String], timeout: Double) throws -> (status: Int32, stdout: Data, stderr: Data, timedOut: Bool) {
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard pipe(&out) == 0 else { throw Failure(errorDescription: "pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&err) == 0 else {
            close(out[0]); close(out[1])
            throw Failure(errorDescription: "pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for fd in out + err { posix_spawn_file_actions_addclose(&actions, fd) }
        // The plugin inherits nothing else: no sockets, no files other threads have open.
        if let closeFrom = Self.closeFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        var spawned = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        // A plugin just written (by an installer, or a test) may still be open for writing in a
        // child another thread forked meanwhile: try again shortly.
        for _ in 0..<10 where spawned == ETXTBSY {
            usleep(20_000)
            spawned = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        }
        close(out[1])
        close(err[1])
        guard spawned == 0 else {
            close(out[0]); close(err[0])
            throw Failure(errorDescription: String(cString: strerror(spawned)))
        }
        defer { close(out[0]); close(err[0]) }
        let deadline = Date().addingTimeInterval(timeout)
        var stdout = Data()
        var stderr = Data()
        var open: [Int32] = [out[0], err[0]]
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                timedOut = true
                break
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000, 1000)) + 1)
            if ready < 0 && errno != EINTR { break }
            for entry in fds where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if entry.fd == out[0] { stdout.append(contentsOf: buffer[..<count]) } else { stderr.append(contentsOf: buffer[..<count]) }
                } else {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        if timedOut { kill(-pid, SIGKILL) }
        var status: Int32 = 0
        while true {
            if waitpid(pid, &status, timedOut ? 0 : WNOHANG) == pid { break }
            if Date() > deadline.addingTimeInterval(1) {
                // The pipes closed but the plugin lingers: stop waiting for it.
                kill(-pid, SIGKILL)
                timedOut = true
            }
            usleep(2_000)
        }
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), stdout, stderr, timedOut)
    }
}
