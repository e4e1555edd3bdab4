#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCISpec
import TetherFlags
import TetherRuntime
import TetherSystem

/// `exec`, as runc: the process from `--process FILE` (what containerd-shim-runc-v2 and conmon pass) or from
/// the arguments plus flags; `-d` returns once it runs, otherwise this waits and exits with its status.
struct ExecCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(
        name: "exec", abstract: "Run a new process inside a running container.",
        flags: [
            .init("-p", "--process", value: "FILE", help: "Path to a process.json (runtime-spec Process)."),
            .init("--console-socket", value: "PATH", help: "Unix socket that receives the pty master."),
            .init("--pid-file", value: "FILE", help: "Write the process's pid here."),
            .init("-d", "--detach", help: "Return once the process runs."),
            .init("-t", "--tty", help: "Allocate a terminal."),
            .init("--cwd", value: "DIR", help: "Working directory in the container."),
            .init("-e", "--env", value: "NAME=VALUE", repeatable: true, help: "Add to the environment."),
            .init("-u", "--user", value: "UID[:GID]", help: "The user to run as."),
            .init("--cap", value: "CAP", repeatable: true, help: "Add a capability (CAP_xxx) to the bounding, effective and permitted sets."),
            .init("--no-new-privs", help: "Set no_new_privs for the process."),
            .init("--preserve-fds", value: "N", help: "Pass this many extra fds (3...)."),
        ],
        required: ["ID"], passthrough: "COMMAND")

    let process: String?
    let consoleSocket: String?
    let pidFile: String?
    let detach: Bool
    let tty: Bool
    let cwd: String?
    let env: [String]
    let user: String?
    let caps: [String]
    let noNewPrivs: Bool
    let preserveFDs: Int
    let id: String
    let command: [String]

    init(_ arguments: ParsedFlags) throws {
        process = arguments.value("--process")
        consoleSocket = arguments.value("--console-socket")
        pidFile = arguments.value("--pid-file")
        detach = arguments.isSet("--detach")
        tty = arguments.isSet("--tty")
        cwd = arguments.value("--cwd")
        env = arguments.all("--env")
        user = arguments.value("--user")
        caps = arguments.all("--cap")
        noNewPrivs = arguments.isSet("--no-new-privs")
        preserveFDs = try arguments.number("--preserve-fds") ?? 0
        id = arguments.positionals[0]
        command = arguments.passthrough.first == "--" ? Array(arguments.passthrough.dropFirst()) : arguments.passthrough
        if process == nil && command.isEmpty { throw FlagError("exec: a command or --process is required") }
        if preserveFDs < 0 { throw FlagError("--preserve-fds \(preserveFDs): must not be negative") }
        for name in caps where OCISpec.Process.Capabilities.number(of: name) == nil {
            throw FlagError("--cap \(name): unknown capability")
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
            guard let uid = parts.first.flatMap({ UInt32($0) }) else { throw FlagError("--user \(user): expected uid[:gid]") }
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
