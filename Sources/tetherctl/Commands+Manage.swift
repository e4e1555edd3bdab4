#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FoundationEssentials
import TetherAPI
import TetherSystem

struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List containers.")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Show all containers (default shows just running).") var all = false
    @Flag(name: .shortAndLong, help: "Only display ids.") var quiet = false
    @Option(help: "A Go template per container, e.g. '{{.ID}}\\t{{.Names}}' ('table ...' adds a header).") var format: String?

    func run() throws {
        let template = try format.map { try ContainerListing.template($0) }
        let response = try daemon.call(DaemonService.list, .with { $0.all = all })
        if quiet {
            for container in response.containers { print(PrintableText.escaped(String(container.id.prefix(12)))) }
            return
        }
        if let template {
            for line in try ContainerListing.render(template, response.containers) { print(line) }
            return
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

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a container's details as JSON.")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "A Go template, e.g. '{{.State.Pid}}' or '{{json .State}}'.") var format: String?
    @Argument var container: String

    func run() throws {
        let info = try daemon.call(DaemonService.inspect, .with { $0.id = container })
        let value = Inspect.document(info)
        if let format {
            print(try GoTemplate(format).render(value))
        } else {
            print(TemplateValue.array([value]).json(indent: "    "))
        }
    }
}

struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a container's output.")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Follow the output until the container exits.") var follow = false
    @Option(help: "Only the last N lines (read from the end: bounded memory whatever the log's size).") var tail: Int?
    @Argument var container: String

    func run() throws {
        let info = try daemon.call(DaemonService.inspect, .with { $0.id = container })
        let reader = LogReader(path: info.logPath)
        let following = follow && info.state == .running
        let start = tail.map { reader.tailStart(lines: $0) } ?? reader.start
        let reached = try reader.copy(from: start, to: 1, endingLine: tail != nil && !following)
        guard following else { return }
        let session = AttachSession(daemon: daemon.tetherd)
        if let live = reader.takeLiveLog() {
            session.follow(log: info.logPath, descriptor: live, from: reached)
        } else {
            session.follow(log: info.logPath)
        }
        _ = try session.run(waitingWith: DaemonService.wait, Tether_Daemon_V1_ContainerRequest.with { $0.id = info.id })
    }
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send a signal to a container's init.")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Signal name or number.") var signal = "KILL"
    @Argument var container: String
    func run() throws {
        guard let number = ProcessSupport.signalNumber(named: signal) else { throw ValidationError("--signal \(signal): unknown signal") }
        try daemon.call(DaemonService.kill, .with {
            $0.id = container
            $0.signal = UInt32(number)
        })
        print(container)
    }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop a container: SIGTERM, then SIGKILL after the grace period.")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Seconds to wait before killing it.") var time: UInt32 = 10
    @Argument var container: String
    func run() throws {
        try daemon.call(DaemonService.stop, .with {
            $0.id = container
            $0.timeoutSeconds = time
        }, timeout: .seconds(Int64(time) + 30))
        print(container)
    }
}

struct Rm: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a container.")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Kill it first if it is running.") var force = false
    @Argument var containers: [String]
    func run() throws {
        for container in containers {
            try daemon.call(DaemonService.remove, .with {
                $0.id = container
                $0.force = force
            })
            print(container)
        }
    }
}

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove every stopped container.")
    @OptionGroup var daemon: DaemonOptions
    func run() throws {
        let response = try daemon.call(DaemonService.prune, Google_Protobuf_Empty())
        for id in response.removed { print(id) }
    }
}
