import WindlassManifest

#if canImport(Glibc)
import Glibc
#endif

/// Where the CLI writes: the process's stdout and stderr.
enum Console {
    /// Whether output goes to a terminal.
    static var isTerminal: Bool { isatty(1) == 1 }
}

/// What a command prints, to stdout. Every command
/// writes through it (and `printError`), never through the standard library's `print`.
func printOut(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    // What manifests, commits and servers wrote reaches the terminal escaped; colors are ours.
    consoleWrite(TerminalText.escaped(items.map { "\($0)" }.joined(separator: separator) + terminator, keepingColors: true))
}

/// Writes text as it is to the CLI's stdout.
func consoleWrite(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { break }
        offset += n
    }
}

func printError(_ message: String) {
    var line = TerminalText.escaped(message)
    if !line.hasSuffix("\n") { line += "\n" }
    _ = line.withCString { write(2, $0, strlen($0)) }
}
