#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FoundationEssentials
import TTRPC
import TetherAPI
import TetherSystem

/// tetherctl: the client of tetherd, with docker-like habits.
struct TetherctlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tetherctl", abstract: "Run and manage containers through tetherd.",
        subcommands: [Run.self, Create.self, Start.self, Restart.self, Attach.self, Exec.self, Ps.self, Inspect.self, Logs.self,
                      Kill.self, Stop.self, Rm.self, Prune.self, Wait.self, Events.self])
}

/// tetherd at its socket: one connection per call.
struct Tetherd {
    /// root's tetherd, or a user's own ($XDG_RUNTIME_DIR/tether/tetherd.sock) for anyone else.
    static let defaultSocket = UserDirectories.runtime("/run/tether") + "/tetherd.sock"
    let socket: String

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

    func call<Request: Message, Response: Message>(_ method: String, _ request: Request, timeout: Duration? = .seconds(60)) throws -> Response {
        let client = try client()
        defer { client.close() }
        do {
            return try client.call("tether.daemon.v1.Daemon", method, request, timeout: timeout)
        } catch let status as TTRPCStatus {
            throw CLIError(PrintableText.visible(status.message))
        }
    }
}

struct DaemonOptions: ParsableArguments {
    @Option(help: "tetherd's socket (default: $TETHER_HOST, else \(Tetherd.defaultSocket)).") var socket = Tetherd.configuredSocket

    var tetherd: Tetherd { Tetherd(socket: socket) }
    func client() throws -> TTRPCClient { try tetherd.client() }
    func call<Request: Message, Response: Message>(_ method: String, _ request: Request, timeout: Duration? = .seconds(60)) throws -> Response {
        try tetherd.call(method, request, timeout: timeout)
    }
}

/// One line on stderr, exit status 1 (125 for run, as docker).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

extension ParsableCommand {
    static func fail(_ error: any Error, code: Int32 = 1) -> ExitCode {
        try? FileIO.writeAll(2, "tetherctl: \(error)\n")
        return ExitCode(code)
    }
}

/// `run` and `create` as ArgumentParser sees them: their abstracts for `tetherctl --help`; their arguments go to
/// ContainerCommands (main.swift sends them there before ArgumentParser is touched).
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: ContainerCommands.runAbstract)
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []
    func run() throws { throw ExitCode(ContainerCommands.run(arguments)) }
}

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: ContainerCommands.createAbstract)
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []
    func run() throws { throw ExitCode(ContainerCommands.create(arguments)) }
}

struct Wait: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Wait for a container to exit; prints its exit code.")
    @OptionGroup var daemon: DaemonOptions
    @Argument var container: String
    func run() throws {
        let response: Tether_Daemon_V1_WaitResponse = try daemon.call("Wait", Tether_Daemon_V1_ContainerRequest.with { $0.id = container }, timeout: nil)
        print(response.exitCode)
    }
}
