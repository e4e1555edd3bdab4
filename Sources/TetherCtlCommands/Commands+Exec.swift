import TetherAPI
import TetherFlags

struct Exec: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "exec", "Run a command in a running container; exits with its exit code.",
        flags: [
            Flag("-i", "--interactive", help: "Keep stdin open."),
            Flag("-t", "--tty", help: "Give the command a pseudo-terminal."),
            Flag("-d", "--detach", help: "Start it in the background (its output is discarded)."),
            Flag("-e", "--env", value: "NAME=VALUE", repeatable: true, help: "Set an environment variable."),
            Flag("-w", "--workdir", value: "DIR", help: "Working directory inside the container."),
            Flag("-u", "--user", value: "UID[:GID]", help: "Run as UID[:GID] (default: the container's user)."),
        ],
        required: ["CONTAINER"], passthrough: "COMMAND")

    let daemon: Tetherd
    let interactive: Bool
    let tty: Bool
    let detach: Bool
    let env: [String]
    let workdir: String
    let user: String
    let container: String
    let command: [String]

    init(_ arguments: ParsedFlags) throws(FlagError) {
        daemon = Tetherd(arguments)
        interactive = arguments.isSet("--interactive")
        tty = arguments.isSet("--tty")
        detach = arguments.isSet("--detach")
        env = arguments.all("--env")
        workdir = arguments.value("--workdir") ?? ""
        user = arguments.value("--user") ?? ""
        container = arguments.positionals[0]
        command = arguments.passthrough
        if command.isEmpty { throw FlagError("a command is required after CONTAINER") }
    }

    func run() throws -> Int32 {
        let response = try daemon.call(DaemonService.exec, .with {
            $0.id = container
            $0.args = command
            $0.env = env
            $0.cwd = workdir
            $0.user = user
            $0.tty = tty
            if tty, let size = TerminalMode.consoleSize { $0.consoleSize = size }
            $0.openStdin = interactive
            $0.detach = detach
        })
        if detach { return 0 }
        let process = Tether_Daemon_V1_ExecProcessRequest.with {
            $0.id = container
            $0.execID = response.execID
        }
        let session = AttachSession(daemon: daemon)
        try session.read(fifo: response.stdoutPath, to: 1)
        if !response.stderrPath.isEmpty { try session.read(fifo: response.stderrPath, to: 2) }
        try daemon.call(DaemonService.startExec, process)
        if interactive { session.stdinFIFO = response.stdinPath }
        if tty { session.resize = .with { $0.id = container; $0.execID = response.execID } }
        return try session.run(waitingWith: DaemonService.waitExec, process)
    }
}
