import TetherAPI
import TetherSystem

extension Inspect {
    /// What `inspect` shows of a container, in docker's names and order: the JSON it prints and what `--format`
    /// templates read.
    static func document(_ info: Tether_Daemon_V1_ContainerInfo) -> TemplateValue {
        .object([
            ("Id", .string(info.id)), ("Created", .string(Humanize.rfc3339(info.createdAtNs))),
            ("Path", .string(info.args.first ?? "")), ("Args", .array(info.args.dropFirst().map { .string($0) })),
            ("State", .object([
                ("Status", .string(info.status)), ("Running", .bool(info.state == .running)), ("Pid", .integer(Int64(info.pid))),
                ("ExitCode", .integer(Int64(info.exitCode))), ("Error", .string(info.error)),
                ("StartedAt", .string(Humanize.rfc3339(info.startedAtNs))), ("FinishedAt", .string(Humanize.rfc3339(info.finishedAtNs))),
            ])),
            ("Name", .string(info.name)), ("Rootfs", .string(info.rootfs)), ("LogPath", .string(info.logPath)),
            ("LogDroppedBytes", .integer(Int64(info.logDroppedBytes))),
            ("RestartCount", .integer(Int64(info.restartCount))), ("RestartPolicy", .string(info.restart)),
            ("Bundle", .string(info.bundle)), ("ShimAddress", .string(info.shimAddress)),
        ])
    }
}

/// `ps --format`: docker's container fields (.ID, .Names, .Image, .Command, .CreatedAt, .RunningFor, .State,
/// .Status); `\t` and `\n` in the format are a tab and a newline, and a leading `table` adds a header row and
/// aligns the columns, as docker's formatter does.
enum ContainerListing {
    struct Template {
        let template: GoTemplate
        let isTable: Bool
    }

    static let headers: [(String, String)] = [
        ("ID", "CONTAINER ID"), ("Names", "NAMES"), ("Image", "IMAGE"), ("Command", "COMMAND"), ("CreatedAt", "CREATED AT"),
        ("RunningFor", "CREATED"), ("State", "STATE"), ("Status", "STATUS"),
    ]

    static func template(_ format: String) throws -> Template {
        var text = format
        let isTable = text.hasPrefix("table")
        if isTable { text = String(text.dropFirst("table".count)) }
        while text.hasPrefix(" ") { text.removeFirst() }
        while text.hasSuffix(" ") { text.removeLast() }
        text = text.replacing("\\t", with: "\t").replacing("\\n", with: "\n")
        let template = try GoTemplate(text)
        // A field name that no container has fails before tetherd is asked, as docker's does.
        _ = try template.render(.object(headers.map { ($0.0, .string($0.1)) }))
        return Template(template: template, isTable: isTable)
    }

    static func render(_ format: Template, _ containers: [Tether_Daemon_V1_ContainerInfo]) throws -> [String] {
        let now = Clock.realtime().seconds
        var lines = try containers.map { try format.template.render(fields(of: $0, now: now)) }
        guard format.isTable else { return lines }
        lines.insert(try format.template.render(.object(headers.map { ($0.0, .string($0.1)) })), at: 0)
        let rows = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 3)
            }.joined()
        }
    }

    /// One container as docker's ps fields, with client-given text escaped (no control character reaches the
    /// terminal); the command is quoted and cut to 20 characters, as docker's.
    static func fields(of container: Tether_Daemon_V1_ContainerInfo, now: Int64) -> TemplateValue {
        let command = container.args.joined(separator: " ")
        let createdAt = Humanize.rfc3339(container.createdAtNs)
        return .object([
            ("ID", .string(PrintableText.escaped(String(container.id.prefix(12))))),
            ("Names", .string(PrintableText.escaped(container.name))),
            ("Image", .string(PrintableText.escaped(container.rootfs))),
            ("Command", .string(PrintableText.quoted(command.count > 20 ? String(command.prefix(19)) + "…" : command))),
            ("CreatedAt", .string(createdAt)),
            ("RunningFor", .string(Humanize.ago(now - container.createdAtNs / 1_000_000_000))),
            ("State", .string(container.status)),
            ("Status", .string(status(of: container, now: now))),
        ])
    }

    /// docker's STATUS column: `Up 5 minutes`, `Exited (3) 2 seconds ago`, `Created`.
    static func status(of container: Tether_Daemon_V1_ContainerInfo, now: Int64) -> String {
        switch container.state {
        case .running?: return "Up \(Humanize.duration(now - container.startedAtNs / 1_000_000_000))"
        case .exited?: return "Exited (\(container.exitCode)) \(Humanize.ago(now - container.finishedAtNs / 1_000_000_000))"
        default: return "Created"
        }
    }
}
