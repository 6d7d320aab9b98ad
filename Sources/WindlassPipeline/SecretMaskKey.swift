public import WindlassPlan
import WindlassManifest
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The installation's key for Secret masks: 32 random bytes in `<state>/secret-mask.key`
/// (mode 0600), made on first use. Plans of one installation mask a value alike; nobody without
/// the file can test a guessed password against a mask.
public enum SecretMaskKey {
    static let fileName = "secret-mask.key"
    private static let loaded = Mutex<[String: [UInt8]]>([:])

    /// The mask of the state directory: its key read, or made when there is none. A directory
    /// that cannot hold one (read-only) gets a key for this process only, so masks still hide
    /// values but differ from run to run.
    public static func mask(stateDirectory: String) -> SecretMask {
        SecretMask(key: key(stateDirectory: stateDirectory))
    }

    static func key(stateDirectory: String) -> [UInt8] {
        loaded.withLock { cache in
            if let key = cache[stateDirectory] { return key }
            let key = stored(stateDirectory) ?? create(stateDirectory) ?? stored(stateDirectory) ?? random()
            cache[stateDirectory] = key
            return key
        }
    }

    private static func random() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    private static func stored(_ directory: String) -> [UInt8]? {
        let fd = open(directory + "/" + fileName, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &bytes, bytes.count)
        return count == 32 ? Array(bytes.prefix(32)) : nil
    }

    /// Writes a new key under a temporary name and links it into place; nil when another
    /// process made one first (read it) or the directory cannot be written.
    private static func create(_ directory: String) -> [UInt8]? {
        // A directory that cannot be made shows as the key file failing to open below.
        _ = makePrivateDirectories(directory)
        let key = random()
        let temporary = "\(directory)/\(fileName).new-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        defer { unlink(temporary) }
        guard written == 32, link(temporary, directory + "/" + fileName) == 0 else { return nil }
        return key
    }
}
