#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import SwiftProtobuf
import TTRPC
import TetherAPI
import TetherFlags
import TetherSystem

/// One tether-harness command: its syntax, built from a parsed command line, then run.
protocol HarnessCommand {
    static var syntax: CommandSyntax { get }
    init(_ arguments: ParsedFlags) throws(FlagError)
    func run() throws
}

extension CommandSyntax {
    /// A harness command (POSIX-style flags); an RPC command also takes the Target flags.
    static func harness(_ name: String, _ abstract: String, target: Bool = true, flags: [Flag] = [],
                        optional: [String] = [], variadic: Bool = false) -> CommandSyntax {
        CommandSyntax(program: "tether-harness", name: name, abstract: abstract, style: .posix,
                      flags: (target ? Target.flags : []) + flags, optional: optional, variadic: variadic)
    }
}

/// tether-harness: drives one shim (ours or containerd's) over its socket, without a daemon. Usage errors print
/// one line naming the argument and exit 2; a failed call prints `tether-harness: <message>` and exits 1.
public enum Harness {
    static var commands: [any HarnessCommand.Type] {
        [Spawn.self, Create.self, Start.self, Exec.self, Kill.self, Wait.self, State.self, Pids.self,
         Pause.self, Resume.self, Stats.self, Update.self, Delete.self, Shutdown.self, Connect.self, Resize.self, CloseIO.self,
         Attach.self, Events.self, ExecLoop.self]
    }

    static var help: String {
        HelpTable.overview(abstract: "Drive one containerd shim v2 over its ttrpc socket.",
                           usage: "tether-harness COMMAND [flags] [arguments]", commands: commands.map { $0.syntax },
                           footer: "Run 'tether-harness COMMAND --help' for a command's flags.")
    }

    /// Runs the command line (without the program name). Never returns.
    public static func main(_ arguments: [String]) -> Never {
        guard let name = arguments.first, !["-h", "--help", "help"].contains(name) else {
            let command = arguments.count > 1 ? commands.first { $0.syntax.name == arguments[1] } : nil
            try? FileIO.writeAll(1, command?.syntax.help ?? help)
            exit(0)
        }
        guard let command = commands.first(where: { $0.syntax.name == name }) else {
            fail("unknown command \"\(name)\" (see tether-harness --help)", status: 2)
        }
        let instance: any HarnessCommand
        do {
            let parsed = try command.syntax.parse(Array(arguments.dropFirst()))
            if parsed.helpRequested {
                try? FileIO.writeAll(1, command.syntax.help)
                exit(0)
            }
            instance = try command.init(parsed)
        } catch {
            fail("\(error)", status: 2)
        }
        do {
            try instance.run()
        } catch let error as HarnessExit {
            exit(error.status)
        } catch let error as FlagError {
            fail("\(error)", status: 2)
        } catch {
            fail("\(error)", status: 1)
        }
        exit(0)
    }

    static func fail(_ message: String, status: Int32) -> Never {
        try? FileIO.writeAll(2, "tether-harness: \(message)\n")
        exit(status)
    }
}

/// Ends the harness with `status`, its message already printed.
struct HarnessExit: Error {
    let status: Int32
}

/// A failed step that is not a usage error: one line, exit status 1.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Options every RPC command takes.
struct Target {
    static let flags = [
        Flag("--socket", value: "ADDRESS", help: "The shim's socket (a path or unix:// address); required."),
        Flag("--id", value: "ID", help: "The container id; required."),
        Flag("--exec-id", value: "ID", help: "An exec'd process of the container."),
        Flag("--timeout", value: "SECONDS", help: "Seconds to wait for the reply (default: for ever)."),
    ]
    let socket: String
    let id: String
    let execID: String
    let timeout: Double?

    init(_ arguments: ParsedFlags) throws(FlagError) {
        socket = try arguments.required("--socket")
        id = try arguments.required("--id")
        execID = arguments.value("--exec-id") ?? ""
        if let text = arguments.value("--timeout") {
            guard let seconds = Double(text), seconds >= 0 else { throw FlagError(command: arguments.command, "--timeout: \"\(text)\" is not a number of seconds") }
            timeout = seconds
        } else {
            timeout = nil
        }
    }

    func client() throws -> TaskClient {
        do {
            return try TaskClient(path: TTRPCClient.socketPath(fromAddress: socket),
                                  timeout: timeout.map { .milliseconds(Int64($0 * 1000)) })
        } catch {
            throw HarnessError("--socket \(socket): cannot connect: \(error)")
        }
    }
}

/// Prints a reply as one line of protobuf JSON (field names as in containerd's .proto files).
func printReply(_ message: some SwiftProtobuf.Message) throws {
    var options = JSONEncodingOptions()
    options.alwaysPrintInt64sAsNumbers = true
    options.preserveProtoFieldNames = true
    print(try message.jsonString(options: options))
}

/// Runs `body`, turning a ttrpc error status into one line on stderr and exit status 1.
func rpc(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let status as TTRPCStatus {
        try? FileIO.writeAll(2, "tether-harness: \(status.code) \(status.message)\n")
        throw HarnessExit(status: 1)
    }
}

struct Spawn: HarnessCommand {
    static let syntax = CommandSyntax.harness(
        "spawn", "Start a shim through its start contract; prints its address.", target: false,
        flags: [
            Flag("--bundle", value: "DIR", help: "The bundle directory (the shim's working directory); required."),
            Flag("--id", value: "ID", help: "The container id; required."),
            Flag("--namespace", value: "NAME", help: "The namespace (default tether)."),
            Flag("--binary", value: "PATH", help: "The shim binary (default tether-shim)."),
            Flag("--events", value: "PATH", help: "Where the shim publishes events (TTRPC_ADDRESS)."),
            Flag("--address", value: "PATH", help: "The -address passed to the shim (a daemon socket; default /run/tether/harness.sock)."),
        ])
    let bundle: String
    let id: String
    let namespace: String
    let binary: String
    let events: String?
    let address: String

    init(_ arguments: ParsedFlags) throws(FlagError) {
        bundle = try arguments.required("--bundle")
        id = try arguments.required("--id")
        namespace = arguments.value("--namespace") ?? "tether"
        binary = arguments.value("--binary") ?? "tether-shim"
        events = arguments.value("--events")
        address = arguments.value("--address") ?? "/run/tether/harness.sock"
    }

    func run() throws {
        let shim = binary.contains("/") ? binary : Spawn.siblingOrPath(binary)
        var environment = ProcessEnvironment.current
        if let events { environment["TTRPC_ADDRESS"] = events }
        let arguments = [shim, "-namespace", namespace, "-id", id, "-address", address, "-publish-binary", "/bin/true", "start"]
        let result = try Spawner.run(arguments, directory: bundle, environment: environment)
        guard result.status == 0 else {
            throw HarnessError("\(shim) start failed (exit \(result.status)): \(result.output)")
        }
        print(result.output.trimmedLine)
    }

    /// The program installed next to the harness, else `name` as found on PATH.
    static func siblingOrPath(_ name: String) -> String {
        let sibling = OwnExecutable.sibling(name)
        return access(sibling, X_OK) == 0 ? sibling : name
    }
}

struct Create: HarnessCommand {
    static let syntax = CommandSyntax.harness(
        "create", "Create the task from a bundle.",
        flags: [Flag("--bundle", value: "DIR", help: "The bundle directory; required.")] + Stdio.flags + [
            Flag("--rootfs", value: "DIR", help: "A directory bind-mounted onto <bundle>/rootfs by the shim (a rootfs mount in the request)."),
        ])
    let target: Target
    let bundle: String
    let stdio: Stdio
    let rootfs: String?
    var stdin: String { stdio.stdin }
    var stdout: String { stdio.stdout }
    var stderr: String { stdio.stderr }
    var terminal: Bool { stdio.terminal }

    init(_ arguments: ParsedFlags) throws(FlagError) {
        target = try Target(arguments)
        bundle = try arguments.required("--bundle")
        stdio = Stdio(arguments)
        rootfs = arguments.value("--rootfs")
    }

    func run() throws {
        try rpc {
            let request = Containerd_Task_V2_CreateTaskRequest.with {
                $0.id = target.id
                $0.bundle = bundle
                $0.stdin = stdin
                $0.stdout = stdout
                $0.stderr = stderr
                $0.terminal = terminal
                if let rootfs {
                    $0.rootfs = [Containerd_Types_Mount.with { mount in
                        mount.type = "bind"
                        mount.source = rootfs
                        mount.options = ["rbind", "ro"]
                    }]
                }
            }
            try printReply(try target.client().call(TaskService.create, request))
        }
    }
}

struct Start: HarnessCommand {
    static let syntax = CommandSyntax.harness("start", "Start the task (or an exec'd process).")
    let target: Target
    init(_ arguments: ParsedFlags) throws(FlagError) { target = try Target(arguments) }
    func run() throws {
        try rpc {
            try printReply(try target.client().call(TaskService.start, .with { $0.id = target.id; $0.execID = target.execID }))
        }
    }
}

struct Exec: HarnessCommand {
    static let syntax = CommandSyntax.harness(
        "exec", "Add an exec'd process (start it with `start --exec-id`).",
        flags: Stdio.flags + [
            Flag("-e", value: "NAME=VALUE", repeatable: true, help: "Environment variable."),
            Flag("--cwd", value: "DIR", help: "Working directory in the container (default /)."),
        ],
        optional: ["COMMAND"], variadic: true)
    let target: Target
    let stdio: Stdio
    let env: [String]
    let cwd: String
    let command: [String]
    var stdin: String { stdio.stdin }
    var stdout: String { stdio.stdout }
    var stderr: String { stdio.stderr }
    var terminal: Bool { stdio.terminal }

    init(_ arguments: ParsedFlags) throws(FlagError) {
        target = try Target(arguments)
        stdio = Stdio(arguments)
        env = arguments.all("-e")
        cwd = arguments.value("--cwd") ?? "/"
        command = arguments.positionals
        if target.execID.isEmpty { throw FlagError(command: "exec", "--exec-id is required") }
        if command.isEmpty { throw FlagError(command: "exec", "a command is required") }
    }

    func run() throws {
        let request = try Exec.request(id: target.id, execID: target.execID, command: command, env: env, cwd: cwd,
                                       stdin: stdin, stdout: stdout, stderr: stderr, terminal: terminal)
        try rpc { try target.client().call(TaskService.exec, request) }
    }

    /// An ExecProcessRequest whose spec is the OCI process JSON containerd sends (uid 0, a default PATH).
    static func request(id: String, execID: String, command: [String], env: [String] = [], cwd: String = "/",
                        stdin: String = "", stdout: String = "", stderr: String = "",
                        terminal: Bool = false) throws -> Containerd_Task_V2_ExecProcessRequest {
        struct ProcessSpec: Encodable {
            var terminal: Bool
            var user = ["uid": 0, "gid": 0]
            var args: [String]
            var env: [String]
            var cwd: String
        }
        let spec = ProcessSpec(terminal: terminal, args: command,
                               env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] + env, cwd: cwd)
        let json = try JSONEncoder().encode(spec)
        return Containerd_Task_V2_ExecProcessRequest.with {
            $0.id = id
            $0.execID = execID
            $0.stdin = stdin
            $0.stdout = stdout
            $0.stderr = stderr
            $0.terminal = terminal
            $0.spec = Google_Protobuf_Any.with { any in
                any.typeURL = "types.containerd.io/opencontainers/runtime-spec/1/Process"
                any.value = json
            }
        }
    }
}

struct Kill: HarnessCommand {
    static let syntax = CommandSyntax.harness(
        "kill", "Signal the task or an exec'd process.",
        flags: [Flag("--signal", value: "SIGNAL", help: "Signal name or number (default SIGTERM)."),
                Flag("--all", help: "Signal every process in the container.")])
    let target: Target
    let number: Int32
    let all: Bool

    init(_ arguments: ParsedFlags) throws(FlagError) {
        target = try Target(arguments)
        let signal = arguments.value("--signal") ?? "SIGTERM"
        guard let number = ProcessSupport.signalNumber(named: signal) else {
            throw FlagError(command: "kill", "--signal \(signal): unknown signal")
        }
        self.number = number
        all = arguments.isSet("--all")
    }

    func run() throws {
        try rpc {
            try target.client().call(TaskService.kill, .with {
                $0.id = target.id
                $0.execID = target.execID
                $0.signal = UInt32(number)
                $0.all = all
            })
        }
    }
}

struct Wait: HarnessCommand {
    static let syntax = CommandSyntax.harness("wait", "Wait for the process to exit; prints its status.")
    let target: Target
    init(_ arguments: ParsedFlags) throws(FlagError) { target = try Target(arguments) }
    func run() throws {
        try rpc { try printReply(try target.client().call(TaskService.wait, .with { $0.id = target.id; $0.execID = target.execID })) }
    }
}

struct State: HarnessCommand {
    static let syntax = CommandSyntax.harness("state", "Print the process state.")
    let target: Target
    init(_ arguments: ParsedFlags) throws(FlagError) { target = try Target(arguments) }
    func run() throws {
        try rpc { try printReply(try target.client().call(TaskService.state, .with { $0.id = target.id; $0.execID = target.execID })) }
    }
}

struct Pids: HarnessCommand {
    static let syntax = CommandSyntax.harness(
        "pids", "Print the container's processes: {\"processes\":[{\"pid\":N,\"exec_id\":\"ID\"},...]} (exec_id for exec'd ones).")
    let target: Target
    init(_ arguments: ParsedFlags) throws(FlagError) { target = try Target(arguments) }

    struct Listing: Encodable {
        struct Process: Encodable {
            let pid: UInt32
            let exec_id: String?
        }
        let processes: [Process]
    }

    func run() throws {
        try rpc {
            // ProcessInfo.info is an Any with containerd's bare type URL, which protobuf JSON cannot print: unpacked here.
            let reply = try target.client().call(TaskService.pids, .with { $0.id = target.id })
            let listing = Listing(processes: reply.processes.map { process in
                let details = process.hasInfo ? try? process.info.unpack(RuncProcessDetails.self) : nil
                return Listing.Process(pid: process.pid, exec_id: details?.execID)
            })
            print(String(decoding: try JSONEncoder().encode(listing), as: UTF8.self))
        }
    }
}

struct Stats: HarnessCommand {
    static let syntax = CommandSyntax.harness(
        "stats", "Print the task's metrics: {\"type_url\": ..., \"value\": base64 protobuf}.",
        flags: [Flag("--decode", help: "Print io.containerd.cgroups.v2.Metrics as protobuf JSON instead (for scripts without a decoder).")])
    let target: Target
    let decode: Bool
    init(_ arguments: ParsedFlags) throws(FlagError) {
        target = try Target(arguments)
        decode = arguments.isSet("--decode")
    }
    func run() throws {
        try rpc {
            // Printed by hand: the metrics type is not in this binary's protobuf registry.
            let any = try target.client().call(TaskService.stats, .with { $0.id = target.id }).stats
            let v2 = Io_Containerd_Cgroups_V2_Metrics.protoMessageName
            if decode, any.typeURL == v2 || any.typeURL.hasSuffix("/" + v2) {
                try printReply(try Io_Containerd_Cgroups_V2_Metrics(serializedBytes: Array(any.value)))
                return
            }
            print("{\"type_url\":\"\(any.typeURL)\",\"value\":\"\(any.value.base64EncodedString())\"}")
        }
    }
}

struct Update: HarnessCommand {
    static let syntax = CommandSyntax.harness(
        "update", "Change the task's resource limits.",
        flags: [
            Flag("--memory", value: "BYTES", help: "Memory limit in bytes (-1: none)."),
            Flag("--memory-swap", value: "BYTES", help: "Memory+swap limit in bytes (-1: none)."),
            Flag("--cpu-shares", value: "N", help: "CPU shares."),
            Flag("--cpu-quota", value: "MICROSECONDS", help: "CFS quota in µs per period (-1: none)."),
            Flag("--cpu-period", value: "MICROSECONDS", help: "CFS period in µs."),
            Flag("--pids", value: "N", help: "Maximum number of processes (0: none)."),
        ])
    let target: Target
    let memory: Int64?
    let memorySwap: Int64?
    let cpuShares: UInt64?
    let cpuQuota: Int64?
    let cpuPeriod: UInt64?
    let pids: Int64?

    init(_ arguments: ParsedFlags) throws(FlagError) {
        target = try Target(arguments)
        memory = try arguments.number("--memory")
        memorySwap = try arguments.number("--memory-swap")
        cpuShares = try arguments.number("--cpu-shares")
        cpuQuota = try arguments.number("--cpu-quota")
        cpuPeriod = try arguments.number("--cpu-period")
        pids = try arguments.number("--pids")
    }

    func run() throws {
        var resources: [String: Any] = [:]
        var memoryLimits: [String: Int64] = [:]
        if let memory { memoryLimits["limit"] = memory }
        if let memorySwap { memoryLimits["swap"] = memorySwap }
        if !memoryLimits.isEmpty { resources["memory"] = memoryLimits }
        var cpu: [String: Int64] = [:]
        if let cpuShares { cpu["shares"] = Int64(cpuShares) }
        if let cpuQuota { cpu["quota"] = cpuQuota }
        if let cpuPeriod { cpu["period"] = Int64(cpuPeriod) }
        if !cpu.isEmpty { resources["cpu"] = cpu }
        if let pids { resources["pids"] = ["limit": pids] }
        guard !resources.isEmpty else { throw FlagError(command: "update", "nothing to update: give --memory, --cpu-shares, --pids, ...") }
        let json = UpdateJSON.encode(resources)
        try rpc {
            try target.client().call(TaskService.update, .with {
                $0.id = target.id
                $0.resources = Google_Protobuf_Any.with { any in
                    any.typeURL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"
                    any.value = Data(json.utf8)
                }
            })
        }
    }
}

/// The stdio flags of create and exec.
struct Stdio {
    static let flags = [
        Flag("--stdin", value: "PATH", help: "stdin FIFO path."),
        Flag("--stdout", value: "PATH", help: "stdout FIFO path or file:///log."),
        Flag("--stderr", value: "PATH", help: "stderr FIFO path or file:///log."),
        Flag("--terminal", help: "Give the process a terminal."),
    ]
    let stdin: String
    let stdout: String
    let stderr: String
    let terminal: Bool

    init(_ arguments: ParsedFlags) {
        stdin = arguments.value("--stdin") ?? ""
        stdout = arguments.value("--stdout") ?? ""
        stderr = arguments.value("--stderr") ?? ""
        terminal = arguments.isSet("--terminal")
    }
}

/// A tiny JSON writer for nested dictionaries of numbers (FoundationEssentials has no JSONSerialization).
enum UpdateJSON {
    static func encode(_ value: Any) -> String {
        if let dictionary = value as? [String: Any] {
            return "{" + dictionary.keys.sorted().map { "\"\($0)\":" + encode(dictionary[$0] ?? 0) }.joined(separator: ",") + "}"
        }
        return "\(value)"
    }
}

struct Pause: HarnessCommand {
    static let syntax = CommandSyntax.harness("pause", "Freeze the container.")
    let target: Target
    init(_ arguments: ParsedFlags) throws(FlagError) { target = try Target(arguments) }
    func run() throws { try rpc { try target.client().call(TaskService.pause, .with { $0.id = target.id }) } }
}

struct Resume: HarnessCommand {
    static let syntax = CommandSyntax.harness("resume", "Thaw the container.")
    let target: Target
    init(_ arguments: ParsedFlags) throws(FlagError) { target = try Target(arguments) }
    func run() throws { try rpc { try target.client().call(TaskService.resume, .with { $0.id = target.id }) } }
}

struct Delete: HarnessCommand {
    static let syntax = CommandSyntax.harness("delete", "Delete the task (or an exec'd process).")
    let target: Target
    init(_ arguments: ParsedFlags) throws(FlagError) { target = try Target(arguments) }
    func run() throws {
        try rpc { try printReply(try target.client().call(TaskService.delete, .with { $0.id = target.id; $0.execID = target.execID })) }
    }
}

struct Shutdown: HarnessCommand {
    static let syntax = CommandSyntax.harness(
        "shutdown", "Ask the shim to exit (once nothing is left, or --now).", flags: [Flag("--now", help: "Exit even with tasks left.")])
    let target: Target
    let now: Bool
    init(_ arguments: ParsedFlags) throws(FlagError) {
        target = try Target(arguments)
        now = arguments.isSet("--now")
    }
    func run() throws { try rpc { try target.client().call(TaskService.shutdown, .with { $0.id = target.id; $0.now = now }) } }
}

struct Connect: HarnessCommand {
    static let syntax = CommandSyntax.harness("connect", "Print the shim and task pids.")
    let target: Target
    init(_ arguments: ParsedFlags) throws(FlagError) { target = try Target(arguments) }
    func run() throws { try rpc { try printReply(try target.client().call(TaskService.connect, .with { $0.id = target.id })) } }
}

struct Resize: HarnessCommand {
    static let syntax = CommandSyntax.harness(
        "resize", "Resize the process's terminal.",
        flags: [Flag("--width", value: "COLUMNS", help: "Required."), Flag("--height", value: "ROWS", help: "Required.")])
    let target: Target
    let width: UInt32
    let height: UInt32
    init(_ arguments: ParsedFlags) throws(FlagError) {
        target = try Target(arguments)
        _ = try arguments.required("--width")
        _ = try arguments.required("--height")
        width = try arguments.number("--width") ?? 0
        height = try arguments.number("--height") ?? 0
    }
    func run() throws {
        try rpc {
            try target.client().call(TaskService.resizePty, .with {
                $0.id = target.id
                $0.execID = target.execID
                $0.width = width
                $0.height = height
            })
        }
    }
}

struct CloseIO: HarnessCommand {
    static let syntax = CommandSyntax.harness("close-io", "Close the process's stdin.")
    let target: Target
    init(_ arguments: ParsedFlags) throws(FlagError) { target = try Target(arguments) }
    func run() throws {
        try rpc { try target.client().call(TaskService.closeIO, .with { $0.id = target.id; $0.execID = target.execID; $0.stdin = true }) }
    }
}

extension String {
    var trimmedLine: String {
        var text = Substring(self)
        while let last = text.last, last == "\n" || last == " " || last == "\r" { text.removeLast() }
        return String(text)
    }
}
