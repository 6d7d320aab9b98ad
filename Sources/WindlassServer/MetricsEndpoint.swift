import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A `/metrics` endpoint in Prometheus' text format, served on an address until stopped.
/// `windlass sync --metrics-listen` serves the embedded core's simulated workload metrics with
/// it, so Prometheus can scrape what canary gates query.
public final class MetricsEndpoint: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    /// The port it listens on (the one asked for, or the one picked for port 0).
    public let port: Int

    /// Starts serving and returns once the server listens.
    public static func start(host: String, port: Int, metrics: @escaping @Sendable () async -> String) async throws -> MetricsEndpoint {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            let text = await metrics()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/healthz") { _, _ in "ok\n" }
        var logger = Logger(label: "windlass.metrics")
        logger.logLevel = .error
        let (running, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "windlass"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? port)
                continuation.finish()
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: [], logger: logger))
        let task = Task { try await group.run() }
        var bound: Int?
        for await value in running { bound = value }
        guard let bound else {
            let failure = await task.result
            if case .failure(let error) = failure { throw error }
            throw MetricsEndpointError(message: "the metrics endpoint on \(host):\(port) did not start")
        }
        return MetricsEndpoint(group: group, task: task, port: bound)
    }

    private init(group: ServiceGroup, task: Task<Void, any Error>, port: Int) {
        self.group = group
        self.task = task
        self.port = port
    }

    /// Stops accepting connections, lets requests in flight finish, and returns when stopped.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}

public struct MetricsEndpointError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
