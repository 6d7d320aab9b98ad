/// Patterns from `.windlassignore` files, with gitignore's meaning: `#` comments, `!` to
/// re-include, a trailing `/` for directories only, a `/` at the start or middle anchoring the
/// pattern to the file's directory, `*`, `?`, `[a-z]` and `**`. A file in a subdirectory applies
/// below that directory; a later (deeper) match wins. As in git, a file inside an ignored
/// directory cannot be re-included.
public struct IgnoreRules: Sendable {
    /// The name of the files the loader reads rules from, in any directory of the tree.
    public static let fileName = ".windlassignore"

    struct Rule: Sendable {
        var base: String
        var pattern: [UInt8]
        var negated: Bool
        var directoryOnly: Bool
        var anchored: Bool
    }

    private var rules: [Rule] = []

    public init() {}

    /// Adds the rules of an ignore file found in `directory` ("" for the root).
    public mutating func add(_ text: String, in directory: String) {
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            // Trailing spaces are ignored unless escaped.
            while line.hasSuffix(" "), !line.hasSuffix("\\ ") { line = line.dropLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            var negated = false
            if line.hasPrefix("!") {
                negated = true
                line = line.dropFirst()
            } else if line.hasPrefix("\\!") || line.hasPrefix("\\#") {
                line = line.dropFirst()
            }
            var directoryOnly = false
            if line.hasSuffix("/") {
                directoryOnly = true
                line = line.dropLast()
            }
            let anchored = line.contains("/")
            if line.hasPrefix("/") { line = line.dropFirst() }
            if line.isEmpty { continue }
            rules.append(
                Rule(
                    base: directory,
                    pattern: Array(line.utf8),
                    negated: negated,
                    directoryOnly: directoryOnly,
                    anchored: anchored
                )
            )
        }
    }

    public var isEmpty: Bool { rules.isEmpty }

    /// Whether `path` (relative to the tree's root) is ignored.
    public func isIgnored(_ path: String, isDirectory: Bool) -> Bool {
        var ignored = false
        for rule in rules {
            if rule.directoryOnly, !isDirectory { continue }
            let relative: Substring
            if rule.base.isEmpty {
                relative = Substring(path)
            } else if path.hasPrefix(rule.base + "/") {
                relative = path.dropFirst(rule.base.count + 1)
            } else {
                continue
            }
            let subject: Substring
            if rule.anchored {
                subject = relative
            } else if let slash = relative.lastIndex(of: "/") {
                subject = relative[relative.index(after: slash)...]
            } else {
                subject = relative
            }
            if Self.wildmatch(rule.pattern[...], Array(subject.utf8)[...]) {
                ignored = !rule.negated
            }
        }
        return ignored
    }

    /// gitignore-style glob matching: `*` and `?` stop at `/`, `**` crosses directories.
    static func wildmatch(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        let slash = UInt8(ascii: "/")
        var p = pattern.startIndex
        var t = text.startIndex
        while p < pattern.endIndex {
            let c = pattern[p]
            switch c {
            case UInt8(ascii: "*"):
                let isDoubleStar = p + 1 < pattern.endIndex && pattern[p + 1] == UInt8(ascii: "*")
                if isDoubleStar {
                    var rest = p + 2
                    // `**/` also matches zero directories.
                    if rest < pattern.endIndex, pattern[rest] == slash {
                        rest += 1
                        if wildmatch(pattern[rest...], text[t...]) { return true }
                    }
                    var i = t
                    while i <= text.endIndex {
                        if wildmatch(pattern[rest...], text[i...]) { return true }
                        i += 1
                    }
                    return false
                }
                var i = t
                while true {
                    if wildmatch(pattern[(p + 1)...], text[i...]) { return true }
                    if i == text.endIndex || text[i] == slash { return false }
                    i += 1
                }
            case UInt8(ascii: "?"):
                guard t < text.endIndex, text[t] != slash else { return false }
                p += 1
                t += 1
            case UInt8(ascii: "["):
                guard t < text.endIndex, text[t] != slash,
                    let (matched, next) = matchClass(pattern, from: p, byte: text[t])
                else { return false }
                guard matched else { return false }
                p = next
                t += 1
            case UInt8(ascii: "\\") where p + 1 < pattern.endIndex:
                guard t < text.endIndex, text[t] == pattern[p + 1] else { return false }
                p += 2
                t += 1
            default:
                guard t < text.endIndex, text[t] == c else { return false }
                p += 1
                t += 1
            }
        }
        return t == text.endIndex
    }

    /// Matches `[...]` at `start`; nil when the class is not closed.
    private static func matchClass(_ pattern: ArraySlice<UInt8>, from start: Int, byte: UInt8) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < pattern.endIndex, pattern[i] == UInt8(ascii: "!") || pattern[i] == UInt8(ascii: "^") {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < pattern.endIndex {
            var c = pattern[i]
            if c == UInt8(ascii: "]"), !first { return (matched != negate, i + 1) }
            first = false
            if c == UInt8(ascii: "\\"), i + 1 < pattern.endIndex {
                i += 1
                c = pattern[i]
            }
            if i + 2 < pattern.endIndex, pattern[i + 1] == UInt8(ascii: "-"), pattern[i + 2] != UInt8(ascii: "]") {
                if byte >= c && byte <= pattern[i + 2] { matched = true }
                i += 3
            } else {
                if byte == c { matched = true }
                i += 1
            }
        }
        return nil
    }
}
