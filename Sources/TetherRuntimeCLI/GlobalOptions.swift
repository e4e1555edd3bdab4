#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TetherFlags
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

    /// runc's global flags, Go style (`-root` as well as `--root`); the first non-flag is the command, and all
    /// after it is the command's. `--systemd-cgroup` and `--criu` are accepted and ignored.
    static let syntax = CommandSyntax(
        program: "tether-runtime", abstract: "tether-runtime: a runc-compatible OCI runtime.", style: .go,
        flags: [
            Flag("--root", value: "DIR", help: "Where container state lives (default /run/tether-runtime; $XDG_RUNTIME_DIR/tether-runtime when not root)."),
            Flag("--log", value: "FILE", help: "Also write errors (and with --debug, debug lines) here."),
            Flag("--log-format", value: "text|json", help: "The --log format (default text)."),
            Flag("--debug", help: "Debug output."),
            Flag("--systemd-cgroup", help: "Accepted and ignored."),
            Flag("--criu", value: "PATH", help: "Accepted and ignored."),
            Flag("--rootless", optionalValues: ["true", "false", "auto"], help: "Run rootless: true, false or auto (default auto: when not root)."),
            Flag("-v", "--version", help: "Print the version."),
        ],
        optional: ["COMMAND"], passthrough: "ARGUMENTS")

    /// Splits the global flags off the front of `arguments`; returns the rest (command and its arguments, or
    /// `--help`/`--version` for the dispatcher).
    static func parse(_ arguments: [String]) throws(FlagError) -> (GlobalOptions, [String]) {
        let parsed = try syntax.parse(arguments)
        var options = GlobalOptions()
        options.root = parsed.value("--root") ?? options.root
        options.logFile = parsed.value("--log")
        options.logFormat = parsed.value("--log-format") ?? options.logFormat
        guard options.logFormat == "text" || options.logFormat == "json" else {
            throw FlagError("--log-format: unknown format \"\(options.logFormat)\" (text or json)")
        }
        options.debug = parsed.isSet("--debug")
        if parsed.isSet("--rootless") {
            let choice = parsed.value("--rootless") ?? "true"
            guard ["true", "false", "auto"].contains(choice) else {
                throw FlagError("--rootless: \"\(choice)\" is not true, false or auto")
            }
            options.rootless = choice == "auto" ? nil : choice == "true"
        }
        if parsed.helpRequested { return (options, ["--help"] + parsed.passthrough) }
        if parsed.isSet("--version") { return (options, ["--version"]) }
        return (options, parsed.positionals + parsed.passthrough)
    }
}

nonisolated(unsafe) var globalOptions = GlobalOptions()

/// Error and debug output: one line on stderr, and a line in `--log` (runc's formats: `text` is logfmt, the
/// `Logfmt` lines tetherd and the shim log; `json` is what containerd-shim-runc-v2 passes and reads the last
/// error from). Written here rather than through swift-log: the runtime is short-lived and its start-up is measured.
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
            line = Logfmt.line(time: time, level: level, message: message)  // as tetherd's and the shim's logs
        }
        guard let fd = try? FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o644) else { return }
        defer { FileIO.close(fd) }
        try? FileIO.writeAll(fd, line)
    }

    static func timestamp() -> String { RFC3339.now(fractionDigits: 6) }
}
