#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FoundationEssentials
import OCISpec
import TetherRuntime
import TetherSystem

/// Exits the CLI with `status` without printing anything (run's container status).
struct CommandExit: Error {
    let status: Int32
}

struct TetherRuntimeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tether-runtime",
        abstract: "A runc-compatible OCI runtime.",
        discussion: """
            Global flags come before the command: --root DIR (default /run/tether-runtime), --log FILE, \
            --log-format text|json, --debug; --systemd-cgroup, --criu and --rootless are accepted and ignored.
            """,
        version: "0.1.0 (runtime-spec \(OCIVersion.current))",
        subcommands: [
            CreateCommand.self, StartCommand.self, RunCommand.self, StateCommand.self, ListCommand.self,
            KillCommand.self, DeleteCommand.self, ExecCommand.self, SpecCommand.self, FeaturesCommand.self,
            PauseCommand.self, ResumeCommand.self, UpdateCommand.self, PsCommand.self, EventsCommand.self,
        ]
    )
}

var runtime: Runtime {
    let runtime = Runtime(root: globalOptions.root)
    runtime.warn = Log.warning
    return runtime
}

/// Flags shared by create and run.
struct CreateFlags: ParsableArguments {
    @Option(name: [.short, .customLong("bundle")], help: "Path to the bundle directory.")
    var bundle: String = "."

    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master (process.terminal).")
    var consoleSocket: String?

    @Option(name: .customLong("pid-file"), help: "File to write the init's pid to.")
    var pidFile: String?

    @Flag(name: .customLong("no-pivot"), help: "Use MS_MOVE and chroot instead of pivot_root.")
    var noPivot = false

    @Flag(name: .customLong("no-new-keyring"), help: "Accepted for runc compatibility.")
    var noNewKeyring = false

    @Option(name: .customLong("preserve-fds"), help: "Pass N extra fds (3 ... 3+N-1) to the container.")
    var preserveFDs: Int = 0

    func validate() throws {
        if preserveFDs < 0 { throw ValidationError("--preserve-fds: must not be negative") }
    }

    /// Connects the console socket (if any) and builds the options.
    func options(io: ProcessIO = .inherited) throws -> CreateOptions {
        var io = io
        if let consoleSocket {
            do {
                io.consoleSocket = try UnixSocket.connect(path: consoleSocket)
            } catch {
                throw RuntimeError(.invalidArgument, "--console-socket \(consoleSocket): \(error)")
            }
        }
        return CreateOptions(bundle: bundle, io: io, pidFile: pidFile, noPivot: noPivot, preserveFDs: preserveFDs)
    }
}

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a container; it waits for start.")

    @OptionGroup var flags: CreateFlags
    @Argument(help: "The container id.") var id: String

    func run() throws {
        let options = try flags.options()
        defer { if let fd = options.io.consoleSocket { FileIO.close(fd) } }
        let state = try runtime.create(id: id, options: options)
        Log.debug("created \(id) with init pid \(state.pid)")
    }
}

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a created container.")
    @Argument(help: "The container id.") var id: String

    func run() throws {
        try runtime.start(id: id)
    }
}

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "Print a container's state as JSON.")
    @Argument(help: "The container id.") var id: String

    func run() throws {
        let state = try runtime.state(id: id)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileIO.writeAll(1, String(decoding: try encoder.encode(state), as: UTF8.self) + "\n")
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List containers.")

    @Option(name: [.short, .customLong("format")], help: "table or json.") var format: String = "table"
    @Flag(name: [.short, .customLong("quiet")], help: "Print only the ids.") var quiet = false

    func validate() throws {
        if format != "table" && format != "json" { throw ValidationError("--format: unknown format \"\(format)\" (table or json)") }
    }

    func run() throws {
        let states = try runtime.list()
        if quiet {
            try FileIO.writeAll(1, states.map { $0.id + "\n" }.joined())
            return
        }
        if format == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            try FileIO.writeAll(1, String(decoding: try encoder.encode(states), as: UTF8.self) + "\n")
            return
        }
        let rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
            + states.map { [$0.id, "\($0.pid)", $0.status.rawValue, $0.bundle, $0.created, $0.owner] }
        var widths = [Int](repeating: 0, count: 6)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        var text = ""
        for row in rows {
            for (index, cell) in row.enumerated() {
                text += index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 3)
            }
            text += "\n"
        }
        try FileIO.writeAll(1, text)
    }
}

struct KillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal to a container's init.")

    @Flag(name: [.short, .customLong("all")], help: "Signal every process of the container.") var all = false
    @Argument(help: "The container id.") var id: String
    @Argument(help: "Signal name or number (default SIGTERM).") var signal: String = "SIGTERM"

    func run() throws {
        guard let number = ProcessSupport.signalNumber(named: signal) else {
            throw RuntimeError(.invalidArgument, "unknown signal \"\(signal)\"")
        }
        try runtime.kill(id: id, signal: number, all: all)
    }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a container.")

    @Flag(name: [.short, .customLong("force")], help: "Kill a running container first.") var force = false
    @Argument(help: "The container id.") var id: String

    func run() throws {
        do {
            try runtime.delete(id: id, force: force)
        } catch let error as RuntimeError where error.code == .notFound && force {
            return  // runc: delete -f of a missing container succeeds
        }
    }
}
