import OCISpec
import TetherRuntime
import TetherSystem

/// One `tether-runtime` command: its syntax, built from a parsed command line, then run.
protocol RuntimeCommand {
    static var syntax: CommandSyntax { get }
    init(_ arguments: ParsedArguments) throws
    func run() throws
}

/// Exits the CLI with `status` without printing anything (run's container status).
struct CommandExit: Error {
    let status: Int32
}

/// The command table, `--help` and `--version`, and dispatch of a command line (global flags already split off).
enum RuntimeCommandLine {
    static var commands: [any RuntimeCommand.Type] {
        [
            CreateCommand.self, StartCommand.self, RunCommand.self, StateCommand.self, ListCommand.self,
            KillCommand.self, DeleteCommand.self, ExecCommand.self, SpecCommand.self, FeaturesCommand.self,
            PauseCommand.self, ResumeCommand.self, UpdateCommand.self, PsCommand.self, EventsCommand.self,
        ]
    }

    static let version = "tether-runtime version 0.1.0\nspec: \(OCIVersion.current)\n"

    static var help: String {
        var text = """
            tether-runtime: a runc-compatible OCI runtime.

            Usage: tether-runtime [global flags] COMMAND [flags] [arguments]

            Global flags (before the command): --root DIR (default /run/tether-runtime; $XDG_RUNTIME_DIR/tether-runtime
            when not root), --log FILE, --log-format text|json, --debug, --rootless true|false|auto (default auto: when
            not root); --systemd-cgroup and --criu are accepted and ignored.
            -h, --help and -v, --version.

            Commands:

            """
        let syntaxes = commands.map { $0.syntax }
        let width = syntaxes.map { $0.name.count }.max() ?? 0
        for syntax in syntaxes {
            text += "  " + syntax.name + String(repeating: " ", count: width - syntax.name.count + 2) + syntax.abstract + "\n"
        }
        return text + "\nRun 'tether-runtime COMMAND --help' for a command's flags.\n"
    }

    /// Finds the command named by `arguments[0]`, parses the rest and runs it.
    static func run(_ arguments: [String]) throws {
        guard let name = arguments.first else { throw UsageError("no command given (see tether-runtime --help)") }
        switch name {
        case "-h", "--help", "help":
            if arguments.count > 1, let command = command(named: arguments[1]) {
                return try FileIO.writeAll(1, command.syntax.help)
            }
            return try FileIO.writeAll(1, help)
        case "-v", "--version", "version":
            return try FileIO.writeAll(1, version)
        default:
            break
        }
        guard let command = command(named: name) else {
            throw UsageError("unknown command \"\(name)\" (see tether-runtime --help)")
        }
        let parsed = try command.syntax.parse(Array(arguments.dropFirst()))
        if parsed.helpRequested { return try FileIO.writeAll(1, command.syntax.help) }
        try command.init(parsed).run()
    }

    static func command(named name: String) -> (any RuntimeCommand.Type)? {
        commands.first { $0.syntax.name == name }
    }
}

/// The runtime library on `--root`, its warnings going to stderr and `--log`.
var runtime: Runtime {
    let runtime = Runtime(root: globalOptions.root)
    if let rootless = globalOptions.rootless { runtime.rootless = rootless }
    runtime.warn = Log.warning
    return runtime
}
