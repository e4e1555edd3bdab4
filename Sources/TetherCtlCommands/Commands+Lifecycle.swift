#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TetherAPI
import TetherFlags
import TetherSystem

struct Start: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "start", "Start a created or stopped container.",
        flags: [Flag("-a", "--attach", help: "Attach its output and wait for its exit (exit code: the container's)."),
                Flag("-i", "--interactive", help: "Attach stdin too (a container created with -i).")],
        required: ["CONTAINER"])
    let daemon: Tetherd
    let attach: Bool
    let interactive: Bool
    let container: String

    init(_ arguments: ParsedFlags) {
        daemon = Tetherd(arguments)
        attach = arguments.isSet("--attach")
        interactive = arguments.isSet("--interactive")
        container = arguments.positionals[0]
    }

    func run() throws -> Int32 {
        guard attach || interactive else {
            try daemon.call(DaemonService.start, .with { $0.id = container })
            print(container)
            return 0
        }
        let info = try daemon.call(DaemonService.inspect, .with { $0.id = container })
        let offset = Attach.logSize(info.logPath)
        let response = try daemon.call(DaemonService.start, .with { $0.id = info.id })
        let session = AttachSession(daemon: daemon)
        session.follow(log: response.logPath, from: offset)
        if interactive && !response.stdinPath.isEmpty { session.stdinFIFO = response.stdinPath }
        if info.tty { session.resize = .with { $0.id = info.id } }
        return try session.run(waitingWith: DaemonService.wait, Tether_Daemon_V1_ContainerRequest.with { $0.id = info.id })
    }
}

struct Restart: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "restart", "Stop a container (SIGTERM, SIGKILL after the grace period) and start it again.",
        flags: [Flag("-t", "--time", value: "SECONDS", help: "Seconds to wait before killing it (default 10).")],
        required: ["CONTAINER"], variadic: true)
    let daemon: Tetherd
    let time: UInt32
    let containers: [String]

    init(_ arguments: ParsedFlags) throws(FlagError) {
        daemon = Tetherd(arguments)
        time = try arguments.number("--time") ?? 10
        containers = arguments.positionals
    }

    func run() throws -> Int32 {
        for container in containers {
            try daemon.call(DaemonService.restart, .with {
                $0.id = container
                $0.timeoutSeconds = time
            }, timeout: .seconds(Int64(time) + 60))
            print(container)
        }
        return 0
    }
}

struct Attach: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "attach", "Attach the local terminal to a running container's output and input (when created with -i).",
        flags: [Flag("--no-stdin", help: "Do not attach stdin.")], required: ["CONTAINER"])
    let daemon: Tetherd
    let noStdin: Bool
    let container: String

    init(_ arguments: ParsedFlags) {
        daemon = Tetherd(arguments)
        noStdin = arguments.isSet("--no-stdin")
        container = arguments.positionals[0]
    }

    func run() throws -> Int32 {
        let info = try daemon.call(DaemonService.inspect, .with { $0.id = container })
        guard info.state == .running else { throw CLIError("you cannot attach to a stopped container: \(container)") }
        let session = AttachSession(daemon: daemon)
        session.follow(log: info.logPath, from: Attach.logSize(info.logPath))
        if !noStdin && !info.stdinPath.isEmpty { session.stdinFIFO = info.stdinPath }
        if info.tty { session.resize = .with { $0.id = info.id } }
        return try session.run(waitingWith: DaemonService.wait, Tether_Daemon_V1_ContainerRequest.with { $0.id = info.id })
    }

    /// Where new output starts: attaching shows what the container writes from now on.
    static func logSize(_ path: String) -> Int64 {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_size) : 0
    }
}
