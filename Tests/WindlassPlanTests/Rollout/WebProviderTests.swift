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

    @Test("redirects are followed on the same host only; one to another host is an error naming it", .timeLimit(.minutes(1)))
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
