import TTRPC
import TetherAPI
import TetherFlags
import TetherSystem

struct Events: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "events", "Print tetherd's events as they happen, one a line: time, type, container id and attributes.",
        flags: [Flag("--until", value: "SECONDS", help: "Stop after this many seconds (default: run until interrupted).")])
    let daemon: Tetherd
    let until: UInt32?

    init(_ arguments: ParsedFlags) throws(FlagError) {
        daemon = Tetherd(arguments)
        until = try arguments.number("--until")
    }

    func run() throws -> Int32 {
        let client = try daemon.client()
        defer { client.close() }
        let deadline = until.map { ContinuousClock.now + .seconds(Int64($0)) }
        let start = try client.call(DaemonService.events, .with { $0.fromNow = true }, timeout: .seconds(30))
        var cursor = start.cursor
        while true {
            var wait: UInt32 = 0
            if let deadline {
                let left = deadline - ContinuousClock.now
                if left <= .zero { return 0 }
                wait = UInt32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            }
            let request = Tether_Daemon_V1_EventsRequest.with {
                $0.after = cursor
                $0.timeoutMs = wait
            }
            let response = try client.call(DaemonService.events, request, timeout: nil)
            for event in response.events { print(Events.line(event)) }
            cursor = response.cursor
        }
    }

    /// `2026-11-29T20:00:00.123456789Z container die 3f2a… (exitCode=3, name=web)`.
    static func line(_ event: Tether_Daemon_V1_Event) -> String {
        var attributes: [String] = []
        // Names and exec ids come from clients: escaped, so that one event is always one line.
        if !event.execID.isEmpty { attributes.append("execID=\(PrintableText.escaped(event.execID))") }
        if event.type == "die" || event.type == "exec_die" { attributes.append("exitCode=\(event.exitCode)") }
        if event.type == "log-dropped" { attributes.append("droppedBytes=\(event.logDroppedBytes)") }
        attributes.append("name=\(PrintableText.escaped(event.name))")
        return "\(Humanize.rfc3339(event.timeNs)) container \(PrintableText.escaped(event.type)) \(PrintableText.escaped(event.id)) (\(attributes.joined(separator: ", ")))"
    }
}
