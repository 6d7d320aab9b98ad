public import Foundation

/// Debian's `prometheus`, started on 127.0.0.1 with a 1 s scrape interval against the given
/// targets, in its own temporary directory; stopped when released. The first samples become
/// queryable a few seconds after start: wait for data, not for readiness.
public final class PrometheusServer: @unchecked Sendable {
    public let port: Int
    private let directory: TemporaryDirectory
    private let process: BackgroundProcess

    public init(targets: [String]) throws {
        directory = try TemporaryDirectory()
        port = try freePort()
        let config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: windlass
                scrape_interval: 1s
                static_configs:
                  - targets: [\(targets.map { "\"\($0)\"" }.joined(separator: ", "))]
            """
        let file = try directory.write("prometheus.yml", config)
        process = try BackgroundProcess(
            "/usr/bin/prometheus",
            [
                "--config.file=\(file)", "--storage.tsdb.path=\(directory.path)/data", "--web.listen-address=127.0.0.1:\(port)",
                "--log.level=warn",
            ])
        try waitForPort(port, timeout: 20)
    }

    /// `http://127.0.0.1:PORT`.
    public var address: String { "http://127.0.0.1:\(port)" }

    public func stop() { process.stop() }

    /// Whether Debian's `prometheus` is installed (the Makefile's install step adds it).
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus") }
}
