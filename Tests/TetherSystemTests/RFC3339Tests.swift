import Testing
import TetherSystem

@Suite("RFC 3339 timestamps")
struct RFC3339Tests {
    @Test func fixedWidthFractions() {
        // Go's reference time.
        #expect(RFC3339.format(seconds: 1_136_214_245, nanoseconds: 123_456_789) == "2006-01-02T15:04:05.123456789Z")
        #expect(RFC3339.format(seconds: 1_136_214_245, nanoseconds: 5, fractionDigits: 9) == "2006-01-02T15:04:05.000000005Z")
        #expect(RFC3339.format(seconds: 1_136_214_245, nanoseconds: 123_456_789, fractionDigits: 6) == "2006-01-02T15:04:05.123456Z")
        #expect(RFC3339.format(seconds: 1_136_214_245, nanoseconds: 999_999_999, fractionDigits: 0) == "2006-01-02T15:04:05Z")
        #expect(RFC3339.format(seconds: 0, nanoseconds: 0) == "1970-01-01T00:00:00.000000000Z")
    }

    @Test func nowIsTodayInUTC() {
        let now = RFC3339.now()
        #expect(now.count == 30, "\(now)")
        #expect(now.hasSuffix("Z"))
        #expect(now.hasPrefix("20"))
    }
}
