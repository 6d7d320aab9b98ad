/// Line diffs (Myers' O((N+M)D) algorithm) and unified hunks, for the diffs plans show.
public enum LineDiff {
    public enum Line: Sendable, Hashable {
        case same(String)
        case removed(String)
        case added(String)
    }

    /// The shortest edit script turning `a` into `b`.
    public static func diff(_ a: [String], _ b: [String]) -> [Line] {
        let n = a.count
        let m = b.count
        let max = n + m
        if max == 0 { return [] }
        var v = [Int](repeating: 0, count: 2 * max + 2)
        var trace: [[Int]] = []
        let offset = max + 1
        outer: for d in 0...max {
            trace.append(v)
            for k in stride(from: -d, through: d, by: 2) {
                var x: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                    x = v[offset + k + 1]
                } else {
                    x = v[offset + k - 1] + 1
                }
                var y = x - k
                while x < n && y < m && a[x] == b[y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                if x >= n && y >= m { break outer }
            }
        }
        // Walk back through the trace.
        var out: [Line] = []
        var x = n
        var y = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let v = trace[d]
            let k = x - y
            let previousK: Int
            if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                previousK = k + 1
            } else {
                previousK = k - 1
            }
            let previousX = v[offset + previousK]
            let previousY = previousX - previousK
            while x > previousX && y > previousY {
                out.append(.same(a[x - 1]))
                x -= 1
                y -= 1
            }
            if d > 0 {
                if x == previousX {
                    out.append(.added(b[y - 1]))
                } else {
                    out.append(.removed(a[x - 1]))
                }
            }
            x = previousX
            y = previousY
        }
        return out.reversed()
    }

    /// Unified hunks: `@@ -l,s +l,s @@` headers and ` `/`-`/`+` lines, `context` lines around
    /// each change.
    public static func unified(_ a: [String], _ b: [String], context: Int = 3) -> [String] {
        let lines = diff(a, b)
        var changed: [Int] = []
        for (index, line) in lines.enumerated() {
            if case .same = line { continue }
            changed.append(index)
        }
        guard !changed.isEmpty else { return [] }
        // Group changes whose context overlaps.
        var groups: [(Int, Int)] = []
        for index in changed {
            let start = Swift.max(0, index - context)
            let end = Swift.min(lines.count - 1, index + context)
            if let last = groups.last, start <= last.1 + 1 {
                groups[groups.count - 1].1 = end
            } else {
                groups.append((start, end))
            }
        }
        // Line numbers at each position.
        var oldLine = [Int](repeating: 0, count: lines.count + 1)
        var newLine = [Int](repeating: 0, count: lines.count + 1)
        for (index, line) in lines.enumerated() {
            oldLine[index + 1] = oldLine[index] + (line.isAdded ? 0 : 1)
            newLine[index + 1] = newLine[index] + (line.isRemoved ? 0 : 1)
        }
        var out: [String] = []
        for (start, end) in groups {
            let slice = lines[start...end]
            let oldCount = slice.filter { !$0.isAdded }.count
            let newCount = slice.filter { !$0.isRemoved }.count
            let oldStart = oldCount == 0 ? oldLine[start] : oldLine[start] + 1
            let newStart = newCount == 0 ? newLine[start] : newLine[start] + 1
            out.append("@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@")
            for line in slice {
                switch line {
                case .same(let text): out.append(" " + text)
                case .removed(let text): out.append("-" + text)
                case .added(let text): out.append("+" + text)
                }
            }
        }
        return out
    }
}

extension LineDiff.Line {
    var isAdded: Bool {
        if case .added = self { return true }
        return false
    }

    var isRemoved: Bool {
        if case .removed = self { return true }
        return false
    }
}
