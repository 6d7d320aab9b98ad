public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process in a process group of its own, so that a plugin that hangs is killed with
/// everything it started (a shell script's children hold its pipes open otherwise).
public enum ChildProcess {
    /// The child could not be started (the message is the system's).
    public struct Failure: Error, LocalizedError {
        public var errorDescription: String?
    }

    /// What a child did: its exit status (128 + the signal when killed), what it printed, and
    /// whether it was stopped for running too long or printing too much.
    public struct Outcome: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
        public var timedOut: Bool
        /// Whether stdout grew past the limit (the child was killed; `stdout` is cut there).
        public var outputExceeded: Bool
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and newer), which Swift's
    /// Glibc module does not export.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// glibc's `pipe2` (which Swift's Glibc module does not export), so the pipe is
    /// close-on-exec from the start; `pipe` and `fcntl` where it is missing.
    private static let pipe2: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32).self)
    }()

    private static func closeOnExecPipe(_ fds: inout [Int32]) -> Int32 {
        if let pipe2 = Self.pipe2 { return fds.withUnsafeMutableBufferPointer { pipe2($0.baseAddress!, O_CLOEXEC) } }
        guard pipe(&fds) == 0 else { return -1 }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return 0
    }

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29 and newer).
    private static let changeDirectory: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()

    /// Runs `command` (`command[0]` a path) with `environment`, stdin from /dev/null; after
    /// `timeout` seconds the whole group is killed.
    public static func run(_ command: [String], environment: [String: String], timeout: Double) throws -> (status: Int32, stdout: Data, stderr: Data, timedOut: Bool) {
        let outcome = try run(command, environment: environment, timeout: timeout, maxOutputBytes: Int.max)
        return (outcome.status, outcome.stdout, outcome.stderr, outcome.timedOut)
    }

    /// Runs `command` (`command[0]` a path) in `directory` (nil: this process's) with
    /// `environment`, stdin from /dev/null. After `timeout` seconds, or once stdout passes
    /// `maxOutputBytes`, the whole group is killed. Blocks the calling thread.
    public static func run(
        _ command: [String], environment: [String: String], directory: String? = nil, timeout: Double, maxOutputBytes: Int
    ) throws -> Outcome {
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        // Close-on-exec: a child another thread spawns meanwhile (with fork and exec) must not
        // inherit these pipes, or their reads would wait for that child to end. dup2 clears
        // the flag on the child's own stdout and stderr.
        guard Self.closeOnExecPipe(&out) == 0 else { throw Failure(errorDescription: "pipe: \(String(cString: strerror(errno)))") }
        guard Self.closeOnExecPipe(&err) == 0 else {
            close(out[0]); close(out[1])
            throw Failure(errorDescription: "pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for fd in out + err { posix_spawn_file_actions_addclose(&actions, fd) }
        // The plugin inherits nothing else: no sockets, no files other threads have open.
        if let closeFrom = Self.closeFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        if let directory { Self.changeDirectory?(&actions, directory) }
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        var spawned = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        // A plugin just written (by an installer, or a test) may still be open for writing in a
        // child another thread forked meanwhile: try again shortly.
        for _ in 0..<10 where spawned == ETXTBSY {
            usleep(20_000)
            spawned = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        }
        close(out[1])
        close(err[1])
        guard spawned == 0 else {
            close(out[0]); close(err[0])
            throw Failure(errorDescription: String(cString: strerror(spawned)))
        }
        defer { close(out[0]); close(err[0]) }
        let deadline = Date().addingTimeInterval(timeout)
        var stdout = Data()
        var stderr = Data()
        var open: [Int32] = [out[0], err[0]]
        var timedOut = false
        var outputExceeded = false
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                timedOut = true
                break
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000, 1000)) + 1)
            if ready < 0 && errno != EINTR { break }
            for entry in fds where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if entry.fd == out[0] {
                        stdout.append(contentsOf: buffer[..<count])
                        if stdout.count > maxOutputBytes { outputExceeded = true }
                    } else if stderr.count < 1 << 20 {
                        stderr.append(contentsOf: buffer[..<count])
                    }
                } else {
                    open.removeAll { $0 == entry.fd }
                }
            }
            if outputExceeded { break }
        }
        if timedOut || outputExceeded { kill(-pid, SIGKILL) }
        var status: Int32 = 0
        while true {
            if waitpid(pid, &status, timedOut || outputExceeded ? 0 : WNOHANG) == pid { break }
            if Date() > deadline.addingTimeInterval(1) {
                // The pipes closed but the plugin lingers: stop waiting for it.
                kill(-pid, SIGKILL)
                timedOut = true
            }
            usleep(2_000)
        }
        let exited = (status & 0x7f) == 0
        if outputExceeded { stdout = stdout.prefix(maxOutputBytes) }
        return Outcome(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), stdout: stdout, stderr: stderr, timedOut: timedOut, outputExceeded: outputExceeded)
    }
}
