#if canImport(Glibc)
import Glibc
#endif
import OCISpec
import TetherFlags
import TetherRuntime
import TetherSystem

/// One `tether-runtime` command: its syntax, built from a parsed command line, then run.
protocol RuntimeCommand {
    static var syntax: CommandSyntax { get }
    init(_ arguments: ParsedFlags) throws
    func run() throws
}

/// Exits the CLI with `status` without printing anything (run's container status).
struct CommandExit: Error {
    let status: Int32
}

extension CommandSyntax {
    /// A runtime command: runc's (urfave/cli's) Go-style flags.
    static func runtime(name: String, abstract: String, flags: [Flag] = [], required: [String] = [],
                        optional: [String] = [], passthrough: String? = nil) -> CommandSyntax {
        CommandSyntax(program: "tether-runtime", name: name, abstract: abstract, style: .go, flags: flags,
                      required: required, optional: optional, passthrough: passthrough)
    }
}

/// The command table, `--help` and `--version`, and dispatch of a command line (global flags already split off).
public enum RuntimeCommandLine {
    static var commands: [any RuntimeCommand.Type] {
        [
            CreateCommand.self, StartCommand.self, RunCommand.self, StateCommand.self, ListCommand.self,
            KillCommand.self, DeleteCommand.self, ExecCommand.self, SpecCommand.self, FeaturesCommand.self,
            PauseCommand.self, ResumeCommand.self, UpdateCommand.self, PsCommand.self, EventsCommand.self,
        ]
    }

    static let version = "tether-runtime version 0.1.0\nspec: \(OCIVersion.current)\n"

    static var help: String {
        HelpTable.overview(
            abstract: "tether-runtime: a runc-compatible OCI runtime.",
            usage: "tether-runtime [global flags] COMMAND [flags] [arguments]",
            notes: "Global flags (before the command):\n" + HelpTable.render(GlobalOptions.syntax.flags.map {
                ($0.names.joined(separator: ", ") + ($0.placeholder.map { " " + $0 } ?? ""), $0.help)
            }),
            commands: commands.map { $0.syntax },
            footer: "Run 'tether-runtime COMMAND --help' for a command's flags.")
    }

    /// The whole command line (without the program name): global flags, then the command. Never returns.
    public static func main(_ arguments: [String]) -> Never {
        // Single-threaded by design: `create` and `run` clone the container init from this process.
        do {
            let commandArguments: [String]
            (globalOptions, commandArguments) = try GlobalOptions.parse(arguments)
            try run(commandArguments)
        } catch let error as RuntimeError {
            Log.error(error.description)
            exit(1)
        } catch let error as CommandExit {
            exit(error.status)
        } catch let error as FlagError {
            Log.error(error.description)
            exit(2)
        } catch {
            Log.error("\(error)")
            exit(1)
        }
        exit(0)
    }

    /// Finds the command named by `arguments[0]`, parses the rest and runs it.
    static func run(_ arguments: [String]) throws {
        guard let name = arguments.first else { throw FlagError("no command given (see tether-runtime --help)") }
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
            throw FlagError("unknown command \"\(name)\" (see tether-runtime --help)")
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
