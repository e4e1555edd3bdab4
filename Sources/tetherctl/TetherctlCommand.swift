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

struct DaemonOptions: ParsableArguments {
    @Option(help: "tetherd's socket.") var socket = "/run/tether/tetherd.sock"

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
            throw CLIError(status.message)
        }
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

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a command in a new container on a rootfs directory.")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Run in the background and print the container id.") var detach = false
    @Flag(help: "Remove the container when it exits.") var rm = false
    @OptionGroup var options: ContainerOptions
    @Argument(help: "The root filesystem directory (left unmodified: the container writes to an overlay).") var rootfs: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("a command is required after ROOTFS") }
    }

    func run() throws {
        var request = options.request(rootfs: rootfs, command: command)
        request.remove = rm && detach  // attached --rm: removed here after its output is read
        request.detach = detach
        let response: Tether_Daemon_V1_RunResponse
        do {
            response = try daemon.call("Run", request)
        } catch {
            throw Self.fail(error, code: 125)
        }
        if detach {
            print(response.id)
            return
        }
        let session = AttachSession(daemon: daemon)
        session.follow(log: response.logPath)
        if options.interactive { session.stdinFIFO = response.stdinPath }
        if options.tty { session.resize = .with { $0.id = response.id } }
        let code = try session.run(waitingWith: "Wait", Tether_Daemon_V1_ContainerRequest.with { $0.id = response.id })
        if rm { let _: Google_Protobuf_Empty = try daemon.call("Remove", Tether_Daemon_V1_ContainerRequest.with { $0.id = response.id; $0.force = true }) }
        throw ExitCode(code)
    }
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
