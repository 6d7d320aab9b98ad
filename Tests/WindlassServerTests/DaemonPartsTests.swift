import Testing
import WindlassManifest
@testable import WindlassServer

#if canImport(Glibc)
import Glibc
#endif

@Suite("Cron schedules")
struct CronScheduleTests {
    /// Seconds since the epoch of a UTC time.
    static func time(_ y: Int32, _ mo: Int32, _ d: Int32, _ h: Int32, _ mi: Int32) -> Double {
        var parts = tm()
        parts.tm_year = y - 1900
        parts.tm_mon = mo - 1
        parts.tm_mday = d
        parts.tm_hour = h
        parts.tm_min = mi
        return Double(timegm(&parts))
    }

    static func format(_ t: Double?) -> String {
        guard let t else { return "never" }
        var seconds = time_t(t)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][Int(parts.tm_wday)]
        return "\(parts.tm_year + 1900)-\(parts.tm_mon + 1)-\(parts.tm_mday) \(parts.tm_hour):\(parts.tm_min) \(weekday)"
    }

    // From Wednesday 2026-11-25 10:07 UTC.
    @Test("next firing times", arguments: [
        ("*/10 * * * *", "2026-11-25 10:10 Wed"),
        ("0 * * * *", "2026-11-25 11:0 Wed"),
        ("@hourly", "2026-11-25 11:0 Wed"),
        ("@daily", "2026-11-26 0:0 Thu"),
        ("30 2 * * MON-FRI", "2026-11-26 2:30 Thu"),
        ("0 9 * * sun", "2026-11-29 9:0 Sun"),
        ("0 9 * * 7", "2026-11-29 9:0 Sun"),
        ("0 0 1 * *", "2026-12-1 0:0 Tue"),
        ("@yearly", "2027-1-1 0:0 Fri"),
        ("15,45 8-9 * * *", "2026-11-26 8:15 Thu"),
        ("0 0 29 2 *", "2028-2-29 0:0 Tue"),
        // Day of month and day of week both restricted: either matches (Vixie cron).
        ("0 12 1 * FRI", "2026-11-27 12:0 Fri"),
        ("0 0 31 4 *", "never"),
        ("7 10 25 11 *", "2027-11-25 10:7 Thu"),
    ])
    func next(expression: String, expected: String) throws {
        let schedule = try CronSchedule(parsing: expression)
        #expect(Self.format(schedule.next(after: Self.time(2026, 11, 25, 10, 7))) == expected)
    }

    @Test("mistakes name the field and where it is", arguments: [
        ("*/10 * * *", 0, "has 4 fields"),
        ("61 * * * *", 0, "minute \"61\": 61 is outside 0-59"),
        ("0 24 * * *", 2, "hour \"24\": 24 is outside 0-23"),
        ("0 0 * FOO *", 6, "month \"FOO\": \"FOO\" is not a number or a name such as JAN"),
        ("0 0 * * 1,2,9", 12, "day of week \"9\": 9 is outside 0-7"),
        ("*/0 * * * *", 0, "the step must be a positive number"),
        ("0 10-2 * * *", 2, "the range runs backwards"),
        ("@fortnightly", 0, "is not a cron shortcut"),
    ])
    func mistakes(expression: String, offset: Int, message: String) {
        #expect {
            try CronSchedule(parsing: expression)
        } throws: { error in
            guard let error = error as? CronSchedule.ParseError else { return false }
            return error.offset == offset && error.message.contains(message)
        }
    }
}

@Suite("Webhook signatures and payloads")
struct WebhookTests {
    @Test("HMAC-SHA256 matches RFC 4231's test cases")
    func rfc4231() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format2Hex: $0) }.joined() }
        #expect(hex(HMACSHA256.mac(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)))
            == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(hex(HMACSHA256.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // A key longer than the block is hashed first (test case 6).
        #expect(hex(HMACSHA256.mac(key: [UInt8](repeating: 0xaa, count: 131), message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
            == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test("a signature verifies with its key and body only, prefixed or not, in either case")
    func verify() {
        let body = Array("{\"ref\":\"refs/heads/main\"}".utf8)
        let signature = HMACSHA256.mac(key: Array("s3cret".utf8), message: body).map { String(format2Hex: $0) }.joined()
        #expect(HMACSHA256.verify(signature: "sha256=" + signature, key: "s3cret", message: body))
        #expect(HMACSHA256.verify(signature: signature.uppercased(), key: "s3cret", message: body))
        #expect(!HMACSHA256.verify(signature: "sha256=" + signature, key: "other", message: body))
        #expect(!HMACSHA256.verify(signature: "sha256=" + signature, key: "s3cret", message: body + [0x20]))
        #expect(!HMACSHA256.verify(signature: "sha256=" + signature.dropLast(2), key: "s3cret", message: body))
        #expect(!HMACSHA256.verify(signature: "", key: "s3cret", message: body))
    }

    @Test("the same repository over https, ssh and git:// compares equal")
    func normalize() {
        let forms = [
            "https://github.com/Acme/cloud.git", "https://token:x@github.com/Acme/cloud", "git@github.com:Acme/cloud.git",
            "ssh://git@github.com:22/Acme/cloud.git", "git://github.com/Acme/cloud.git/",
        ]
        #expect(Set(forms.map(WebhookPush.normalize)) == ["github.com/Acme/cloud"])
        #expect(WebhookPush.normalize("https://github.com/Acme/other.git") != WebhookPush.normalize(forms[0]))
        let push = Array(#"{"repository": {"clone_url": "https://github.com/Acme/cloud.git", "ssh_url": "git@github.com:Acme/cloud.git"}}"#.utf8)
        #expect(WebhookPush.repositories(in: push) == ["https://github.com/Acme/cloud.git", "git@github.com:Acme/cloud.git"])
        #expect(WebhookPush.repositories(in: Array("not json {".utf8)) == nil)
        // YAML is not JSON: the documented format is JSON only.
        #expect(WebhookPush.repositories(in: Array("repository: {clone_url: https://github.com/Acme/cloud.git}\n".utf8)) == nil)
        #expect(WebhookPush.repositories(in: Array("[1, 2]".utf8)) == nil)
    }

    @Test("a signed body seen within the window is a replay; after it, or another body, is not")
    func recentBodies() {
        var bodies = RecentBodies(window: 60, capacity: 2)
        let outcomes = [
            bodies.insert("a", now: 0), bodies.insert("a", now: 59), bodies.insert("b", now: 59),
            // The window has passed.
            bodies.insert("a", now: 61),
            // Full: entries older than the window are forgotten first.
            bodies.insert("c", now: 200), bodies.insert("c", now: 201),
        ]
        #expect(outcomes == [true, false, true, true, true, false])
    }

    @Test("a replayed delivery id is refused; the log forgets the oldest past its capacity")
    func deliveries() {
        var log = DeliveryLog(capacity: 2)
        let answers = ["a", "a", "b", "c", "a"].map { log.insert($0) }
        // The second "a" is a replay; after two newer ones, the first is forgotten.
        #expect(answers == [true, false, true, true, true])
    }
}

extension String {
    init(format2Hex byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
