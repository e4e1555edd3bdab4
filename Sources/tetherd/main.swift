#if canImport(Glibc)
import Glibc
#endif
import TetherDaemon
import TetherSystem

// tetherd: spawns one tether-shim per container and keeps their records; restart it freely.
// Its four flags are parsed here by hand: ArgumentParser would add its code and metadata to a daemon whose
// resident memory is mostly the pages of its own binary that it touches.
let usage = """
    Usage: tetherd [--root DIR] [--state DIR] [--socket PATH] [--shim PATH]

    The Tether container daemon.

    Options:
      --root DIR      Durable state: container records, logs, overlay layers (default /var/lib/tether; for a
                      user, ~/.local/share/tether).
      --state DIR     Runtime state: bundles, sockets, its shims' sockets and runtime state (default /run/tether;
                      for a user, $XDG_RUNTIME_DIR/tether). A user's containers get a user namespace.
      --socket PATH   The API socket (default <state>/tetherd.sock).
      --shim PATH     The shim binary (default tether-shim next to tetherd).

    """

func fail(_ message: String) -> Never {
    try? FileIO.writeAll(2, "tetherd: \(message)\n")
    exit(1)
}

/// `tether-shim` in tetherd's own directory.
func sibling(_ name: String) -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { return name }
    let me = String(cString: buffer)
    guard let slash = me.lastIndex(of: "/") else { return name }
    return String(me[..<slash]) + "/" + name
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
    guard ["root", "state", "socket", "shim"].contains(name) else { fail("unknown flag: --\(name) (see tetherd --help)") }
    guard let given = value ?? arguments.next() else { fail("flag needs an argument: --\(name)") }
    values[name] = given
}

_ = signal(SIGPIPE, SIG_IGN)
do {
    let daemon = try Daemon(.init(root: values["root"] ?? UserDirectories.data("/var/lib/tether"),
                                  state: values["state"] ?? UserDirectories.runtime("/run/tether"),
                                  socket: values["socket"], shimBinary: values["shim"] ?? sibling("tether-shim")))
    try daemon.run()
} catch {
    fail("\(error)")
}
