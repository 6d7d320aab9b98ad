import Hummingbird
import NIOCore

/// A `/metrics` endpoint in Prometheus' text format, served on an address while its task runs
/// (cancel the task to stop it). `windlass sync --metrics-listen` serves the embedded core's
/// simulated workload metrics with it, so Prometheus can scrape what canary gates query.
public enum MetricsEndpoint {
    /// Serves until cancelled. `onRunning` receives the bound port (useful with port 0).
    public static func run(
        host: String,
        port: Int,
        metrics: @escaping @Sendable () async -> String,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            let text = await metrics()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/healthz") { _, _ in "ok\n" }
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "windlass"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
        try await application.run()
    }
}
