#if canImport(Glibc)
import Glibc
#endif
import Logging
import TetherDaemon
import TetherLogging
import TetherSystem

// tetherd: spawns one tether-shim per container and keeps their records; restart it freely.
// Its five flags are parsed here by hand: ArgumentParser would add its code and metadata to a daemon whose
// resident memory is mostly the pages of its own binary that it touches.
let usage = """
    Usage: tetherd [--root DIR] [--state DIR] [--socket PATH] [--shim PATH] [--log-level LEVEL]

    The Tether container daemon.

    Options:
      --root DIR      Durable state: container records, logs, overlay layers (default /var/lib/tether).
      --state DIR     Runtime state: bundles, sockets, its shims' sockets and runtime state (default /run/tether).
      --socket PATH   The API socket (default <state>/tetherd.sock).
      --shim PATH     The shim binary (default tether-shim next to tetherd).
      --log-level L   What tetherd logs on stderr: debug, info, warn or error (default info).

    """

func fail(_ message: String) -> Never {
    try? FileIO.writeAll(2, "tetherd: \(message)\n")
    exit(1)
}

var values: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    if argument == "--help" || argument == "-h" {
        try? FileIO.writeAll(1, usage)
        exit(0)
    }
    guard argument.hasPrefix("--") else { fail("unexpected argument \"\(argument)\" (see tetherd --help)") }
    var name = String(argument.dropFirst(2))
    var value: String?
    if let equals = name.firstIndex(of: "=") {
        value = String(name[name.index(after: equals)...])
        name = String(name[..<equals])
    }
    guard ["root", "state", "socket", "shim", "log-level"].contains(name) else { fail("unknown flag: --\(name) (see tetherd --help)") }
    guard let given = value ?? arguments.next() else { fail("flag needs an argument: --\(name)") }
    values[name] = given
}

guard let logLevel = TetherLog.level(named: values["log-level"] ?? "info") else {
    fail("--log-level \(values["log-level"] ?? ""): unknown level (debug, info, warn or error)")
}
TetherLog.bootstrap(level: logLevel)
let log = Logger(label: "tetherd")

_ = signal(SIGPIPE, SIG_IGN)
do {
    let daemon = try Daemon(.init(root: values["root"] ?? "/var/lib/tether", state: values["state"] ?? "/run/tether",
                                  socket: values["socket"], shimBinary: values["shim"] ?? OwnExecutable.sibling("tether-shim")))
    try daemon.run()
    log.info("tetherd stopped")
} catch {
    log.error("tetherd failed", metadata: ["error": "\(error)"])
    exit(1)
}
