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
/// in `X-CSRF-Token` with every change). With a `file`, sessions outlive a restart of the daemon
/// (an open page reconnects and goes on), as Argo CD's do: the file (0600) holds each session's
/// id only as its SHA-256, so reading it gives no session away, and a session is restored only
/// while the token that opened it is still accepted with the same access (a token removed from
/// the config ends its sessions at the restart). At most `capacity` live at
/// once; the oldest goes first.
final class SessionStore: Sendable {
    struct Session: Sendable, Hashable {
        var id: String
        var token: String
        var csrf: String
        var access: Access
        var expires: Double
    }

    /// A session as the file keeps it.
    private struct Stored: Codable {
        var digest: String
        /// The SHA-256 of the token that opened it.
        var token: String
        var csrf: String
        var access: Access
        var expires: Double
    }

    static let cookieName = "windlass_session"

    let lifetime: Double
    let capacity: Int
    private let file: String?
    /// By the SHA-256 of the id.
    private let sessions: Mutex<[String: Session]>

    /// `stillAccepted` says, for a restored session, whether the SHA-256 of the token that
    /// opened it is still accepted with that access.
    init(
        lifetime: Double, capacity: Int = 1_000, file: String? = nil, now: Double = Date().timeIntervalSince1970,
        stillAccepted: (_ tokenDigest: String, Access) -> Bool = { _, _ in false }
    ) {
        self.lifetime = lifetime
        self.capacity = capacity
        self.file = file
        var restored: [String: Session] = [:]
        if let file, let data = FileManager.default.contents(atPath: file), let stored = try? JSONDecoder().decode([Stored].self, from: data) {
            for entry in stored where entry.expires > now && stillAccepted(entry.token, entry.access) {
                restored[entry.digest] = Session(id: "", token: entry.token, csrf: entry.csrf, access: entry.access, expires: entry.expires)
            }
        }
        sessions = Mutex(restored)
    }

    static func digest(_ secret: String) -> String { HMACSHA256.digest(Array(secret.utf8)) }

    /// Writes the sessions to the file (under the lock, so writes keep their order).
    private func save(_ sessions: [String: Session]) {
        guard let file else { return }
        let stored = sessions.map { Stored(digest: $0.key, token: $0.value.token, csrf: $0.value.csrf, access: $0.value.access, expires: $0.value.expires) }
        guard let data = try? JSONEncoder().encode(stored) else { return }
        SmallFile.write(String(decoding: data, as: UTF8.self), to: file)
    }

    /// A new session for `token`, which was accepted with `access`.
    func open(access: Access, token: String, now: Double = Date().timeIntervalSince1970) -> Session {
        let session = Session(id: BearerToken.make(), token: Self.digest(token), csrf: BearerToken.make(), access: access, expires: now + lifetime)
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expires > now }
            if sessions.count >= capacity, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires }) {
                sessions.removeValue(forKey: oldest.key)
            }
            sessions[Self.digest(session.id)] = session
            save(sessions)
        }
        return session
    }

    /// The live session with this id (an expired one is forgotten).
    func session(_ id: String, now: Double = Date().timeIntervalSince1970) -> Session? {
        // Looked up by the id's SHA-256: a lookup's timing says nothing of the id itself.
        let digest = Self.digest(id)
        return sessions.withLock { sessions in
            guard var found = sessions[digest] else { return nil }
            guard found.expires > now else {
                sessions.removeValue(forKey: digest)
                save(sessions)
                return nil
            }
            found.id = id
            return found
        }
    }

    func close(_ id: String) {
        let digest = Self.digest(id)
        sessions.withLock { sessions in
            if sessions.removeValue(forKey: digest) != nil { save(sessions) }
        }
    }
}
