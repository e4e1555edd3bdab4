#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FoundationEssentials
import TetherAPI
import TetherSystem

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a created or stopped container.")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Attach its output and wait for its exit (exit code: the container's).") var attach = false
    @Flag(name: .shortAndLong, help: "Attach stdin too (a container created with -i).") var interactive = false
    @Argument var container: String

    func run() throws {
        guard attach || interactive else {
            try daemon.call(DaemonService.start, .with { $0.id = container })
            print(container)
            return
        }
        let info = try daemon.call(DaemonService.inspect, .with { $0.id = container })
        let offset = Attach.logSize(info.logPath)
        let response = try daemon.call(DaemonService.start, .with { $0.id = info.id })
        let session = AttachSession(daemon: daemon.tetherd)
        session.follow(log: response.logPath, from: offset)
        if interactive && !response.stdinPath.isEmpty { session.stdinFIFO = response.stdinPath }
        if info.tty { session.resize = .with { $0.id = info.id } }
        throw ExitCode(try session.run(waitingWith: DaemonService.wait, Tether_Daemon_V1_ContainerRequest.with { $0.id = info.id }))
    }
}

struct Restart: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop a container (SIGTERM, SIGKILL after the grace period) and start it again.")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Seconds to wait before killing it.") var time: UInt32 = 10
    @Argument var containers: [String]

    func run() throws {
        for container in containers {
            try daemon.call(DaemonService.restart, .with {
                $0.id = container
                $0.timeoutSeconds = time
            }, timeout: .seconds(Int64(time) + 60))
            print(container)
        }
    }
}

struct Attach: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Attach the local terminal to a running container's output and input (when created with -i).")
    @OptionGroup var daemon: DaemonOptions
    @Flag(help: "Do not attach stdin.") var noStdin = false
    @Argument var container: String

    func run() throws {
        let info = try daemon.call(DaemonService.inspect, .with { $0.id = container })
        guard info.state == .running else { throw CLIError("you cannot attach to a stopped container: \(container)") }
        let session = AttachSession(daemon: daemon.tetherd)
        session.follow(log: info.logPath, from: Attach.logSize(info.logPath))
        if !noStdin && !info.stdinPath.isEmpty { session.stdinFIFO = info.stdinPath }
        if info.tty { session.resize = .with { $0.id = info.id } }
        throw ExitCode(try session.run(waitingWith: DaemonService.wait, Tether_Daemon_V1_ContainerRequest.with { $0.id = info.id }))
    }

    /// Where new output starts: attaching shows what the container writes from now on.
    static func logSize(_ path: String) -> Int64 {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_size) : 0
    }
}
