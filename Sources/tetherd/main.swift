#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import TetherDaemon
import TetherSystem

/// tetherd: spawns one tether-shim per container and keeps their records; restart it freely.
struct TetherdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tetherd", abstract: "The Tether container daemon.")
    @Option(help: "Durable state (container records, logs, overlay layers).") var root = "/var/lib/tether"
    @Option(help: "Runtime state (bundles, sockets).") var state = "/run/tether"
    @Option(help: "The API socket (default: <state>/tetherd.sock).") var socket: String?
    @Option(help: "The shim binary (default: tether-shim next to tetherd).") var shim: String?

    func run() throws {
        _ = signal(SIGPIPE, SIG_IGN)
        let shimBinary = shim ?? TetherdCommand.sibling("tether-shim")
        let daemon = try Daemon(.init(root: root, state: state, socket: socket, shimBinary: shimBinary))
        try daemon.run()
    }

    static func sibling(_ name: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return name }
        let me = String(cString: buffer)
        guard let slash = me.lastIndex(of: "/") else { return name }
        return String(me[..<slash]) + "/" + name
    }
}

TetherdCommand.main()
