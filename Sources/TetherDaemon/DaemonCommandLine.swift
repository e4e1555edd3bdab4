#if canImport(Glibc)
import Glibc
#endif
import Logging
import TetherFlags
import TetherLogging
import TetherSystem

/// tetherd's command line: spawns one tether-shim per container and keeps their records; restart it freely.
public enum DaemonCommandLine {
    static let syntax = CommandSyntax(
        program: "tetherd", abstract: "The Tether container daemon.", style: .posix,
        flags: [
            Flag("--root", value: "DIR", help: "Durable state: container records, logs, overlay layers (default /var/lib/tether; for a user, ~/.local/share/tether)."),
            Flag("--state", value: "DIR", help: "Runtime state: bundles, sockets, its shims' sockets and runtime state (default /run/tether; for a user, $XDG_RUNTIME_DIR/tether, and its containers get a user namespace)."),
            Flag("--socket", value: "PATH", help: "The API socket (default <state>/tetherd.sock)."),
            Flag("--shim", value: "PATH", help: "The shim binary (default tether-shim next to tetherd)."),
            Flag("--log-level", value: "LEVEL", help: "What tetherd logs on stderr: debug, info, warn or error (default info)."),
        ])

    /// The daemon's configuration and log level from `arguments` (without the program name); nil when the help was
    /// asked for.
    static func configuration(_ arguments: [String]) throws(FlagError) -> (Daemon.Configuration, Logger.Level)? {
        let parsed = try syntax.parse(arguments)
        if parsed.helpRequested { return nil }
        let levelName = parsed.value("--log-level") ?? "info"
        guard let level = TetherLog.level(named: levelName) else {
            throw FlagError("--log-level \(levelName): unknown level (debug, info, warn or error)")
        }
        return (.init(root: parsed.value("--root") ?? UserDirectories.data("/var/lib/tether"),
                      state: parsed.value("--state") ?? UserDirectories.runtime("/run/tether"),
                      socket: parsed.value("--socket"), shimBinary: parsed.value("--shim") ?? OwnExecutable.sibling("tether-shim")),
                level)
    }

    /// Runs tetherd for `arguments`. Never returns.
    public static func main(_ arguments: [String]) -> Never {
        let configuration: Daemon.Configuration
        do {
            guard let (parsed, level) = try Self.configuration(arguments) else {
                try? FileIO.writeAll(1, syntax.help)
                exit(0)
            }
            configuration = parsed
            TetherLog.bootstrap(level: level)
        } catch {
            try? FileIO.writeAll(2, "tetherd: \(error) (see tetherd --help)\n")
            exit(2)
        }
        _ = signal(SIGPIPE, SIG_IGN)
        let log = Logger(label: "tetherd")
        do {
            let daemon = try Daemon(configuration)
            try daemon.run()
            log.info("tetherd stopped")
        } catch {
            log.error("tetherd failed", metadata: ["error": "\(error)"])
            exit(1)
        }
        exit(0)
    }
}
