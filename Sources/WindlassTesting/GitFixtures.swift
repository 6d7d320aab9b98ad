import Foundation

/// A real git repository in a temp dir, driven with the `git` command.
public final class GitFixture: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public var path: String { directory.path }
    private var clock = 1_700_000_000

    /// `git init -b main` with a fixed identity.
    public init(bare: Bool = false) throws {
        directory = try TemporaryDirectory()
        try git(["init", "-q", "-b", "main"] + (bare ? ["--bare"] : []))
        try git(["config", "user.name", "Ada Lovelace"])
        try git(["config", "user.email", "ada@example.com"])
        try git(["config", "commit.gpgsign", "false"])
    }

    /// Runs git in the repository and returns its trimmed output.
    @discardableResult
    public func git(_ arguments: [String]) throws -> String {
        clock += 60
        let date = "\(clock) +0100"
        let result = try run(
            "git",
            arguments,
            in: path,
            environment: ["GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "GIT_CONFIG_NOSYSTEM": "1"]
        )
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @discardableResult
    public func write(_ relative: String, _ contents: String) throws -> String {
        try directory.write(relative, contents)
    }

    /// Stages everything and commits; returns the new commit's SHA.
    @discardableResult
    public func commit(_ message: String) throws -> String {
        try git(["add", "-A"])
        try git(["commit", "-q", "--allow-empty", "-m", message])
        return try git(["rev-parse", "HEAD"])
    }
}

/// A ConfigMap manifest, for filling repositories.
/// An Enforce policy that refuses privileged containers (Pods and workloads' pod templates).
public let privilegedPolicyYAML = """
    apiVersion: windlass.dev/v1
    kind: Policy
    metadata: {name: no-privileged}
    spec:
      failureAction: Enforce
      rules:
        - name: privileged
          match: {any: [{resources: {kinds: [Pod]}}]}
          validate:
            message: "privileged containers are not allowed"
            pattern:
              spec:
                containers:
                  - =(securityContext):
                      =(privileged): false
    """

public func configMapYAML(_ name: String, data: String = "value") -> String {
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\ndata:\n  key: \(data)\n"
}

/// `git daemon` serving every repository under a directory on 127.0.0.1, for git:// tests.
public final class GitDaemon: @unchecked Sendable {
    public let port: Int
    public let base: String
    private let process: BackgroundProcess

    /// Serves `base` on `port`, or on a free port.
    public init(base: String, port: Int? = nil) throws {
        self.base = base
        let port = try port ?? freePort()
        self.port = port
        // The daemon itself, not the `git` wrapper, so that stopping it stops it.
        let execPath = try run("git", ["--exec-path"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        process = try BackgroundProcess(
            execPath + "/git-daemon",
            ["--reuseaddr", "--export-all", "--base-path=\(base)", "--listen=127.0.0.1", "--port=\(port)", base]
        )
        try waitForPort(port)
    }

    /// `git://127.0.0.1:PORT/NAME`.
    public func url(_ name: String) -> String { "git://127.0.0.1:\(port)/\(name)" }

    public func stop() { process.stop() }
}

/// `git http-backend` behind a small HTTP server on 127.0.0.1 (smart HTTP), with optional basic
/// authentication: a real git server for http:// tests, in Python's standard library.
public final class GitHTTPServer: @unchecked Sendable {
    public let port: Int
    private let process: BackgroundProcess
    private let script: TemporaryDirectory

    public init(root: String, user: String? = nil, password: String? = nil) throws {
        script = try TemporaryDirectory()
        let path = try script.write("git-http-server.py", Self.source)
        port = try freePort()
        let auth = user.map { "\($0):\(password ?? "")" } ?? ""
        process = try BackgroundProcess("python3", [path, root, String(port), auth])
        try waitForPort(port)
    }

    public func url(_ name: String, credentials: String? = nil) -> String {
        "http://\(credentials.map { $0 + "@" } ?? "")127.0.0.1:\(port)/\(name)"
    }

    public func stop() { process.stop() }

    static let source = #"""
        import base64, http.server, os, subprocess, sys

        root, port, auth = sys.argv[1], int(sys.argv[2]), sys.argv[3]

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self.serve()

            def do_POST(self):
                self.serve()

            def body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def serve(self):
                data = self.body()
                if auth:
                    expected = "Basic " + base64.b64encode(auth.encode()).decode()
                    if self.headers.get("Authorization", "") != expected:
                        self.send_response(401)
                        self.send_header("WWW-Authenticate", 'Basic realm="git"')
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                path, _, query = self.path.partition("?")
                env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL="1", PATH_INFO=path,
                           QUERY_STRING=query, REQUEST_METHOD=self.command,
                           CONTENT_TYPE=self.headers.get("Content-Type", ""), CONTENT_LENGTH=str(len(data)),
                           REMOTE_USER="git", REMOTE_ADDR="127.0.0.1")
                if self.headers.get("Content-Encoding"):
                    env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
                if self.headers.get("Git-Protocol"):
                    env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
                out = subprocess.run(["git", "http-backend"], input=data, env=env, capture_output=True).stdout
                separator = b"\r\n\r\n" if b"\r\n\r\n" in out else b"\n\n"
                head, _, rest = out.partition(separator)
                status, headers = 200, []
                for line in head.replace(b"\r\n", b"\n").split(b"\n"):
                    key, _, value = line.decode().partition(":")
                    if key.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif key:
                        headers.append((key, value.strip()))
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(rest)))
                self.end_headers()
                self.wfile.write(rest)

        http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
        """#
}
