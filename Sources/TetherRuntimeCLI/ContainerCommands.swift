#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCISpec
import TetherFlags
import TetherRuntime
import TetherSystem

/// Flags shared by create and run.
struct CreateFlags {
    static let syntax: [Flag] = [
        .init("-b", "--bundle", value: "DIR", help: "Path to the bundle directory (default: the current directory)."),
        .init("--console-socket", value: "PATH", help: "Unix socket that receives the pty master (process.terminal)."),
        .init("--pid-file", value: "FILE", help: "File to write the init's pid to."),
        .init("--no-pivot", help: "Use MS_MOVE and chroot instead of pivot_root."),
        .init("--no-new-keyring", help: "Accepted for runc compatibility."),
        .init("--preserve-fds", value: "N", help: "Pass N extra fds (3 ... 3+N-1) to the container."),
    ]

    var bundle: String
    var consoleSocket: String?
    var pidFile: String?
    var noPivot: Bool
    var preserveFDs: Int

    init(_ arguments: ParsedFlags) throws {
        bundle = arguments.value("--bundle") ?? "."
        consoleSocket = arguments.value("--console-socket")
        pidFile = arguments.value("--pid-file")
        noPivot = arguments.isSet("--no-pivot")
        preserveFDs = try arguments.number("--preserve-fds") ?? 0
        if preserveFDs < 0 { throw FlagError("--preserve-fds: must not be negative") }
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

struct CreateCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(
        name: "create", abstract: "Create a container; it waits for start.", flags: CreateFlags.syntax, required: ["ID"])

    let flags: CreateFlags
    let id: String

    init(_ arguments: ParsedFlags) throws {
        flags = try CreateFlags(arguments)
        id = arguments.positionals[0]
    }

    func run() throws {
        let options = try flags.options()
        defer { if let fd = options.io.consoleSocket { FileIO.close(fd) } }
        let state = try runtime.create(id: id, options: options)
        Log.debug("created \(id) with init pid \(state.pid)")
    }
}

struct StartCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(name: "start", abstract: "Start a created container.", required: ["ID"])
    let id: String

    init(_ arguments: ParsedFlags) { id = arguments.positionals[0] }

    func run() throws {
        try runtime.start(id: id)
    }
}

struct StateCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(name: "state", abstract: "Print a container's state as JSON.", required: ["ID"])
    let id: String

    init(_ arguments: ParsedFlags) { id = arguments.positionals[0] }

    func run() throws {
        let state = try runtime.state(id: id)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileIO.writeAll(1, String(decoding: try encoder.encode(state), as: UTF8.self) + "\n")
    }
}

struct ListCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(
        name: "list", abstract: "List containers.",
        flags: [.init("-f", "--format", value: "FORMAT", help: "table (default) or json."),
                .init("-q", "--quiet", help: "Print only the ids.")])

    let format: String
    let quiet: Bool

    init(_ arguments: ParsedFlags) throws {
        format = arguments.value("--format") ?? "table"
        quiet = arguments.isSet("--quiet")
        if format != "table" && format != "json" { throw FlagError("--format: unknown format \"\(format)\" (table or json)") }
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

struct KillCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(
        name: "kill", abstract: "Send a signal (name or number, default SIGTERM) to a container's init.",
        flags: [.init("-a", "--all", help: "Signal every process of the container.")],
        required: ["ID"], optional: ["SIGNAL"])

    let all: Bool
    let id: String
    let signal: String

    init(_ arguments: ParsedFlags) {
        all = arguments.isSet("--all")
        id = arguments.positionals[0]
        signal = arguments.positional(1) ?? "SIGTERM"
    }

    func run() throws {
        guard let number = ProcessSupport.signalNumber(named: signal) else {
            throw RuntimeError(.invalidArgument, "unknown signal \"\(signal)\"")
        }
        try runtime.kill(id: id, signal: number, all: all)
    }
}

struct DeleteCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(
        name: "delete", abstract: "Delete a container.",
        flags: [.init("-f", "--force", help: "Kill a running container first.")], required: ["ID"])

    let force: Bool
    let id: String

    init(_ arguments: ParsedFlags) {
        force = arguments.isSet("--force")
        id = arguments.positionals[0]
    }

    func run() throws {
        do {
            try runtime.delete(id: id, force: force)
        } catch let error as RuntimeError where error.code == .notFound && force {
            return  // runc: delete -f of a missing container succeeds
        }
    }
}
