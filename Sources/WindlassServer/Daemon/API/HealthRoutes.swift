import Hummingbird
import NIOCore

extension Daemon {
    /// `/healthz` (the process answers), `/readyz` (every application has fetched once) and
    /// `/metrics` (the daemon's and the cluster's, in Prometheus' text format).
    func addHealthRoutes(to router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            for reconciler in self.reconcilers.values {
                let status = await reconciler.status
                if status.fetches == 0 && status.lastError == nil {
                    return Self.text(.serviceUnavailable, "not ready: \(reconciler.application.name) has not fetched yet\n")
                }
            }
            return Self.text(.ok, "ready\n")
        }
        router.get("/metrics") { _, _ -> Response in
            let text = self.metrics.text() + (await self.cluster.metrics())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
