#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TetherAPI
import TetherFlags
import TetherSystem

struct Ps: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "ps", "List containers.",
        flags: [Flag("-a", "--all", help: "Show all containers (default shows just running)."),
                Flag("-q", "--quiet", help: "Only display ids."),
                Flag("--format", value: "TEMPLATE", help: "A Go template per container, e.g. '{{.ID}}\\t{{.Names}}' ('table ...' adds a header).")])
    let daemon: Tetherd
    let all: Bool
    let quiet: Bool
    let format: String?

    init(_ arguments: ParsedFlags) {
        daemon = Tetherd(arguments)
        all = arguments.isSet("--all")
        quiet = arguments.isSet("--quiet")
        format = arguments.value("--format")
    }

    func run() throws -> Int32 {
        let template = try format.map { try ContainerListing.template($0) }
        let response = try daemon.call(DaemonService.list, .with { $0.all = all })
        if quiet {
            for container in response.containers { print(PrintableText.escaped(String(container.id.prefix(12)))) }
            return 0
        }
        if let template {
            for line in try ContainerListing.render(template, response.containers) { print(line) }
            return 0
        }
        var rows = [["CONTAINER ID", "NAME", "COMMAND", "CREATED", "STATUS"]]
        let now = Clock.realtime().seconds
        for container in response.containers {
            let command = container.args.joined(separator: " ")
            let created = Humanize.ago(now - container.createdAtNs / 1_000_000_000)
            let status = ContainerListing.status(of: container, now: now)
            // Names and commands come from clients: no control character reaches the terminal or forges a row
            // (the command quoted as docker's, Go's %q).
            rows.append([PrintableText.escaped(String(container.id.prefix(12))), PrintableText.escaped(container.name),
                         PrintableText.quoted(command.count > 20 ? String(command.prefix(19)) + "…" : command), created, status])
        }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let line = row.enumerated().map { index, cell in
                index == 4 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 3)
            }.joined()
            print(line)
        }
        return 0
    }
}

enum Humanize {
    static func duration(_ seconds: Int64) -> String {
        switch seconds {
        case ..<1: return "Less than a second"
        case 1: return "1 second"
        case ..<60: return "\(seconds) seconds"
        case ..<120: return "About a minute"
        case ..<3600: return "\(seconds / 60) minutes"
        case ..<7200: return "About an hour"
        default: return "\(seconds / 3600) hours"
        }
    }

    static func ago(_ seconds: Int64) -> String { duration(seconds) + " ago" }

    static func rfc3339(_ nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0001-01-01T00:00:00Z" }
        return RFC3339.format(seconds: Int(nanoseconds / 1_000_000_000), nanoseconds: Int(nanoseconds % 1_000_000_000))
    }
}

struct Inspect: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "inspect", "Print a container's details as JSON.",
        flags: [Flag("-f", "--format", value: "TEMPLATE", help: "A Go template, e.g. '{{.State.Pid}}' or '{{json .State}}'.")],
        required: ["CONTAINER"])
    let daemon: Tetherd
    let format: String?
    let container: String

    init(_ arguments: ParsedFlags) {
        daemon = Tetherd(arguments)
        format = arguments.value("--format")
        container = arguments.positionals[0]
    }

    func run() throws -> Int32 {
        let info = try daemon.call(DaemonService.inspect, .with { $0.id = container })
        let value = Inspect.document(info)
        if let format {
            print(try GoTemplate(format).render(value))
        } else {
            print(TemplateValue.array([value]).json(indent: "    "))
        }
        return 0
    }
}

struct Logs: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "logs", "Print a container's output.",
        flags: [Flag("-f", "--follow", help: "Follow the output until the container exits."),
                Flag("--tail", value: "N", help: "Only the last N lines (read from the end: bounded memory whatever the log's size).")],
        required: ["CONTAINER"])
    let daemon: Tetherd
    let follow: Bool
    let tail: Int?
    let container: String

    init(_ arguments: ParsedFlags) throws(FlagError) {
        daemon = Tetherd(arguments)
        follow = arguments.isSet("--follow")
        tail = try arguments.number("--tail")
        container = arguments.positionals[0]
    }

    func run() throws -> Int32 {
        let info = try daemon.call(DaemonService.inspect, .with { $0.id = container })
        let reader = LogReader(path: info.logPath)
        let following = follow && info.state == .running
        let start = tail.map { reader.tailStart(lines: $0) } ?? reader.start
        let reached = try reader.copy(from: start, to: 1, endingLine: tail != nil && !following)
        guard following else { return 0 }
        let session = AttachSession(daemon: daemon)
        if let live = reader.takeLiveLog() {
            session.follow(log: info.logPath, descriptor: live, from: reached)
        } else {
            session.follow(log: info.logPath)
        }
        _ = try session.run(waitingWith: DaemonService.wait, Tether_Daemon_V1_ContainerRequest.with { $0.id = info.id })
        return 0
    }
}

struct Kill: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "kill", "Send a signal to a container's init.",
        flags: [Flag("-s", "--signal", value: "SIGNAL", help: "Signal name or number (default KILL).")], required: ["CONTAINER"])
    let daemon: Tetherd
    let number: Int32
    let container: String

    init(_ arguments: ParsedFlags) throws(FlagError) {
        daemon = Tetherd(arguments)
        let signal = arguments.value("--signal") ?? "KILL"
        guard let number = ProcessSupport.signalNumber(named: signal) else { throw FlagError("--signal \(signal): unknown signal") }
        self.number = number
        container = arguments.positionals[0]
    }

    func run() throws -> Int32 {
        try daemon.call(DaemonService.kill, .with {
            $0.id = container
            $0.signal = UInt32(number)
        })
        print(container)
        return 0
    }
}

struct Stop: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "stop", "Stop a container: SIGTERM, then SIGKILL after the grace period.",
        flags: [Flag("-t", "--time", value: "SECONDS", help: "Seconds to wait before killing it (default 10).")], required: ["CONTAINER"])
    let daemon: Tetherd
    let time: UInt32
    let container: String

    init(_ arguments: ParsedFlags) throws(FlagError) {
        daemon = Tetherd(arguments)
        time = try arguments.number("--time") ?? 10
        container = arguments.positionals[0]
    }

    func run() throws -> Int32 {
        try daemon.call(DaemonService.stop, .with {
            $0.id = container
            $0.timeoutSeconds = time
        }, timeout: .seconds(Int64(time) + 30))
        print(container)
        return 0
    }
}

struct Rm: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "rm", "Remove a container.", flags: [Flag("-f", "--force", help: "Kill it first if it is running.")],
        required: ["CONTAINER"], variadic: true)
    let daemon: Tetherd
    let force: Bool
    let containers: [String]

    init(_ arguments: ParsedFlags) {
        daemon = Tetherd(arguments)
        force = arguments.isSet("--force")
        containers = arguments.positionals
    }

    func run() throws -> Int32 {
        for container in containers {
            try daemon.call(DaemonService.remove, .with {
                $0.id = container
                $0.force = force
            })
            print(container)
        }
        return 0
    }
}

struct Prune: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl("prune", "Remove every stopped container.")
    let daemon: Tetherd

    init(_ arguments: ParsedFlags) { daemon = Tetherd(arguments) }

    func run() throws -> Int32 {
        let response = try daemon.call(DaemonService.prune, Google_Protobuf_Empty())
        for id in response.removed { print(id) }
        return 0
    }
}
