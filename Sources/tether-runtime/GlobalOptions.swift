#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TetherRuntime
import TetherSystem

/// runc's global flags, which come before the command name (`tether-runtime --root R create ...`). They are
/// split off before the command's own flags are parsed, so every command can read them.
struct GlobalOptions {
    var root = Runtime.defaultRoot
    /// `--rootless true|false|auto`; nil (auto): rootless when not root.
    var rootless: Bool?
    var logFile: String?
    var logFormat = "text"
    var debug = false

    /// Flags runc users pass that take a value and are accepted but ignored.
    static let ignoredWithValue: Set<String> = ["--criu"]
    /// Flags accepted and ignored.
    static let ignoredFlags: Set<String> = ["--systemd-cgroup"]

    /// Splits the global flags off the front of `arguments`; returns the rest (command and its arguments).
    static func parse(_ arguments: [String]) throws -> (GlobalOptions, [String]) {
        var options = GlobalOptions()
        var index = 0
        func value(_ flag: String, _ inline: String?) throws -> String {
            if let inline { return inline }
            index += 1
            guard index < arguments.count else { throw UsageError("flag needs an argument: \(flag)") }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("-"), argument != "-", argument != "--" else { break }
            if argument == "-h" || argument == "--help" || argument == "--version" || argument == "-v" { break }
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            let flag = parts[0].hasPrefix("--") ? parts[0] : "-" + parts[0]  // runc accepts -root as well
            let inline = parts.count == 2 ? parts[1] : nil
            switch flag {
            case "--root": options.root = try value(flag, inline)
            case "--log": options.logFile = try value(flag, inline)
            case "--log-format":
                options.logFormat = try value(flag, inline)
                guard options.logFormat == "text" || options.logFormat == "json" else {
                    throw UsageError("--log-format: unknown format \"\(options.logFormat)\" (text or json)")
                }
            case "--debug": options.debug = true
            case _ where ignoredWithValue.contains(flag): _ = try value(flag, inline)
            case "--rootless":
                var choice = inline ?? "true"
                if inline == nil, index + 1 < arguments.count, ["true", "false", "auto"].contains(arguments[index + 1]) {
                    index += 1
                    choice = arguments[index]
                }
                guard ["true", "false", "auto"].contains(choice) else { throw UsageError("--rootless: \"\(choice)\" is not true, false or auto") }
                options.rootless = choice == "auto" ? nil : choice == "true"
            case _ where ignoredFlags.contains(flag): break
            default:
                throw UsageError("unknown global flag \(argument)")
            }
            index += 1
        }
        return (options, Array(arguments[index...]))
    }
}

nonisolated(unsafe) var globalOptions = GlobalOptions()

/// Error and debug output: one line on stderr, and a line in `--log` (runc's text or JSON format, which
/// containerd-shim-runc-v2 parses to report the failure).
enum Log {
    static func error(_ message: String) {
        try? FileIO.writeAll(2, "tether-runtime: \(message)\n")
        write(level: "error", message)
    }

    /// A problem that does not fail the command (a failed poststop hook): stderr and `--log`.
    static func warning(_ message: String) {
        try? FileIO.writeAll(2, "tether-runtime: warning: \(message)\n")
        write(level: "warning", message)
    }

    static func debug(_ message: String) {
        guard globalOptions.debug else { return }
        if globalOptions.logFile == nil { try? FileIO.writeAll(2, "tether-runtime: debug: \(message)\n") }
        write(level: "debug", message)
    }

    private static func write(level: String, _ message: String) {
        guard let path = globalOptions.logFile else { return }
        let time = timestamp()
        let line: String
        if globalOptions.logFormat == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let record = ["level": level, "msg": message, "time": time]
            guard let data = try? encoder.encode(record) else { return }
            line = String(decoding: data, as: UTF8.self) + "\n"
        } else {
            let escaped = message.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
            line = "time=\"\(time)\" level=\(level) msg=\"\(escaped)\"\n"
        }
        guard let fd = try? FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o644) else { return }
        defer { FileIO.close(fd) }
        try? FileIO.writeAll(fd, line)
    }

    static func timestamp() -> String { RFC3339.now(fractionDigits: 6) }
}
