import Foundation

/// A real OpenSSH server on 127.0.0.1 for ssh:// tests, with its own host key, config and
/// authorized key; it logs in as the user running the tests. Needs Debian's openssh-server.
public final class SSHServer: @unchecked Sendable {
    public let port: Int
    public let user: String
    /// The client's private key (RSA in PEM form, which libssh2 with libgcrypt reads).
    public let clientKey: String
    public let passphrase: String
    /// The server's public host key as known_hosts writes it: `ssh-rsa AAAA…`.
    public let hostKey: String
    private let directory: TemporaryDirectory
    private let process: BackgroundProcess

    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") && getuid() == 0
    }

    public init(passphrase: String = "correct horse") throws {
        directory = try TemporaryDirectory()
        let dir = directory.path
        self.passphrase = passphrase
        user = ProcessInfo.processInfo.environment["USER"] ?? "root"
        try run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-f", dir + "/host_key"])
        let publicKey = try String(contentsOfFile: dir + "/host_key.pub", encoding: .utf8).split(separator: " ")
        hostKey = publicKey.prefix(2).joined(separator: " ")
        clientKey = dir + "/client_key"
        try run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", passphrase, "-f", clientKey])
        try FileManager.default.copyItem(atPath: clientKey + ".pub", toPath: dir + "/authorized_keys")
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        port = try freePort()
        try directory.write(
            "sshd_config",
            """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(dir)/host_key
            AuthorizedKeysFile \(dir)/authorized_keys
            PidFile \(dir)/sshd.pid
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin yes
            StrictModes no
            UsePAM no
            HostKeyAlgorithms +ssh-rsa
            PubkeyAcceptedAlgorithms +ssh-rsa

            """
        )
        process = try BackgroundProcess("/usr/sbin/sshd", ["-D", "-e", "-f", dir + "/sshd_config"])
        try waitForPort(port)
    }

    /// `ssh://USER@127.0.0.1:PORT/ABSOLUTE/PATH`.
    public func url(_ path: String) -> String { "ssh://\(user)@127.0.0.1:\(port)\(path)" }

    public func stop() { process.stop() }
}
