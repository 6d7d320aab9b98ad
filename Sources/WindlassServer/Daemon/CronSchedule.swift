import Glibc
import WindlassManifest

/// A standard five-field cron expression (minute, hour, day of month, month, day of week), or
/// one of the shortcuts `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
/// `@hourly`. Fields take `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, and
/// month and weekday names (`JAN`, `MON`); weekday 0 and 7 are Sunday. As in Vixie cron, when
/// both day of month and day of week are restricted, a day matching either fires. Times are UTC.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    /// The allowed values of each field, as bit sets.
    let minutes: UInt64
    let hours: UInt32
    let days: UInt32
    let months: UInt16
    let weekdays: UInt8
    let dayRestricted: Bool
    let weekdayRestricted: Bool
    public let description: String

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// Offset of the problem in the expression (0-based, in characters).
        public var offset: Int
        public var message: String
        public var description: String { message }
    }

    static let shortcuts: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let weekdayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingWhitespace()
        description = trimmed
        var expression = trimmed
        if trimmed.hasPrefix("@") {
            guard let expanded = Self.shortcuts[trimmed.lowercased()] else {
                throw ParseError(offset: 0, message: "\"\(trimmed)\" is not a cron shortcut (use @yearly, @monthly, @weekly, @daily or @hourly)")
            }
            expression = expanded
        }
        // Fields with their offsets in the text, for located errors.
        var fields: [(text: Substring, offset: Int)] = []
        var index = expression.startIndex
        var offset = 0
        while index < expression.endIndex {
            while index < expression.endIndex, expression[index] == " " || expression[index] == "\t" {
                index = expression.index(after: index)
                offset += 1
            }
            guard index < expression.endIndex else { break }
            let start = index
            let startOffset = offset
            while index < expression.endIndex, expression[index] != " " && expression[index] != "\t" {
                index = expression.index(after: index)
                offset += 1
            }
            fields.append((expression[start..<index], startOffset))
        }
        guard fields.count == 5 else {
            throw ParseError(offset: 0, message: "\"\(trimmed)\" has \(fields.count) field\(fields.count == 1 ? "" : "s"); a cron schedule has 5: minute hour day-of-month month day-of-week")
        }
        let minute = try Self.field(fields[0], "minute", 0...59, names: [])
        let hour = try Self.field(fields[1], "hour", 0...23, names: [])
        let day = try Self.field(fields[2], "day of month", 1...31, names: [])
        let month = try Self.field(fields[3], "month", 1...12, names: Self.monthNames, firstName: 1)
        var weekday = try Self.field(fields[4], "day of week", 0...7, names: Self.weekdayNames, firstName: 0)
        if weekday & (1 << 7) != 0 { weekday = (weekday | 1) & ~(1 << 7) }
        minutes = minute
        hours = UInt32(truncatingIfNeeded: hour)
        days = UInt32(truncatingIfNeeded: day)
        months = UInt16(truncatingIfNeeded: month)
        weekdays = UInt8(truncatingIfNeeded: weekday)
        dayRestricted = !fields[2].text.hasPrefix("*")
        weekdayRestricted = !fields[4].text.hasPrefix("*")
    }

    /// One field as a bit set of its allowed values.
    static func field(
        _ field: (text: Substring, offset: Int), _ name: String, _ range: ClosedRange<Int>, names: [String], firstName: Int = 0
    ) throws(ParseError) -> UInt64 {
        var bits: UInt64 = 0
        var offset = field.offset
        for part in field.text.split(separator: ",", omittingEmptySubsequences: false) {
            defer { offset += part.count + 1 }
            func fail(_ message: String) -> ParseError { ParseError(offset: offset, message: "\(name) \"\(part)\": \(message)") }
            func value(_ text: Substring) throws(ParseError) -> Int {
                if let number = Int(text) {
                    guard range.contains(number) else { throw fail("\(number) is outside \(range.lowerBound)-\(range.upperBound)") }
                    return number
                }
                if let index = names.firstIndex(of: text.uppercased()) { return index + firstName }
                throw fail("\"\(text)\" is not a number\(names.isEmpty ? "" : " or a name such as \(names[0])")")
            }
            guard !part.isEmpty else { throw fail("empty list item") }
            let pieces = part.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { throw fail("the step must be a positive number") }
                step = parsed
            }
            let base = pieces[0]
            var low = range.lowerBound
            var high = range.upperBound
            if base != "*" {
                let bounds = base.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
                low = try value(bounds[0])
                high = bounds.count == 2 ? try value(bounds[1]) : (pieces.count == 2 ? range.upperBound : low)
                guard low <= high else { throw fail("the range runs backwards") }
            }
            for v in stride(from: low, through: high, by: step) { bits |= 1 << UInt64(v) }
        }
        return bits
    }

    /// The first time strictly after `time` (seconds since the epoch) at which the schedule
    /// fires, on a minute boundary; nil if none within eight years (`0 0 30 2 *`).
    public func next(after time: Double) -> Double? {
        var t = time_t(Int(time.rounded(.down)) / 60 * 60 + 60)
        let limit = t + 8 * 366 * 86_400
        var parts = tm()
        while t < limit {
            gmtime_r(&t, &parts)
            let month = Int(parts.tm_mon) + 1
            if months & (1 << UInt16(month)) == 0 {
                // To the first minute of the next month.
                parts.tm_mon += 1
                parts.tm_mday = 1
                parts.tm_hour = 0
                parts.tm_min = 0
                parts.tm_sec = 0
                t = timegm(&parts)
                continue
            }
            if !matchesDay(day: Int(parts.tm_mday), weekday: Int(parts.tm_wday)) {
                parts.tm_mday += 1
                parts.tm_hour = 0
                parts.tm_min = 0
                parts.tm_sec = 0
                t = timegm(&parts)
                continue
            }
            if hours & (1 << UInt32(parts.tm_hour)) == 0 {
                parts.tm_hour += 1
                parts.tm_min = 0
                parts.tm_sec = 0
                t = timegm(&parts)
                continue
            }
            if minutes & (1 << UInt64(parts.tm_min)) == 0 {
                t += 60
                continue
            }
            return Double(t)
        }
        return nil
    }

    func matchesDay(day: Int, weekday: Int) -> Bool {
        let dayOK = days & (1 << UInt32(day)) != 0
        let weekdayOK = weekdays & (1 << UInt8(weekday)) != 0
        switch (dayRestricted, weekdayRestricted) {
        case (true, true): return dayOK || weekdayOK
        case (true, false): return dayOK
        case (false, true): return weekdayOK
        case (false, false): return true
        }
    }
}
