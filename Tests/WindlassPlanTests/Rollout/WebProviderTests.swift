import Foundation
import Testing
import WindlassCore
import WindlassManifest
import WindlassPlan
import WindlassRollout
import WindlassTesting

/// A directory served over HTTP on 127.0.0.1 by `python3 -m http.server`.
final class StaticServer: @unchecked Sendable {
    let directory: TemporaryDirectory
    let port: Int
    private let process: BackgroundProcess

    init() throws {
        directory = try TemporaryDirectory()
        port = try freePort()
        process = try BackgroundProcess("/usr/bin/python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", directory.path])
        try waitForPort(port)
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)/\(path)" }
    func stop() { process.stop() }
}

func webMetric(_ url: String, path: String?, success: String) throws -> Metric {
    var provider: Value = ["url": .string(url)]
    if let path { provider.set(.string(path), at: ["jsonPath"]) }
    let metric: Value = ["name": "m", "interval": "1s", "count": 1, "successCondition": .string(success), "provider": ["web": provider]]
    let template: Value = ["apiVersion": "windlass.dev/v1", "kind": "AnalysisTemplate", "metadata": ["name": "t", "namespace": "shop"], "spec": ["metrics": [metric]]]
    let (strategies, problems) = CanaryStrategies.read(set([template, strategyValue(), web()]))
    guard problems.isEmpty, case .analysis(let templates, _)? = strategies.values.first?.steps.first, let parsed = templates.first?.metrics.first else {
        throw ProviderError("bad test metric: \(problems)")
    }
    return parsed
}

@Suite("The web provider, against a real HTTP server")
struct WebProviderTests {
    @Test("numbers and booleans at a JSONPath; a manual approval gate; errors name the URL with its password hidden")
    func web() async throws {
        let server = try StaticServer()
        defer { server.stop() }
        _ = try server.directory.write("stats.json", #"{"service": {"latency": [12.5, 40], "healthy": true}, "rate": "0.995"}"#)
        _ = try server.directory.write("approval.json", #"{"approved": false}"#)
        let provider = WebProvider()
        #expect(try await provider.measure(webMetric(server.url("stats.json"), path: "$.service.latency", success: "true"), arguments: [:]) == [12.5, 40])
        #expect(try await provider.measure(webMetric(server.url("stats.json"), path: "{$.service.healthy}", success: "true"), arguments: [:]) == [1])
        #expect(try await provider.measure(webMetric(server.url("stats.json"), path: "$.rate", success: "true"), arguments: [:]) == [0.995])
        #expect(try await provider.measure(webMetric(server.url("stats.json"), path: "$.missing", success: "true"), arguments: [:]) == [])

        // A manual approval gate: a person flips the document.
        let clock = ManualClock()
        let runner = AnalysisRunner(providers: ["web": provider], driver: SyncDriver(now: { clock.now() }, pass: { clock.advance(by: max($0, 0.01)) }))
        let gate = try webMetric(server.url("approval.json"), path: "$.approved", success: "result[0] == 1")
        #expect(try await runner.run([gate]) == .failed("metric m failed 1 time (failureLimit 0)"))
        _ = try server.directory.write("approval.json", #"{"approved": true}"#)
        #expect(try await runner.run([gate]) == .successful)

        let missing = "http://ops:hunter2@127.0.0.1:\(server.port)/nope.json"
        do {
            _ = try await provider.measure(webMetric(missing, path: nil, success: "true"), arguments: [:])
            Issue.record("a 404 is an error")
        } catch {
            #expect("\(error)".hasPrefix("GET http://ops:***@127.0.0.1:\(server.port)/nope.json: HTTP 404"), "\(error)")
            #expect(!"\(error)".contains("hunter2"))
            // Of the server's error page, a short first line only.
            #expect(!"\(error)".contains("\n") && "\(error)".count < 200, "\(error)")
        }
    }

    @Test("redirects are followed on the same host only; one to another host is an error naming it", .timeLimit(.minutes(5)))
    func redirects() async throws {
        let server = try StaticServer()
        defer { server.stop() }
        // http.server answers /gate with 301 to /gate/, then serves its index.html.
        _ = try server.directory.write("gate/index.html", #"{"approved": true}"#)
        let provider = WebProvider()
        #expect(try await provider.measure(webMetric(server.url("gate"), path: "$.approved", success: "true"), arguments: [:]) == [1])

        // A server that sends every request to another host (localhost is not 127.0.0.1).
        let port = try freePort()
        let script = """
            import http.server
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(302)
                    self.send_header("Location", "http://localhost:\(server.port)/gate/")
                    self.end_headers()
            http.server.HTTPServer(("127.0.0.1", \(port)), H).serve_forever()
            """
        let bouncer = try BackgroundProcess("/usr/bin/python3", ["-c", script])
        defer { bouncer.stop() }
        try waitForPort(port)
        do {
            _ = try await provider.measure(webMetric("http://127.0.0.1:\(port)/x", path: "$.approved", success: "true"), arguments: [:])
            Issue.record("a redirect to another host is refused")
        } catch {
            #expect("\(error)" == "GET http://127.0.0.1:\(port)/x: a redirect to another host (http://localhost:\(server.port)) is not followed", "\(error)")
        }
    }
}

@Suite("Hosts analysis may query")
struct AllowedHostsTests {
    @Test("entries: host, host:port, [v6]:port, *.domain, loopback; names match before DNS")
    func matching() {
        let hosts = AllowedHosts(["loopback", "prometheus.example.org:9090", "*.metrics.example.org", "[fd00::1]:80", "Grafana.Example.org"])
        for allowed in [
            "http://127.0.0.1:9/x", "http://127.8.9.10/", "http://localhost:8080/api", "http://[::1]:9090/",
            "http://prometheus.example.org:9090/api/v1/query", "https://a.metrics.example.org/q", "https://b.c.metrics.example.org:1/",
            "http://[fd00::1]/", "https://grafana.example.org:3000/api", "http://user:pw@127.0.0.1/",
        ] {
            #expect(hosts.refusal(of: allowed) == nil, "\(allowed)")
        }
        for refused in [
            "http://prometheus.example.org/api", "http://prometheus.example.org:9091/", "https://metrics.example.org/",
            "http://10.0.0.5:9090/", "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0:8080/", "http://127.0.0.1.evil.org/",
            "http://127.0.0.1@evil.org/", "http://evil.org#@127.0.0.1/", "http://evilmetrics.example.org/", "http://[fd00::2]/",
        ] {
            #expect(hosts.refusal(of: refused) != nil, "\(refused)")
        }
        #expect(
            AllowedHosts(["loopback"]).refusal(of: "http://10.0.0.5:9090/q")
                == "10.0.0.5:9090 is not an allowed analysis host (analysis.allowedHosts: loopback)")
        #expect(AllowedHosts([]).refusal(of: "http://127.0.0.1/") != nil)
    }

    @Test("the defaults are loopback and the configured Prometheus (its host and port)")
    func defaults() {
        let hosts = AllowedHosts.defaults(prometheus: "http://prom.internal:9090/")
        #expect(hosts.entries == ["loopback", "prom.internal:9090"])
        #expect(hosts.refusal(of: "http://prom.internal:9090/api/v1/query?query=up") == nil)
        #expect(hosts.refusal(of: "http://prom.internal:9100/metrics") != nil)
        #expect(AllowedHosts.defaults(prometheus: nil).entries == ["loopback"])
    }

    @Test("misspelt entries are named", arguments: [
        ("http://prom:9090", "is a URL"), ("prom:port", "is not host"), ("a:b:c", "is not host"), ("*", "is not host"),
        ("foo.*.org", "is not host"), ("[::1", "is not host"), ("prom:0", "is not host"), (":9090", "names no host"),
    ])
    func spelling(entry: String, problem: String) {
        #expect(AllowedHosts.problem(in: entry)?.contains(problem) == true, "\(String(describing: AllowedHosts.problem(in: entry)))")
    }

    @Test("a provider limited to some hosts queries them and refuses others without a request", .timeLimit(.minutes(5)))
    func providers() async throws {
        let server = try StaticServer()
        defer { server.stop() }
        _ = try server.directory.write("gate.json", #"{"approved": true}"#)
        let allowed = WebProvider(allowedHosts: AllowedHosts(["127.0.0.1:\(server.port)"]))
        #expect(try await allowed.measure(webMetric(server.url("gate.json"), path: "$.approved", success: "true"), arguments: [:]) == [1])
        // The same server by another of its names is not on the list.
        let url = "http://localhost:\(server.port)/gate.json"
        do {
            _ = try await allowed.measure(webMetric(url, path: "$.approved", success: "true"), arguments: [:])
            Issue.record("a host off the list was queried")
        } catch {
            #expect("\(error)" == "GET \(url): not queried: localhost:\(server.port) is not an allowed analysis host (analysis.allowedHosts: 127.0.0.1:\(server.port))")
        }
        // Nothing listens on 10.255.255.1: a refusal costs no connection attempt (no 2 s timeout).
        let prometheus = PrometheusProvider(allowedHosts: AllowedHosts(["loopback"]))
        let metric = try parsedMetric(query: "up", success: "true", address: "http://10.255.255.1:9090")
        let start = ContinuousClock.now
        await #expect(throws: ProviderError.self) { try await prometheus.measure(metric, arguments: [:]) }
        #expect(ContinuousClock.now - start < .seconds(1))
    }
}
