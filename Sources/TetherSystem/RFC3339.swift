#if canImport(Glibc)
import Glibc
#endif

/// UTC timestamps in RFC 3339 with a fixed-width fraction (`2006-01-02T15:04:05.000000000Z`), the form
/// containerd, runc's logs and CRI log files use.
public enum RFC3339 {
    /// The wall clock now, split for `bytes(seconds:nanoseconds:)`.
    public static func clock() -> (seconds: Int, nanoseconds: Int) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return (Int(now.tv_sec), Int(now.tv_nsec))
    }

    /// `fractionDigits` of the nanoseconds (9: nanoseconds, 6: microseconds), always that many.
    public static func bytes(seconds: Int, nanoseconds: Int, fractionDigits: Int = 9) -> [UInt8] {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var text: [UInt8] = []
        text.reserveCapacity(21 + fractionDigits)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<max(width, 1) { divisor *= 10 }
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4); text.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2); text.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2); text.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2); text.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2); text.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        if fractionDigits > 0 {
            var fraction = nanoseconds
            for _ in fractionDigits..<9 { fraction /= 10 }
            text.append(UInt8(ascii: "."))
            digits(fraction, fractionDigits)
        }
        text.append(UInt8(ascii: "Z"))
        return text
    }

    public static func format(seconds: Int, nanoseconds: Int, fractionDigits: Int = 9) -> String {
        String(decoding: bytes(seconds: seconds, nanoseconds: nanoseconds, fractionDigits: fractionDigits), as: UTF8.self)
    }

    /// Now, with `fractionDigits` of the second.
    public static func now(fractionDigits: Int = 9) -> String {
        let (seconds, nanoseconds) = clock()
        return format(seconds: seconds, nanoseconds: nanoseconds, fractionDigits: fractionDigits)
    }
}
