/// RFC 3339 timestamps as Kubernetes writes them (`2026-11-27T17:15:50Z`), from seconds since 1970.
public enum Timestamp {
    public static func rfc3339(_ seconds: Double) -> String {
        let whole = Int64(seconds.rounded(.down))
        let days = whole >= 0 ? whole / 86_400 : -((-whole + 86_399) / 86_400)
        let secondOfDay = Int(whole - days * 86_400)
        let (year, month, day) = civil(days: Int(days))
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))Z"
    }

    /// With microseconds (`2026-11-27T17:15:50.123456Z`), as Kubernetes writes a MicroTime.
    public static func rfc3339Micro(_ seconds: Double) -> String {
        let base = rfc3339(seconds)
        let micros = Int(((seconds - seconds.rounded(.down)) * 1_000_000).rounded()) % 1_000_000
        return String(base.dropLast()) + "." + pad(micros, 6) + "Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` (fractions and offsets are not used by Windlass's own stamps).
    public static func parse(_ text: String) -> Double? {
        let parts = text.split(whereSeparator: { "-T:Z".contains($0) }).compactMap { Int($0) }
        guard parts.count >= 6 else { return nil }
        let days = daysFromCivil(year: parts[0], month: parts[1], day: parts[2])
        return Double(days * 86_400 + parts[3] * 3600 + parts[4] * 60 + parts[5])
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// Howard Hinnant's civil-from-days and days-from-civil.
    public static func civil(days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
