#if canImport(Glibc)
import Glibc
#endif
import Logging
import TetherFlags
import TetherLogging
import TetherSystem

/// containerd's shim v2 binary contract:
///   tether-shim [flags] start    listen, spawn the long-lived shim, print its address
///   tether-shim [flags] delete   clean up after a task, print a DeleteResponse
///   tether-shim [flags]          (internal) the long-lived shim, serving on fd 3
public enum ShimCommandLine {
    /// Runs the shim for `arguments` (without the program name). Never returns.
    public static func main(_ arguments: [String]) -> Never {
        let flags: ShimFlags
        do {
            flags = try ShimFlags.parse(arguments)
        } catch {
            fail("\(error)")
        }
        if flags.help {
            try? FileIO.writeAll(1, ShimFlags.syntax.help)
            exit(0)
        }
        if flags.version {
            try? FileIO.writeAll(1, "\(ShimVersion.current)\n")
            exit(0)
        }
        ShimLog.level = flags.debug ? .debug : .info
        switch flags.action {
        case "start":
            do {
                let address = try ShimStart.run(flags)
                try? FileIO.writeAll(1, address)
                exit(0)
            } catch {
                fail("\(error)")
            }
        case "delete":
            let bytes = ShimDelete.run(flags)
            try? FileIO.writeAll(1, bytes)
            exit(0)
        case nil:
            guard !flags.id.isEmpty else { fail("-id is required") }
            do {
                let shim = try Shim(flags: flags, listener: 3)
                try shim.run()
            } catch {
                fail("shim failed: \(error)", id: flags.id)
            }
            exit(0)
        default:
            fail("unknown action \"\(flags.action ?? "")\" (expected start or delete)")
        }
    }

    static func fail(_ message: String) -> Never {
        try? FileIO.writeAll(2, "tether-shim: \(message)\n")
        exit(1)
    }

    /// A failure once logging is set up: a line in the shim's log (containerd's `log` FIFO), then exit 1.
    static func fail(_ message: String, id: String) -> Never {
        Logger(label: "tether-shim") { _ in LogfmtHandler(level: ShimLog.level) }.error("\(message)", metadata: ["id": "\(id)"])
        exit(1)
    }
}
