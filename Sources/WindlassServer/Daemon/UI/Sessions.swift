import Foundation
import Synchronization
import WindlassManifest

/// What a credential may do: read everything, or read and change.
enum Access: String, Sendable, Hashable, Codable {
    case read
    case write
}

/// The web UI's sessions: a token typed at the login page is exchanged for a random session id
/// (kept in an HttpOnly, SameSite=Strict cookie) and a CSRF token (kept by the page, sent back
/// in `X-CSRF-Token` with every change). Sessions live in memory: a restarted daemon asks for
/// the token again. At most `capacity` live at once; the oldest goes first.
final class SessionStore: Sendable {
    struct Session: Sendable, Hashable {
        var id: String
        var csrf: String
        var access: Access
        var expires: Double
    }

    static let cookieName = "windlass_session"

    let lifetime: Double
    let capacity: Int
    private let sessions = Mutex<[String: Session]>([:])

    init(lifetime: Double, capacity: Int = 1_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// A new session for a token that was accepted with `access`.
    func open(access: Access, now: Double = Date().timeIntervalSince1970) -> Session {
        let session = Session(id: BearerToken.make(), csrf: BearerToken.make(), access: access, expires: now + lifetime)
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expires > now }
            if sessions.count >= capacity, let oldest = sessions.values.min(by: { $0.expires < $1.expires }) {
                sessions.removeValue(forKey: oldest.id)
            }
            sessions[session.id] = session
        }
        return session
    }

    /// The live session with this id (an expired one is forgotten).
    func session(_ id: String, now: Double = Date().timeIntervalSince1970) -> Session? {
        sessions.withLock { sessions in
            // Looked up by every id, compared in constant time: the id is a secret.
            guard let found = sessions.values.first(where: { BearerToken.matches($0.id, id) }) else { return nil }
            guard found.expires > now else {
                sessions.removeValue(forKey: found.id)
                return nil
            }
            return found
        }
    }

    func close(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }
}
