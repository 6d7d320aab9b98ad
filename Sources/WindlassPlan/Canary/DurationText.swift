import WindlassManifest

/// Durations as Kubernetes and Argo Rollouts write them: `30s`, `5m`, `1h30m`, `250ms`, or a
/// bare number of seconds.
public enum DurationText {
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty { return nil }
        if let plain = Double(trimmed) { return plain >= 0 ? plain : nil }
        var total = 0.0
        var number = ""
        var index = trimmed.startIndex
        while index < trimmed.endIndex {
            let c = trimmed[index]
            if c.isNumber || c == "." {
                number.append(c)
                index = trimmed.index(after: index)
                continue
            }
            guard let value = Double(number) else { return nil }
            let rest = trimmed[index...]
            let unit: String
            if rest.hasPrefix("ms") { unit = "ms" } else if rest.hasPrefix("h") { unit = "h" } else if rest.hasPrefix("m") { unit = "m" } else if rest.hasPrefix("s") { unit = "s" } else { return nil }
            switch unit {
            case "ms": total += value / 1000
            case "s": total += value
            case "m": total += value * 60
            default: total += value * 3600
            }
            number = ""
            index = trimmed.index(index, offsetBy: unit.count)
        }
        return number.isEmpty ? total : nil
    }

    /// `30s`, `2m`, `1m30s`, `0.5s`.
    public static func format(_ seconds: Double) -> String {
        if seconds < 60 || seconds != seconds.rounded() {
            return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
        }
        let whole = Int(seconds)
        var out = ""
        if whole >= 3600 { out += "\(whole / 3600)h" }
        if whole % 3600 >= 60 { out += "\(whole % 3600 / 60)m" }
        if whole % 60 > 0 { out += "\(whole % 60)s" }
        return out
    }
}
