import Synchronization
import WindlassCore
import WindlassManifest

#if canImport(Glibc)
import Glibc
#endif

/// Where the CLI writes. Normally the process's stdout and stderr; for a command a daemon runs on
/// the CLI's behalf (because it owns the state directory), buffers the daemon sends back, with
/// the daemon's own cluster shared in place of opening the state directory again.
enum Console {
    final class Capture: Sendable {
        private let buffers = Mutex<(out: String, err: String)>(("", ""))
        func out(_ text: String) { buffers.withLock { $0.out += text } }
        func err(_ text: String) { buffers.withLock { $0.err += text } }
        var contents: (out: String, err: String) { buffers.withLock { $0 } }
    }

    /// Set while a daemon runs a forwarded command.
    @TaskLocal static var capture: Capture?
    /// The daemon's cluster and its state directory, for a forwarded command.
    @TaskLocal static var sharedCluster: SharedCluster?

    struct SharedCluster: Sendable {
        var stateDirectory: String
        var cluster: EmbeddedCluster
    }

    /// Whether output goes to a terminal (never for a forwarded command).
    static var isTerminal: Bool { capture == nil && isatty(1) == 1 }
}

/// What a command prints: to stdout, or to the capture of a forwarded command. Every command
/// writes through it (and `printError`), never through the standard library's `print`.
func printOut(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    // What manifests, commits and servers wrote reaches the terminal escaped; colors are ours.
    consoleWrite(TerminalText.escaped(items.map { "\($0)" }.joined(separator: separator) + terminator, keepingColors: true))
}

/// Writes text as it is to the CLI's stdout (or the capture).
func consoleWrite(_ text: String) {
    if let capture = Console.capture {
        capture.out(text)
    } else {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { break }
            offset += n
        }
    }
}

func printError(_ message: String) {
    var line = TerminalText.escaped(message)
    if !line.hasSuffix("\n") { line += "\n" }
    if let capture = Console.capture {
        capture.err(line)
    } else {
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}

/// Whether two paths name the same directory (relative or absolute, through symlinks).
enum SameFile {
    static func check(_ a: String, _ b: String) -> Bool {
        guard let x = realpath(a, nil), let y = realpath(b, nil) else { return a == b }
        defer {
            free(x)
            free(y)
        }
        return strcmp(x, y) == 0
    }
}
