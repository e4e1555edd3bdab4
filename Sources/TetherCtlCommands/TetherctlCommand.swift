#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TTRPC
import TetherAPI
import TetherFlags
import TetherSystem

/// One tetherctl command: its syntax, built from a parsed command line, then run to an exit status.
protocol TetherctlCommand {
    static var syntax: CommandSyntax { get }
    init(_ arguments: ParsedFlags) throws(FlagError)
    func run() throws -> Int32
}

extension CommandSyntax {
    /// A tetherctl command: docker's POSIX-style flags, and `--socket` on every command.
    static func tetherctl(_ name: String, _ abstract: String, flags: [Flag] = [], required: [String] = [],
                          optional: [String] = [], variadic: Bool = false, passthrough: String? = nil) -> CommandSyntax {
        CommandSyntax(program: "tetherctl", name: name, abstract: abstract, style: .posix, flags: [Tetherd.socketFlag] + flags,
                      required: required, optional: optional, variadic: variadic, passthrough: passthrough)
    }
}

/// tetherctl: the client of tetherd, with docker-like habits. Usage errors print as `tetherctl: <message>` and a
/// pointer to the command's help, exit status 125 (docker's); what tetherd refused prints as one line
/// `tetherctl: <message>`, exit status 1 (125 for run and create, as docker).
public enum Tetherctl {
    static var commands: [any TetherctlCommand.Type] {
        [Run.self, Create.self, Start.self, Restart.self, Attach.self, Exec.self, Ps.self, Inspect.self, Logs.self,
         Kill.self, Stop.self, Rm.self, Prune.self, Wait.self, Events.self]
    }

    static let usageStatus: Int32 = 125

    static var help: String {
        HelpTable.overview(abstract: "Run and manage containers through tetherd.", usage: "tetherctl COMMAND [flags] [arguments]",
                           commands: commands.map { $0.syntax }, footer: "Run 'tetherctl COMMAND --help' for a command's flags.")
    }

    /// Runs the command line (without the program name) and exits with its status.
    public static func main(_ arguments: [String]) -> Never {
        exit(run(arguments))
    }

    /// Finds the command named by `arguments[0]`, parses the rest and runs it; returns the exit status.
    static func run(_ arguments: [String]) -> Int32 {
        guard let name = arguments.first, !["-h", "--help", "help"].contains(name) else {
            if arguments.count > 1, let command = command(named: arguments[1]) {
                print(command.syntax.help, terminator: "")
            } else {
                print(help, terminator: "")
            }
            return 0
        }
        guard let command = command(named: name) else {
            report(FlagError("unknown command \"\(name)\""), see: "tetherctl --help")
            return usageStatus
        }
        let instance: any TetherctlCommand
        do {
            let parsed = try command.syntax.parse(Array(arguments.dropFirst()))
            if parsed.helpRequested {
                print(command.syntax.help, terminator: "")
                return 0
            }
            instance = try command.init(parsed)
        } catch {
            report(error, see: "tetherctl \(name) --help")
            return usageStatus
        }
        do {
            return try instance.run()
        } catch let error as FlagError {
            report(error, see: "tetherctl \(name) --help")
            return usageStatus
        } catch {
            try? FileIO.writeAll(2, "tetherctl: \(error)\n")
            return 1
        }
    }

    static func command(named name: String) -> (any TetherctlCommand.Type)? {
        commands.first { $0.syntax.name == name }
    }

    /// A usage error, docker's way: the message (without the command's name: the second line names it), then
    /// where the help is.
    static func report(_ error: FlagError, see help: String) {
        try? FileIO.writeAll(2, "tetherctl: \(error.message)\nSee '\(help)'.\n")
    }
}

/// tetherd at its socket: one connection per call.
struct Tetherd {
    /// root's tetherd, or a user's own ($XDG_RUNTIME_DIR/tether/tetherd.sock) for anyone else.
    static let defaultSocket = UserDirectories.runtime("/run/tether") + "/tetherd.sock"
    static let socketFlag = Flag("--socket", value: "PATH", help: "tetherd's socket (default: $TETHER_HOST, else \(defaultSocket)).")
    let socket: String

    init(socket: String) { self.socket = socket }

    /// The `--socket` given on the command line, else TETHER_HOST, else the default.
    init(_ arguments: ParsedFlags) { socket = arguments.value("--socket") ?? Tetherd.configuredSocket }

    /// `TETHER_HOST` (a path, or `unix://` and a path, as DOCKER_HOST) or the default; `--socket` overrides it.
    static var configuredSocket: String {
        guard let value = getenv("TETHER_HOST").map({ String(cString: $0) }), !value.isEmpty else { return defaultSocket }
        return value.hasPrefix("unix://") ? String(value.dropFirst("unix://".count)) : value
    }

    func client() throws -> TTRPCClient {
        do {
            return try TTRPCClient(path: socket)
        } catch {
            throw CLIError("cannot connect to tetherd at \(socket) (is tetherd running?): \(error)")
        }
    }

    @discardableResult
    func call<Request, Response>(
        _ method: TTRPCMethod<Request, Response>, _ request: Request, timeout: Duration? = .seconds(60)
    ) throws -> Response {
        let client = try client()
        defer { client.close() }
        do {
            return try client.call(method, request, timeout: timeout)
        } catch let status as TTRPCStatus {
            throw CLIError(PrintableText.visible(status.message))
        }
    }
}

/// What tetherd refused, or a failure on the way: one line on stderr, exit status 1 (125 for run, as docker).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

struct Wait: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl("wait", "Wait for a container to exit; prints its exit code.", required: ["CONTAINER"])
    let tetherd: Tetherd
    let container: String

    init(_ arguments: ParsedFlags) {
        tetherd = Tetherd(arguments)
        container = arguments.positionals[0]
    }

    func run() throws -> Int32 {
        let response = try tetherd.call(DaemonService.wait, .with { $0.id = container }, timeout: nil)
        print(response.exitCode)
        return 0
    }
}
