import Foundation
import Testing
import WindlassManifest

@Suite("RFC 3339 timestamps")
struct TimestampTests {
    @Test("times are written as Kubernetes writes them, and read back; the dates agree with Foundation's")
    func roundTrip() throws {
        #expect(Timestamp.rfc3339(0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.rfc3339(1_800_000_100) == "2027-01-15T08:01:40Z")
        #expect(Timestamp.rfc3339(951_782_400.9) == "2000-02-29T00:00:00Z")
        #expect(Timestamp.rfc3339(-1) == "1969-12-31T23:59:59Z")
        let formatter = ISO8601DateFormatter()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let seconds = Double(Int64.random(in: -2_000_000_000...4_000_000_000, using: &generator))
            let text = Timestamp.rfc3339(seconds)
            #expect(text == formatter.string(from: Date(timeIntervalSince1970: seconds)))
            #expect(Timestamp.parse(text) == seconds)
        }
    }

    @Test("fractions (a MicroTime's), offsets and a missing zone are read; anything else is not a time")
    func parsing() {
        #expect(Timestamp.parse("2026-11-27T17:15:50.123456Z") == Timestamp.parse("2026-11-27T17:15:50Z")! + 0.123456)
        #expect(Timestamp.parse(Timestamp.rfc3339Micro(1_800_000_000.5)) == 1_800_000_000.5)
        #expect(Timestamp.parse("2026-11-27T19:15:50+02:00") == Timestamp.parse("2026-11-27T17:15:50Z"))
        #expect(Timestamp.parse("2026-11-27T12:45:50-04:30") == Timestamp.parse("2026-11-27T17:15:50Z"))
        #expect(Timestamp.parse("2026-11-27t17:15:50z") == Timestamp.parse("2026-11-27T17:15:50Z"))
        #expect(Timestamp.parse("2026-11-27T17:15:50") == Timestamp.parse("2026-11-27T17:15:50Z"))
        for bad in ["", "soon", "2026-11-27", "2026-13-01T00:00:00Z", "2026-11-27T25:00:00Z", "2026-11-27T17:15:50Zjunk",
                    "2026-11-27T17:15:50.Z", "2026-11-27T17:15:50+0200", "2026/11/27T17:15:50Z", "99999999999-01-01T00:00:00Z"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
    }
}
