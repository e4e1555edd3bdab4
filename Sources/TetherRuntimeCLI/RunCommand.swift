#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import OCISpec
import TetherFlags
import TetherRuntime
import TetherSystem

struct RunCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(
        name: "run", abstract: "Create and start a container; without -d, wait for it, relay signals and exit with its status.",
        flags: CreateFlags.syntax + [
            .init("-d", "--detach", help: "Return after start."),
            .init("--keep", help: "Do not delete the container after it exits."),
        ],
        required: ["ID"])

    let flags: CreateFlags
    let detach: Bool
    let keep: Bool
    let id: String

    init(_ arguments: ParsedFlags) throws {
        flags = try CreateFlags(arguments)
        detach = arguments.isSet("--detach")
        keep = arguments.isSet("--keep")
        id = arguments.positionals[0]
    }

    static let relayedSignals: [Int32] = (1..<32).map { Int32($0) }.filter {
        $0 != SIGKILL && $0 != SIGSTOP && $0 != SIGCHLD && $0 != SIGURG
    }

    func run() throws {
        // One instance for create, start and delete: it keeps the record it wrote instead of reading it back.
        let runtime = runtime
        // Loaded once here (for process.terminal) and handed to create.
        let spec = try Runtime.loadSpec(bundle: flags.bundle)
        let terminal = spec.process?.terminal == true
        var io = ProcessIO.inherited
        var consolePeer: Int32 = -1
        if terminal && flags.consoleSocket == nil {
            if detach {
                throw RuntimeError(.invalidArgument, "cannot allocate a tty when detaching without --console-socket")
            }
            let (mine, theirs) = try FileIO.socketPair(type: Int32(SOCK_STREAM.rawValue))
            consolePeer = mine
            io.consoleSocket = theirs
        }
        if !detach { try SignalFD.block(RunCommand.relayedSignals + [SIGCHLD]) }
        var options = try flags.options(io: io)
        options.spec = spec
        let state: ContainerState
        do {
            state = try runtime.create(id: id, options: options)
        } catch {
            if let fd = options.io.consoleSocket { FileIO.close(fd) }
            throw error
        }
        if let fd = options.io.consoleSocket { FileIO.close(fd) }
        var master: Int32 = -1
        if consolePeer >= 0 {
            let received = try? UnixSocket.receive(consolePeer, capacity: 4096)
            FileIO.close(consolePeer)
            master = received?.fds.first ?? -1
        }
        do {
            try runtime.start(id: id)
        } catch {
            try? runtime.delete(id: id, force: true)
            throw error
        }
        if detach { return }
        let status = try wait(for: state.pid, master: master)
        if !keep { try? runtime.delete(id: id, force: true) }
        throw CommandExit(status: status)
    }

    /// Waits for the init (our child), relaying signals to it and, with a terminal, bytes between our stdio
    /// and the pty master. Returns its exit status (128 + signal when killed).
    private func wait(for pid: Int32, master: Int32) throws -> Int32 {
        let signals = try SignalFD(RunCommand.relayedSignals + [SIGCHLD])
        let raw = master >= 0 ? RawTerminal(fd: 0) : nil
        raw?.enable()
        defer { raw?.restore() }
        if master >= 0 { RunCommand.copyWindowSize(to: master) }
        var inputOpen = master >= 0
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            var fds = [pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0)]
            if master >= 0 { fds.append(pollfd(fd: master, events: Int16(POLLIN), revents: 0)) }
            if inputOpen { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            let n = poll(&fds, nfds_t(fds.count), -1)
            if n < 0 {
                if errno == EINTR { continue }
                throw RuntimeError.system(.current("poll"), stage: "run")
            }
            if master >= 0, fds[1].revents != 0 {
                let count = read(master, &buffer, buffer.count)
                if count > 0 { try? FileIO.writeAll(1, Array(buffer[0..<count])) }
            }
            if inputOpen, let entry = fds.last, entry.fd == 0, entry.revents != 0 {
                let count = read(0, &buffer, buffer.count)
                if count > 0 { try? FileIO.writeAll(master, Array(buffer[0..<count])) } else { inputOpen = false }
            }
            for signal in signals.drain() {
                if signal == SIGCHLD {
                    var status: Int32 = 0
                    let result = waitpid(pid, &status, WNOHANG)
                    if result == pid {
                        if master >= 0 { RunCommand.drain(master, into: &buffer) }
                        return ProcessSupport.exitStatus(fromWaitStatus: status)
                    }
                } else if signal == SIGWINCH, master >= 0 {
                    RunCommand.copyWindowSize(to: master)
                } else {
                    Glibc.kill(pid, signal)
                }
            }
        }
    }

    static func drain(_ master: Int32, into buffer: inout [UInt8]) {
        _ = tether_set_nonblock(master, 1)
        while true {
            let count = read(master, &buffer, buffer.count)
            if count <= 0 { return }
            try? FileIO.writeAll(1, Array(buffer[0..<count]))
        }
    }

    static func copyWindowSize(to master: Int32) {
        if let size = TerminalSize.of(0) { try? size.apply(to: master) }
    }
}
