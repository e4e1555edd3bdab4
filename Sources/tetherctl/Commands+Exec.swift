import ArgumentParser
import TetherAPI

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a command in a running container; exits with its exit code.")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Keep stdin open.") var interactive = false
    @Flag(name: .shortAndLong, help: "Give the command a pseudo-terminal.") var tty = false
    @Flag(name: .shortAndLong, help: "Start it in the background (its output is discarded).") var detach = false
    @Option(name: .shortAndLong, help: "Set an environment variable (NAME=VALUE).") var env: [String] = []
    @Option(name: .shortAndLong, help: "Working directory inside the container.") var workdir: String = ""
    @Option(name: .shortAndLong, help: "Run as UID[:GID] (default: the container's user).") var user: String = ""
    @Argument var container: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("a command is required after CONTAINER") }
    }

    func run() throws {
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
        if detach { return }
        let process = Tether_Daemon_V1_ExecProcessRequest.with {
            $0.id = container
            $0.execID = response.execID
        }
        let session = AttachSession(daemon: daemon.tetherd)
        try session.read(fifo: response.stdoutPath, to: 1)
        if !response.stderrPath.isEmpty { try session.read(fifo: response.stderrPath, to: 2) }
        try daemon.call(DaemonService.startExec, process)
        if interactive { session.stdinFIFO = response.stdinPath }
        if tty { session.resize = .with { $0.id = container; $0.execID = response.execID } }
        throw ExitCode(try session.run(waitingWith: DaemonService.waitExec, process))
    }
}
