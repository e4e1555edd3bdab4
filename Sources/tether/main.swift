#if canImport(Glibc)
import Glibc
#endif
import SwiftProtobuf
import TetherCtlCommands
import TetherDaemon
import TetherRuntimeCLI
import TetherShim
import TetherSystem

// tether: every tool in one executable, chosen by the name it was started as (argv[0]'s last component), so that
// `tether-runtime`, `tether-shim`, `containerd-shim-tether-v2`, `tetherd` and `tetherctl` can be links to it;
// `tether TOOL ARGUMENTS` works too.
func dispatch(_ tool: String, _ arguments: [String]) -> Never {
    switch tool {
    case "tether-runtime": RuntimeCommandLine.main(arguments)
    case "tether-shim", "containerd-shim-tether-v2": ShimCommandLine.main(arguments)
    case "tetherd": DaemonCommandLine.main(arguments)
    case "tetherctl": Tetherctl.main(arguments)
    default:
        let usage = "Usage: tether TOOL [arguments], or run it as one of its links: tether-runtime, tether-shim, "
            + "containerd-shim-tether-v2, tetherd, tetherctl\n"
        if ["-h", "--help", "help"].contains(tool) {
            try? FileIO.writeAll(1, usage)
            exit(0)
        }
        try? FileIO.writeAll(2, tool.isEmpty ? usage : "tether: unknown tool \"\(tool)\"\n" + usage)
        exit(2)
    }
}

let invokedAs = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? ""
if invokedAs == "tether" {
    dispatch(CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "", Array(CommandLine.arguments.dropFirst(2)))
}
dispatch(invokedAs, Array(CommandLine.arguments.dropFirst()))
