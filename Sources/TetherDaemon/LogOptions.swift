import TTRPC

/// docker's json-file rotation options, `--log-opt max-size=10m --log-opt max-file=3` on run/create, checked
/// with docker's rules: `max-size` is a positive size in bytes or with a k, m or g suffix (powers of 1024, an
/// optional trailing b), `max-file` a number of files of at least 1 that needs `max-size`, nothing else is
/// known. Kept in the container's settings; the shim applies them (`file://PATH?max-size=N&max-files=N`).
struct LogOptions: Codable, Sendable, Equatable {
    /// Bytes after which container.log is rotated; 0: never (docker's default: the log only grows).
    var maxSize: Int64 = 0
    /// Files kept, container.log included (container.log.1 the newest rotated); docker's default is 1.
    var maxFiles: Int = 1

    /// Parses `KEY=VALUE` options; an error names the option and what was expected.
    static func parse(_ options: [String]) throws(TTRPCStatus) -> LogOptions {
        var parsed = LogOptions()
        var maxFileGiven = false
        for option in options {
            let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let value = parts.count == 2 ? String(parts[1]) : ""
            switch key {
            case "max-size":
                guard let bytes = LogOptions.size(value) else {
                    throw TTRPCStatus(.invalidArgument, "--log-opt \(option): max-size must be a positive size such as 10m")
                }
                parsed.maxSize = bytes
            case "max-file":
                guard let files = Int(value), files >= 1 else {
                    throw TTRPCStatus(.invalidArgument, "--log-opt \(option): max-file must be a number of at least 1")
                }
                parsed.maxFiles = files
                maxFileGiven = true
            default:
                throw TTRPCStatus(.invalidArgument, "--log-opt \(option): unknown log opt '\(key)' (known: max-size, max-file)")
            }
        }
        if maxFileGiven && parsed.maxSize == 0 {
            throw TTRPCStatus(.invalidArgument, "--log-opt max-file=\(parsed.maxFiles): max-file needs max-size")
        }
        return parsed
    }

    /// docker's sizes: `1048576`, `512k`, `10m`, `1g`, `10mb` (powers of 1024).
    static func size(_ text: String) -> Int64? {
        var digits = Substring(text.lowercased())
        if digits.hasSuffix("b") { digits = digits.dropLast() }
        let units: [Character: Int64] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
        var multiplier: Int64 = 1
        if let last = digits.last, let unit = units[last] {
            multiplier = unit
            digits = digits.dropLast()
        }
        guard let value = Int64(digits), value > 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }

    /// The query of the shim's `file://` log URI: empty without rotation.
    var uriQuery: String {
        maxSize > 0 ? "?max-size=\(maxSize)&max-files=\(maxFiles)" : ""
    }
}
