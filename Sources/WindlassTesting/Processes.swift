public import Foundation

/// A command's outcome.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// A failed command, with what it printed.
public struct CommandError: Error, CustomStringConvertible {
    public var command: String
    public var result: CommandResult
    public var description: String { "\(command) exited \(result.status): \(result.stderr)\(result.stdout)" }
}

/// Runs a program to completion.
@discardableResult
public func run(
    _ executable: String,
    _ arguments: [String],
    in directory: String? = nil,
    environment: [String: String] = [:],
    check: Bool = true
) throws -> CommandResult {
    let process = makeProcess(executable, arguments, in: directory, environment: environment)
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes while the process runs, so neither fills up.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    let result = CommandResult(
        status: process.terminationStatus,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self)
    )
    if check, result.status != 0 {
        throw CommandError(command: ([executable] + arguments).joined(separator: " "), result: result)
    }
    return result
}

/// Runs blocking `work` (a child process waited for, a long synchronous walk) on a thread of
/// its own and awaits it. Swift's cooperative pool has one thread per core, two on CI machines:
/// a test that blocks one of them for minutes halves the speed of every other test, and two
/// such tests stop them all (timing bounds elsewhere then fail for no fault of their own).
/// Expectations belong in the caller, after the await: `work` runs outside the test's task.
public func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.stackSize = 8 << 20
        thread.name = "windlass-test.blocking"
        thread.start()
    }
}

/// A process for `executable` (a path, or a name looked up in PATH) with extra environment.
private func makeProcess(_ executable: String, _ arguments: [String], in directory: String?, environment: [String: String]) -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
    process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    return process
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw CommandError(command: "bind", result: CommandResult(status: errno, stdout: "", stderr: "cannot bind")) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
public func waitForPort(_ port: Int, timeout: Double = 10) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        close(fd)
        if connected { return }
        usleep(20_000)
    }
    throw CommandError(command: "wait for port \(port)", result: CommandResult(status: 1, stdout: "", stderr: "nothing listens"))
}

/// SIGTERM to `process`, then its exit status once it stops (nil: still running after
/// `timeout` seconds) and how long that took.
public func terminate(_ process: Process, timeout: Double = 10) async throws -> (status: Int32?, seconds: Double) {
    let start = Date()
    process.terminate()
    while process.isRunning && Date().timeIntervalSince(start) < timeout {
        try await Task.sleep(for: .milliseconds(20))
    }
    return (process.isRunning ? nil : process.terminationStatus, Date().timeIntervalSince(start))
}

/// A background process a test started; stopped (and waited for) when released.
public final class BackgroundProcess: @unchecked Sendable {
    public let process: Process

    /// Starts the process; its output goes to `log` when given, else nowhere.
    public init(_ executable: String, _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:], logTo log: String? = nil) throws {
        process = makeProcess(executable, arguments, in: directory, environment: environment)
        if let log {
            FileManager.default.createFile(atPath: log, contents: nil)
            let handle = FileHandle(forWritingAtPath: log)
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
    }

    /// SIGTERM, then SIGKILL if it has not exited within two seconds.
    public func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        process.terminate()
        for _ in 0..<100 where process.isRunning {
            usleep(20_000)
        }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    deinit {
        stop()
    }
}
