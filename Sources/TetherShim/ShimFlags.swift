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
    public var action: String?

    public init() {}

    static let valueFlags: Set<String> = ["namespace", "address", "publish-binary", "id", "bundle", "socket", "state"]
    static let boolFlags: Set<String> = ["debug", "v", "version"]

    /// Parses `arguments` (without the program name). Throws a message naming the bad flag.
    public static func parse(_ arguments: [String]) throws(ShimError) -> ShimFlags {
        var flags = ShimFlags()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-"), argument != "-", argument != "--" else {
                if flags.action != nil { throw ShimError(.invalidArgument, "unexpected argument \"\(argument)\"") }
                flags.action = argument
                continue
            }
            var name = String(argument.drop(while: { $0 == "-" }))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if boolFlags.contains(name) {
                let on = value.map { $0 == "true" || $0 == "1" } ?? true
                if name == "debug" { flags.debug = on } else { flags.version = on }
                continue
            }
            guard valueFlags.contains(name) else {
                throw ShimError(.invalidArgument, "flag provided but not defined: -\(name)")
            }
            if value == nil {
                guard index < arguments.count else { throw ShimError(.invalidArgument, "flag needs an argument: -\(name)") }
                value = arguments[index]
                index += 1
            }
            switch name {
            case "namespace": flags.namespace = value ?? ""
            case "address": flags.address = value ?? ""
            case "publish-binary": flags.publishBinary = value ?? ""
            case "id": flags.id = value ?? ""
            case "bundle": flags.bundle = value ?? ""
            case "state": flags.state = value ?? ""
            default: flags.socket = value ?? ""
            }
        }
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
