/// Shell-style wildcards as Kubernetes tools use them in names and values: `*` matches any run
/// of characters (none included), `?` exactly one.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        // Without wildcards, equality; in ASCII (nearly every name), bytes are characters.
        if !pattern.utf8.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") }) { return pattern == text }
        if pattern.utf8.allSatisfy({ $0 < 0x80 }) && text.utf8.allSatisfy({ $0 < 0x80 }) {
            var pattern = pattern
            var text = text
            return pattern.withUTF8 { p in text.withUTF8 { t in matches(p, t, star: UInt8(ascii: "*"), one: UInt8(ascii: "?")) } }
        }
        return matches(Array(pattern), Array(text), star: "*", one: "?")
    }

    /// The matcher over bytes or characters: `star` matches any run, `one` exactly one element.
    static func matches<C: RandomAccessCollection>(_ p: C, _ t: C, star: C.Element, one: C.Element) -> Bool where C.Element: Equatable, C.Index == Int {
        var pi = 0
        var ti = 0
        var mark = 0
        var starAt = -1
        while ti < t.count {
            if pi < p.count, p[pi] == one || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == star {
                starAt = pi
                mark = ti
                pi += 1
            } else if starAt >= 0 {
                pi = starAt + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == star { pi += 1 }
        return pi == p.count
    }
}
