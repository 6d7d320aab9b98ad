import HTTPTypes
import Hummingbird
import Logging
import WindlassCore
import WindlassManifest

extension Daemon {
    /// `POST /api/v1/webhooks/{github|gitlab|generic}`: push events, checked by their signature
    /// (or token), not by API tokens.
    func addWebhookRoutes(to group: RouterGroup<BasicRequestContext>) {
        let maxBody = options.config.server.maxBodyBytes
        let bodyTimeout = options.config.server.bodyTimeout
        for provider in ["github", "gitlab", "generic"] {
            group.post("webhooks/\(provider)") { request, context -> Response in
                var request = request
                let body: ByteBuffer
                switch await API.body(of: &request, limit: maxBody, timeout: bodyTimeout) {
                case .read(let read): body = read
                case .refused(let response):
                    self.metrics.webhook(provider, outcome: response.status == .contentTooLarge ? "too-large" : "unreadable")
                    return response
                }
                return await self.webhook(provider, request: request, body: Array(buffer: body))
            }
        }
    }

    /// A push webhook: the signature (or token) checked, the delivery id remembered, the
    /// applications whose repository it names asked to fetch at once.
    func webhook(_ provider: String, request: Request, body: [UInt8]) async -> Response {
        guard let secret = webhookSecrets[provider] else {
            metrics.webhook(provider, outcome: "not-configured")
            return API.error(.notFound, "no \(provider) webhook is configured")
        }
        let verified: Bool
        let delivery: String?
        let event: String?
        switch provider {
        case "github":
            verified = HMACSHA256.verify(signature: request.headers[HTTPField.Name("X-Hub-Signature-256")!] ?? "", key: secret, message: body)
            delivery = request.headers[HTTPField.Name("X-GitHub-Delivery")!]
            event = request.headers[HTTPField.Name("X-GitHub-Event")!]
        case "gitlab":
            verified = BearerToken.matches(request.headers[HTTPField.Name("X-Gitlab-Token")!] ?? "", secret)
            delivery = request.headers[HTTPField.Name("X-Gitlab-Event-UUID")!]
            event = (request.headers[HTTPField.Name("X-Gitlab-Event")!]).map { $0 == "Push Hook" || $0 == "Tag Push Hook" ? "push" : $0 }
        default:
            verified = HMACSHA256.verify(signature: request.headers[HTTPField.Name("X-Windlass-Signature-256")!] ?? "", key: secret, message: body)
            delivery = request.headers[HTTPField.Name("X-Windlass-Delivery")!]
            event = "push"
        }
        guard verified else {
            metrics.webhook(provider, outcome: "unauthorized")
            options.log.event("webhook refused", ["provider": provider, "reason": "bad signature"], level: .warning)
            return API.error(.unauthorized, "the signature does not match")
        }
        if event == "ping" {
            metrics.webhook(provider, outcome: "ping")
            return API.response(.ok, API.WebhookResult(event: "ping"))
        }
        guard event == "push" else {
            metrics.webhook(provider, outcome: "ignored")
            return API.response(.accepted, API.WebhookResult(ignored: "event \(event ?? "(none)") is not a push"))
        }
        guard let urls = WebhookPush.repositories(in: body) else {
            metrics.webhook(provider, outcome: "malformed")
            return API.error(.badRequest, "the body is not JSON")
        }
        if let delivery, !deliveries.insert(delivery) {
            metrics.webhook(provider, outcome: "replayed")
            return API.response(.ok, API.WebhookResult(triggered: [], replayed: delivery))
        }
        // The same signed body again under another delivery id: a replay too, for a minute.
        // GitHub's and GitLab's push bodies name the pushed commit, so two pushes never share
        // one; a generic body may well be the same on every push (`{"repository": URL}`), and
        // is not held back.
        let digest = provider + ":" + HMACSHA256.digest(body)
        if provider != "generic", !deliveries.insert(body: digest, now: SystemClock().now()) {
            metrics.webhook(provider, outcome: "replayed")
            return API.response(.ok, API.WebhookResult(triggered: [], replayed: delivery ?? "the same body"))
        }
        let wanted = Set(urls.map(WebhookPush.normalize))
        var triggered: [String] = []
        for reconciler in reconcilers.values.sorted(by: { $0.application.name < $1.application.name })
        where wanted.isEmpty || wanted.contains(WebhookPush.normalize(reconciler.application.repository)) {
            reconciler.trigger()
            triggered.append(reconciler.application.name)
        }
        metrics.webhook(provider, outcome: triggered.isEmpty ? "unmatched" : "triggered")
        options.log.event("webhook", ["provider": provider, "delivery": delivery ?? "", "triggered": triggered.joined(separator: ",")])
        return API.response(.accepted, API.WebhookResult(triggered: triggered))
    }
}
