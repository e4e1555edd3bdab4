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
        subcommands: [Run.self, Ps.self, Inspect.self, Logs.self, Kill.self, Stop.self, Rm.self, Prune.self, Wait.self])
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
    @Option(help: "A name for the container.") var name: String = ""
    @Option(name: .shortAndLong, help: "Set an environment variable (NAME=VALUE).") var env: [String] = []
    @Option(name: .shortAndLong, help: "Working directory inside the container.") var workdir: String = ""
    @Option(help: "The container's hostname.") var hostname: String = ""
    @Flag(help: "Mount the root filesystem read-only.") var readOnly = false
    @Option(help: "Restart policy: no, on-failure[:N] or always.") var restart: String = "no"
    @Option(help: "Network: none or host.") var network: String = "none"
    @Argument(help: "The root filesystem directory (left unmodified: the container writes to an overlay).") var rootfs: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("a command is required after ROOTFS") }
        if !["none", "host"].contains(network) { throw ValidationError("--network \(network): expected none or host") }
    }

    func run() throws {
        let absolute = rootfs.hasPrefix("/") ? rootfs : FileIO.currentDirectory() + "/" + rootfs
        let request = Tether_Daemon_V1_RunRequest.with {
            $0.name = name
            $0.rootfs = absolute
            $0.args = command
            $0.env = env
            $0.cwd = workdir
            $0.remove = rm && detach  // attached --rm: removed here after its output is read
            $0.hostname = hostname
            $0.readOnly = readOnly
            $0.detach = detach
            $0.restart = restart
            $0.network = network
        }
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
        let code = try Follow.untilExit(daemon: daemon, id: response.id, logPath: response.logPath)
        if rm { let _: Google_Protobuf_Empty = try daemon.call("Remove", Tether_Daemon_V1_ContainerRequest.with { $0.id = response.id; $0.force = true }) }
        throw ExitCode(code)
    }
}

/// Copies a container's log to stdout until it exits (a Daemon.Wait on the loop while the log is polled).
enum Follow {
    static func untilExit(daemon: DaemonOptions, id: String, logPath: String) throws -> Int32 {
        let loop = try EventLoop()
        let log = try? FileIO.open(logPath, O_RDONLY)
        var exitCode: Int32?
        func drain() {
            guard let log else { return }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(log, $0.baseAddress, $0.count) }
                if n <= 0 { return }
                try? FileIO.writeAll(1, Array(buffer[0..<n]))
            }
        }
        let client = try TTRPCLoopClient(loop: loop, path: daemon.socket)
        client.call("tether.daemon.v1.Daemon", "Wait", Tether_Daemon_V1_ContainerRequest.with { $0.id = id }) {
            (result: Result<Tether_Daemon_V1_WaitResponse, Error>) in
            exitCode = (try? result.get().exitCode) ?? 125
            loop.stop()
        }
        loop.schedule(after: 10, repeating: true) { drain() }
        try loop.run()
        drain()
        return exitCode ?? 125
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
