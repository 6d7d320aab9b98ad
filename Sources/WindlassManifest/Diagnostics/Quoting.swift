/// A string in double quotes for messages, cut short when long, newlines shown as `\n` and
/// other control characters as JSON escapes.
func quoted(_ text: String, limit: Int = 60) -> String {
    let shown = text.count > limit ? String(text.prefix(limit)) + "…" : text
    return "\"" + TerminalText.escaped(shown.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n")) + "\""
}

/// Text made safe for a terminal: what a manifest, a commit or a server wrote never reaches it
/// as control sequences (colors, cursor moves, window titles, hyperlinks, bidirectional
/// overrides that reorder what is shown).
public enum TerminalText {
    /// Control characters (C0 but newline and tab, DEL, C1) and bidirectional controls written
    /// as JSON writes them (`\u001b`). With `keepingColors`, the color codes Windlass itself
    /// writes (`ESC[0m`, `ESC[1m`, `ESC[31m`, `ESC[32m`, `ESC[33m`, `ESC[36m`) are kept.
    public static func escaped(_ text: String, keepingColors: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if keepingColors, scalar == "\u{1B}", let length = ownColor(scalars, at: index) {
                out.append(contentsOf: scalars[index..<(index + length)])
                index += length
                continue
            }
            if needsEscape(scalar) {
                let hex = String(scalar.value, radix: 16)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex).unicodeScalars)
            } else {
                out.append(scalar)
            }
            index += 1
        }
        return String(out)
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: return false
        case 0..<0x20, 0x7F...0x9F: return true
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// The length of one of Windlass's own color sequences at `index`, if one starts there.
    private static func ownColor(_ scalars: [Unicode.Scalar], at index: Int) -> Int? {
        for code in ["0", "1", "31", "32", "33", "36"] {
            let sequence = Array("\u{1B}[\(code)m".unicodeScalars)
            if index + sequence.count <= scalars.count, Array(scalars[index..<(index + sequence.count)]) == sequence { return sequence.count }
        }
        return nil
    }
}

/// "a string", "an integer", "an object".
func article(_ typeName: String) -> String {
    let vowels: Set<Character> = ["a", "e", "i", "o", "u"]
    return (typeName.first.map { vowels.contains($0) } ?? false ? "an " : "a ") + typeName
}

/// A size for messages: `64 MiB`, `512 KiB`, `40 bytes`.
public func describeBytes(_ count: Int) -> String {
    if count >= 1 << 20, count % (1 << 20) == 0 { return "\(count >> 20) MiB" }
    if count >= 1 << 10, count % (1 << 10) == 0 { return "\(count >> 10) KiB" }
    return count == 1 ? "1 byte" : "\(count) bytes"
}
