#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FoundationEssentials
import OCISpec
import TetherRuntime
import TetherSystem

/// `exec`, as runc: the process from `--process FILE` (what containerd-shim-runc-v2 and conmon pass) or from
/// the arguments plus flags; `-d` returns once it runs, otherwise this waits and exits with its status.
struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Run a new process inside a running container.")

    @Option(name: [.short, .customLong("process")], help: "Path to a process.json (runtime-spec Process).") var process: String?
    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master.") var consoleSocket: String?
    @Option(name: .customLong("pid-file"), help: "Write the process's pid here.") var pidFile: String?
    @Flag(name: [.short, .customLong("detach")], help: "Return once the process runs.") var detach = false
    @Flag(name: [.short, .customLong("tty")], help: "Allocate a terminal.") var tty = false
    @Option(name: .customLong("cwd"), help: "Working directory in the container.") var cwd: String?
    @Option(name: [.short, .customLong("env")], help: "NAME=VALUE to add to the environment.") var env: [String] = []
    @Option(name: [.short, .customLong("user")], help: "uid[:gid].") var user: String?
    @Option(name: .customLong("cap"), help: "Add a capability (CAP_xxx) to the bounding, effective and permitted sets (repeatable).")
    var caps: [String] = []
    @Flag(name: .customLong("no-new-privs"), help: "Set no_new_privs for the process.") var noNewPrivs = false
    @Option(name: .customLong("preserve-fds"), help: "Pass this many extra fds (3...).") var preserveFDs: Int = 0
    @Argument(help: "The container id.") var id: String
    @Argument(parsing: .captureForPassthrough, help: "The command (when no --process).") var command: [String] = []

    func validate() throws {
        if process == nil && command.isEmpty { throw ValidationError("exec: a command or --process is required") }
        if preserveFDs < 0 { throw ValidationError("--preserve-fds \(preserveFDs): must not be negative") }
        for name in caps where OCISpec.Process.Capabilities.number(of: name) == nil {
            throw ValidationError("--cap \(name): unknown capability")
        }
    }

    func buildProcess() throws -> OCISpec.Process {
        var spec: OCISpec.Process
        if let process {
            let bytes: [UInt8]
            do {
                bytes = try FileIO.readFile(process)
            } catch {
                throw RuntimeError(.invalidArgument, "--process \(process): \(error)")
            }
            do {
                spec = try JSONDecoder().decode(OCISpec.Process.self, from: Data(bytes))
            } catch {
                throw RuntimeError(.invalidConfig, "--process \(process): invalid process JSON: \(error)")
            }
        } else {
            spec = OCISpec.Process(terminal: tty, args: command, env: ["PATH=\(ProcessSetupDefaults.path)"], cwd: "/")
            if let existing = try? runtime.state(id: id), let base = RunCommand.processSpec(bundle: existing.bundle) {
                spec.env = base.env
                spec.cwd = base.cwd
                spec.user = base.user
                spec.capabilities = base.capabilities
                spec.noNewPrivileges = base.noNewPrivileges
            }
        }
        if tty { spec.terminal = true }
        if let cwd { spec.cwd = cwd }
        if !env.isEmpty { spec.env = (spec.env ?? []) + env }
        if let user {
            let parts = user.split(separator: ":")
            guard let uid = parts.first.flatMap({ UInt32($0) }) else { throw ValidationError("--user \(user): expected uid[:gid]") }
            spec.user.uid = uid
            spec.user.gid = parts.count > 1 ? UInt32(parts[1]) ?? 0 : 0
        }
        if noNewPrivs { spec.noNewPrivileges = true }
        if !caps.isEmpty {
            var capabilities = spec.capabilities ?? .init()
            // As runc: ambient only when the process already has an inheritable set (ambient needs inheritable).
            for name in caps {
                capabilities.bounding = (capabilities.bounding ?? []) + [name]
                capabilities.effective = (capabilities.effective ?? []) + [name]
                capabilities.permitted = (capabilities.permitted ?? []) + [name]
                if capabilities.inheritable != nil { capabilities.ambient = (capabilities.ambient ?? []) + [name] }
            }
            spec.capabilities = capabilities
        }
        return spec
    }

    func run() throws {
        let spec = try buildProcess()
        var io = ProcessIO.inherited
        if let consoleSocket {
            do {
                io.consoleSocket = try UnixSocket.connect(path: consoleSocket)
            } catch {
                throw RuntimeError(.invalidArgument, "--console-socket \(consoleSocket): \(error)")
            }
        } else if spec.terminal == true {
            throw RuntimeError(.invalidArgument, "cannot allocate a tty without --console-socket")
        }
        if !detach { try SignalFD.block(RunCommand.relayedSignals + [SIGCHLD]) }
        let pid = try runtime.exec(id: id, process: spec, io: io, pidFile: pidFile, preserveFDs: preserveFDs)
        if let fd = io.consoleSocket { FileIO.close(fd) }
        if detach { return }
        let signals = try SignalFD(RunCommand.relayedSignals + [SIGCHLD])
        while true {
            var entry = pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0)
            if poll(&entry, 1, -1) < 0 && errno != EINTR { throw RuntimeError.system(.current("poll"), stage: "exec") }
            for signal in signals.drain() {
                if signal == SIGCHLD {
                    var status: Int32 = 0
                    if waitpid(pid, &status, WNOHANG) == pid {
                        throw CommandExit(status: ProcessSupport.exitStatus(fromWaitStatus: status))
                    }
                } else {
                    Glibc.kill(pid, signal)
                }
            }
        }
    }
}

enum ProcessSetupDefaults {
    static let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

extension RunCommand {
    /// The process section of a bundle's config.json (defaults for `exec` given as arguments).
    static func processSpec(bundle: String) -> OCISpec.Process? {
        guard let bytes = try? FileIO.readFile(bundle + "/config.json"), let spec = try? Spec.decode(bytes) else { return nil }
        return spec.process
    }
}
