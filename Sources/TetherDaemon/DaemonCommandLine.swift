#if canImport(Glibc)
import Glibc
#endif
import TetherFlags
import TetherSystem

/// tetherd's command line: spawns one tether-shim per container and keeps their records; restart it freely.
public enum DaemonCommandLine {
    static let syntax = CommandSyntax(
        program: "tetherd", abstract: "The Tether container daemon.", style: .posix,
        flags: [
            Flag("--root", value: "DIR", help: "Durable state: container records, logs, overlay layers (default /var/lib/tether)."),
            Flag("--state", value: "DIR", help: "Runtime state: bundles, sockets, its shims' sockets and runtime state (default /run/tether)."),
            Flag("--socket", value: "PATH", help: "The API socket (default <state>/tetherd.sock)."),
            Flag("--shim", value: "PATH", help: "The shim binary (default tether-shim next to tetherd)."),
        ])

    /// The daemon's configuration from `arguments` (without the program name); nil when the help was asked for.
    static func configuration(_ arguments: [String]) throws(FlagError) -> Daemon.Configuration? {
        let parsed = try syntax.parse(arguments)
        if parsed.helpRequested { return nil }
        return .init(root: parsed.value("--root") ?? "/var/lib/tether", state: parsed.value("--state") ?? "/run/tether",
                     socket: parsed.value("--socket"), shimBinary: parsed.value("--shim") ?? sibling("tether-shim"))
    }

    /// Runs tetherd for `arguments`. Never returns.
    public static func main(_ arguments: [String]) -> Never {
        let configuration: Daemon.Configuration
        do {
            guard let parsed = try Self.configuration(arguments) else {
                try? FileIO.writeAll(1, syntax.help)
                exit(0)
            }
            configuration = parsed
        } catch {
            try? FileIO.writeAll(2, "tetherd: \(error) (see tetherd --help)\n")
            exit(2)
        }
        _ = signal(SIGPIPE, SIG_IGN)
        do {
            let daemon = try Daemon(configuration)
            try daemon.run()
        } catch {
            try? FileIO.writeAll(2, "tetherd: \(error)\n")
            exit(1)
        }
        exit(0)
    }

    /// `name` in tetherd's own directory.
    static func sibling(_ name: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return name }
        let me = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = me.lastIndex(of: "/") else { return name }
        return String(me[..<slash]) + "/" + name
    }
}
