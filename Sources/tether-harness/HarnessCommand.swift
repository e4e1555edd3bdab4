#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FoundationEssentials
import SwiftProtobuf
import TTRPC
import TetherAPI
import TetherSystem

/// tether-harness: drives one shim (ours or containerd's) over its socket, without a daemon.
struct HarnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tether-harness",
        abstract: "Drive one containerd shim v2 over its ttrpc socket.",
        subcommands: [
            Spawn.self, Create.self, Start.self, Exec.self, Kill.self, Wait.self, State.self, Pids.self,
            Pause.self, Resume.self, Stats.self, Update.self, Delete.self, Shutdown.self, Connect.self, Resize.self, CloseIO.self,
            Attach.self, Events.self, ExecLoop.self,
        ]
    )
}

/// Options every RPC command takes.
struct Target: ParsableArguments {
    @Option(help: "The shim's socket (a path or unix:// address).") var socket: String
    @Option(help: "The container id.") var id: String
    @Option(name: .customLong("exec-id"), help: "An exec'd process of the container.") var execID: String = ""
    @Option(help: "Seconds to wait for the reply (default: for ever).") var timeout: Double?

    func client() throws -> TaskClient {
        do {
            return try TaskClient(path: TTRPCClient.socketPath(fromAddress: socket),
                                  timeout: timeout.map { .milliseconds(Int64($0 * 1000)) })
        } catch {
            throw ValidationError("--socket \(socket): cannot connect: \(error)")
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
        throw ExitCode(1)
    }
}

struct Spawn: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a shim through its start contract; prints its address.")
    @Option(help: "The bundle directory (the shim's working directory).") var bundle: String
    @Option(help: "The container id.") var id: String
    @Option(help: "The namespace.") var namespace: String = "tether"
    @Option(help: "The shim binary.") var binary: String = "tether-shim"
    @Option(help: "Where the shim publishes events (TTRPC_ADDRESS).") var events: String?
    @Option(help: "The -address passed to the shim (a daemon socket).") var address: String = "/run/tether/harness.sock"

    func run() throws {
        let shim = binary.contains("/") ? binary : Spawn.siblingOrPath(binary)
        var environment = ProcessEnvironment.current
        if let events { environment["TTRPC_ADDRESS"] = events }
        let arguments = [shim, "-namespace", namespace, "-id", id, "-address", address, "-publish-binary", "/bin/true", "start"]
        let result = try Spawner.run(arguments, directory: bundle, environment: environment)
        guard result.status == 0 else {
            throw ValidationError("\(shim) start failed (exit \(result.status)): \(result.output)")
        }
        print(result.output.trimmedLine)
    }

    /// The program installed next to the harness, else `name` as found on PATH.
    static func siblingOrPath(_ name: String) -> String {
        let sibling = OwnExecutable.sibling(name)
        return access(sibling, X_OK) == 0 ? sibling : name
    }
}

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create the task from a bundle.")
    @OptionGroup var target: Target
    @Option(help: "The bundle directory.") var bundle: String
    @Option(help: "stdin FIFO path.") var stdin: String = ""
    @Option(help: "stdout FIFO path or file:///log.") var stdout: String = ""
    @Option(help: "stderr FIFO path or file:///log.") var stderr: String = ""
    @Flag(help: "Give the process a terminal.") var terminal = false
    @Option(help: "A directory bind-mounted onto <bundle>/rootfs by the shim (a rootfs mount in the request).")
    var rootfs: String?

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

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the task (or an exec'd process).")
    @OptionGroup var target: Target
    func run() throws {
        try rpc {
            try printReply(try target.client().call(TaskService.start, .with { $0.id = target.id; $0.execID = target.execID }))
        }
    }
}

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add an exec'd process (start it with `start --exec-id`).")
    @OptionGroup var target: Target
    @Option(help: "stdin FIFO path.") var stdin: String = ""
    @Option(help: "stdout FIFO path or file:///log.") var stdout: String = ""
    @Option(help: "stderr FIFO path or file:///log.") var stderr: String = ""
    @Flag(help: "Give the process a terminal.") var terminal = false
    @Option(name: .customShort("e"), help: "Environment variable NAME=VALUE.") var env: [String] = []
    @Option(help: "Working directory in the container.") var cwd: String = "/"
    @Argument(help: "The command and its arguments.") var command: [String]

    func validate() throws {
        if target.execID.isEmpty { throw ValidationError("--exec-id is required") }
        if command.isEmpty { throw ValidationError("a command is required") }
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

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Signal the task or an exec'd process.")
    @OptionGroup var target: Target
    @Option(help: "Signal name or number.") var signal: String = "SIGTERM"
    @Flag(help: "Signal every process in the container.") var all = false
    func run() throws {
        guard let number = ProcessSupport.signalNumber(named: signal) else {
            throw ValidationError("--signal \(signal): unknown signal")
        }
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

struct Wait: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Wait for the process to exit; prints its status.")
    @OptionGroup var target: Target
    func run() throws {
        try rpc { try printReply(try target.client().call(TaskService.wait, .with { $0.id = target.id; $0.execID = target.execID })) }
    }
}

struct State: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the process state.")
    @OptionGroup var target: Target
    func run() throws {
        try rpc { try printReply(try target.client().call(TaskService.state, .with { $0.id = target.id; $0.execID = target.execID })) }
    }
}

struct Pids: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the container's processes: {\"processes\":[{\"pid\":N,\"exec_id\":\"ID\"},...]} (exec_id for exec'd ones).")
    @OptionGroup var target: Target

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

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the task's metrics: {\"type_url\": ..., \"value\": base64 protobuf}.")
    @OptionGroup var target: Target
    @Flag(help: "Print io.containerd.cgroups.v2.Metrics as protobuf JSON instead (for scripts without a decoder).")
    var decode = false
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

struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Change the task's resource limits.")
    @OptionGroup var target: Target
    @Option(help: "Memory limit in bytes (-1: none).") var memory: Int64?
    @Option(name: .customLong("memory-swap"), help: "Memory+swap limit in bytes (-1: none).") var memorySwap: Int64?
    @Option(name: .customLong("cpu-shares"), help: "CPU shares.") var cpuShares: UInt64?
    @Option(name: .customLong("cpu-quota"), help: "CFS quota in µs per period (-1: none).") var cpuQuota: Int64?
    @Option(name: .customLong("cpu-period"), help: "CFS period in µs.") var cpuPeriod: UInt64?
    @Option(help: "Maximum number of processes (0: none).") var pids: Int64?

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
        guard !resources.isEmpty else { throw ValidationError("nothing to update: give --memory, --cpu-shares, --pids, ...") }
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

/// A tiny JSON writer for nested dictionaries of numbers (FoundationEssentials has no JSONSerialization).
enum UpdateJSON {
    static func encode(_ value: Any) -> String {
        if let dictionary = value as? [String: Any] {
            return "{" + dictionary.keys.sorted().map { "\"\($0)\":" + encode(dictionary[$0] ?? 0) }.joined(separator: ",") + "}"
        }
        return "\(value)"
    }
}

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Freeze the container.")
    @OptionGroup var target: Target
    func run() throws { try rpc { try target.client().call(TaskService.pause, .with { $0.id = target.id }) } }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Thaw the container.")
    @OptionGroup var target: Target
    func run() throws { try rpc { try target.client().call(TaskService.resume, .with { $0.id = target.id }) } }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete the task (or an exec'd process).")
    @OptionGroup var target: Target
    func run() throws {
        try rpc { try printReply(try target.client().call(TaskService.delete, .with { $0.id = target.id; $0.execID = target.execID })) }
    }
}

struct Shutdown: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Ask the shim to exit (once nothing is left, or --now).")
    @OptionGroup var target: Target
    @Flag(help: "Exit even with tasks left.") var now = false
    func run() throws { try rpc { try target.client().call(TaskService.shutdown, .with { $0.id = target.id; $0.now = now }) } }
}

struct Connect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the shim and task pids.")
    @OptionGroup var target: Target
    func run() throws { try rpc { try printReply(try target.client().call(TaskService.connect, .with { $0.id = target.id })) } }
}

struct Resize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Resize the process's terminal.")
    @OptionGroup var target: Target
    @Option var width: UInt32
    @Option var height: UInt32
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

struct CloseIO: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "close-io", abstract: "Close the process's stdin.")
    @OptionGroup var target: Target
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
