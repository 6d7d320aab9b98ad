/// A string in double quotes for messages, cut short when long, newlines shown as `\n`.
func quoted(_ text: String, limit: Int = 60) -> String {
    let shown = text.count > limit ? String(text.prefix(limit)) + "…" : text
    return "\"" + shown.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n") + "\""
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
