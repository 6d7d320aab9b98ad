/// RFC 3339 timestamps as Kubernetes writes them (`2026-11-27T17:15:50Z`), from seconds since 1970.
public enum Timestamp {
    public static func rfc3339(_ seconds: Double) -> String {
        let whole = Int64(seconds.rounded(.down))
        let days = whole >= 0 ? whole / 86_400 : -((-whole + 86_399) / 86_400)
        let secondOfDay = Int(whole - days * 86_400)
        let (year, month, day) = civil(days: Int(days))
        guard (0...9999).contains(year) else {
            return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))Z"
        }
        // Written byte by byte: the controllers stamp every status they write.
        return String(unsafeUninitializedCapacity: 20) { buffer in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var value = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(month, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(day, 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put(secondOfDay / 3600, 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, 2, at: 17)
            buffer[19] = UInt8(ascii: "Z")
            return 20
        }
    }

    /// With microseconds (`2026-11-27T17:15:50.123456Z`), as Kubernetes writes a MicroTime.
    public static func rfc3339Micro(_ seconds: Double) -> String {
        let base = rfc3339(seconds)
        let micros = Int(((seconds - seconds.rounded(.down)) * 1_000_000).rounded()) % 1_000_000
        return String(base.dropLast()) + "." + pad(micros, 6) + "Z"
    }

    /// Parses an RFC 3339 time: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of a second (a
    /// MicroTime's), then `Z` or an offset such as `+02:00` (none is read as UTC).
    public static func parse(_ text: String) -> Double? {
        var bytes = text.utf8.makeIterator()
        var next = bytes.next()
        /// Digits up to the next non-digit, which must be `separator` (nil: anything, kept in `next`).
        func number(then separators: [UInt8]?) -> Int? {
            var value = 0
            var digits = 0
            while let byte = next, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 9 else { return nil }
                next = bytes.next()
            }
            guard digits > 0 else { return nil }
            if let separators {
                guard let byte = next, separators.contains(byte) else { return nil }
                next = bytes.next()
            }
            return value
        }
        guard let year = number(then: [UInt8(ascii: "-")]), let month = number(then: [UInt8(ascii: "-")]),
            let day = number(then: [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")]),
            let hour = number(then: [UInt8(ascii: ":")]), let minute = number(then: [UInt8(ascii: ":")]), let second = number(then: nil),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var fraction = 0.0
        if next == UInt8(ascii: ".") {
            next = bytes.next()
            var scale = 0.1
            var digits = 0
            while let byte = next, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                fraction += Double(byte - UInt8(ascii: "0")) * scale
                scale /= 10
                digits += 1
                next = bytes.next()
            }
            guard digits > 0 else { return nil }
        }
        var offset = 0
        switch next {
        case nil: break
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            next = bytes.next()
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = next == UInt8(ascii: "-") ? -1 : 1
            next = bytes.next()
            guard let hours = number(then: [UInt8(ascii: ":")]), let minutes = number(then: nil), hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        default: return nil
        }
        guard next == nil else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
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
