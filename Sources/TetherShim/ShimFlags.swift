import TetherFlags
import TetherRuntime

/// The shim's command line, as containerd passes it: Go `flag` style (single dash, `-name value` or
/// `-name=value`, any order), then the action (`start`, `delete`, or none for the long-lived server).
///
/// `-state DIR` is tether's own (containerd never passes it): the directory under which the shim keeps everything it
/// creates, its socket in `DIR/s` and the runtime state (with the seccomp cache) in `DIR/runtime/<namespace>`.
/// tetherd passes its `--state`, so that two tetherds never share a file; without it (containerd) it is
/// `/run/tether`, or `$XDG_RUNTIME_DIR/tether` when not root (rootless: the runtime library then runs rootless too).
public struct ShimFlags: Sendable, Equatable {
    public static let defaultState = Rootless.defaultDirectory("/run/tether")

    public var namespace = "default"
    public var address = ""
    public var publishBinary = ""
    public var id = ""
    public var bundle = ""
    public var socket = ""
    public var state = ShimFlags.defaultState
    public var debug = false
    public var version = false
    /// `-h`, `-help` or `--help` was given: print ShimFlags.syntax.help.
    public var help = false
    public var action: String?

    public init() {}

    /// containerd's shim flags (Go's flag package: `-id x`, `-id=x`, `--id x`), then at most one action.
    public static let syntax = CommandSyntax(
        program: "tether-shim", abstract: "containerd's shim v2 for Tether: start, delete, or (no action) serve one container.",
        style: .go,
        flags: [
            Flag("-namespace", value: "NAMESPACE", help: "The containerd namespace (default \"default\")."),
            Flag("-address", value: "PATH", help: "containerd's (or tetherd's) socket."),
            Flag("-publish-binary", value: "PATH", help: "The binary that publishes events (containerd)."),
            Flag("-id", value: "ID", help: "The container id."),
            Flag("-bundle", value: "DIR", help: "The bundle directory."),
            Flag("-socket", value: "PATH", help: "Accepted for containerd compatibility."),
            Flag("-state", value: "DIR", help: "Where the shim keeps everything it creates (default \(defaultState))."),
            Flag("-debug", help: "Debug output."),
            Flag("-v", "-version", help: "Print the version and exit."),
        ],
        optional: ["ACTION"])

    /// Parses `arguments` (without the program name). Throws a message naming the bad flag.
    public static func parse(_ arguments: [String]) throws(ShimError) -> ShimFlags {
        let parsed: ParsedFlags
        do {
            parsed = try syntax.parse(arguments)
        } catch {
            throw ShimError(.invalidArgument, error.description)
        }
        var flags = ShimFlags()
        flags.namespace = parsed.value("-namespace") ?? flags.namespace
        flags.address = parsed.value("-address") ?? ""
        flags.publishBinary = parsed.value("-publish-binary") ?? ""
        flags.id = parsed.value("-id") ?? ""
        flags.bundle = parsed.value("-bundle") ?? ""
        flags.socket = parsed.value("-socket") ?? ""
        flags.state = parsed.value("-state") ?? flags.state
        flags.debug = parsed.isSet("-debug")
        flags.version = parsed.isSet("-v")
        flags.help = parsed.helpRequested
        flags.action = parsed.positional(0)
        guard flags.state.hasPrefix("/") else { throw ShimError(.invalidArgument, "-state \"\(flags.state)\": must be an absolute path") }
        return flags
    }

    /// Root-only directory of shim sockets (0700). Path sockets only, never abstract.
    public var socketDirectory: String { state + "/s" }

    /// The runtime's root for the containers of this shim's namespace (state.json, exec FIFOs, seccomp cache).
    public var runtimeRoot: String { state + "/runtime/" + namespace }

    /// The arguments that re-create these flags for the long-lived server (no action).
    var serverArguments: [String] {
        var arguments = ["-namespace", namespace, "-id", id, "-address", address]
        if !publishBinary.isEmpty { arguments += ["-publish-binary", publishBinary] }
        if !bundle.isEmpty { arguments += ["-bundle", bundle] }
        if state != ShimFlags.defaultState { arguments += ["-state", state] }
        if debug { arguments.append("-debug") }
        return arguments
    }
}
