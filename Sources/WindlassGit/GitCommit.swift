import WindlassManifest

/// A commit's identity and metadata.
public struct GitCommit: Sendable, Hashable, Codable {
    /// The full 40-digit SHA.
    public var sha: String
    public var authorName: String
    public var authorEmail: String
    /// Seconds since 1970-01-01 UTC.
    public var time: Int64
    /// The author's UTC offset, in minutes.
    public var timeZoneOffsetMinutes: Int
    public var message: String

    /// The first seven digits, as git prints them.
    public var shortSHA: String { String(sha.prefix(7)) }

    /// The first line of the message.
    public var subject: String {
        String(message.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// `2026-11-27T16:06:55+01:00`, in the author's own time zone.
    public var isoDate: String {
        let local = time + Int64(timeZoneOffsetMinutes) * 60
        let days = Int(floorDivide(local, 86_400))
        let seconds = Int(local - Int64(days) * 86_400)
        let (year, month, day) = Timestamp.civil(days: days)
        let sign = timeZoneOffsetMinutes < 0 ? "-" : "+"
        let offset = abs(timeZoneOffsetMinutes)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
            + "\(sign)\(pad(offset / 60, 2)):\(pad(offset % 60, 2))"
    }
}

private func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}

private func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, width - text.count)) + text
}
