import Foundation
import Hummingbird
import Logging
import WindlassManifest

extension Daemon {
    /// `POST /api/v1/cli`: a command of the CLI on this machine, run on the daemon's cluster
    /// (the daemon owns the state directory). Only this run's token (in `daemon.json`) opens it.
    func addCommandRoutes(to group: RouterGroup<BasicRequestContext>, commands: CommandRunner?) {
        let maxBody = options.config.server.maxBodyBytes
        let bodyTimeout = options.config.server.bodyTimeout
        group.post("cli") { request, context -> Response in
            guard let token = TokenAuthentication<BasicRequestContext>.bearer(request),
                BearerToken.matches(token, self.localToken)
            else {
                return API.error(.unauthorized, "CLI commands take the token in the state directory's daemon.json")
            }
            guard let commands else { return API.error(.notFound, "this daemon runs no CLI commands") }
            var request = request
            let body: ByteBuffer
            switch await API.body(of: &request, limit: maxBody, timeout: bodyTimeout) {
            case .read(let read): body = read
            case .refused(let response): return response
            }
            guard let command = try? JSONDecoder().decode(API.CommandRequest.self, from: Data(body.readableBytesView)) else {
                return API.error(.badRequest, "expected {\"arguments\": [...]}")
            }
            self.options.log.event("cli", ["arguments": command.arguments.joined(separator: " ")], level: .debug)
            let result = await commands(command.arguments)
            return API.response(.ok, API.CommandResult(status: Int(result.status), stdout: result.stdout, stderr: result.stderr))
        }
    }
}
