#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TetherFlags
import TetherRuntime
import TetherSystem

/// `events ID [--stats] [--interval 5s]`, runc's JSON lines: `{"type":"stats","id":ID,"data":{...}}` every
/// interval and `{"type":"oom","id":ID}` on each OOM event, until the container stops. `--stats` prints the
/// stats once and exits. Single-threaded: poll(2) on the OOM eventfd (cgroup v1) with a short timeout that also
/// drives the stats timer, the cgroup v2 OOM counter and the stop check.
struct EventsCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(
        name: "events", abstract: "Stream a container's stats and OOM events as JSON lines.",
        flags: [.init("--stats", help: "Print the stats once and exit."),
                .init("--interval", value: "DURATION", help: "Stats interval (Go duration, e.g. 5s, 500ms; default 5s).")],
        required: ["ID"])

    let stats: Bool
    let interval: String
    let id: String

    init(_ arguments: ParsedFlags) {
        stats = arguments.isSet("--stats")
        interval = arguments.value("--interval") ?? "5s"
        id = arguments.positionals[0]
    }

    func run() throws {
        guard let intervalNanos = GoDuration.parse(interval), intervalNanos > 0 else {
            throw RuntimeError(.invalidArgument, "--interval: invalid duration \"\(interval)\" (e.g. 5s, 500ms, 1m)")
        }
        let runtime = runtime
        if stats {
            try emit("stats", data: try runtime.stats(id: id))
            return
        }
        guard try runtime.state(id: id).status != .stopped else {
            throw RuntimeError(.invalidState, "container \(id) is stopped")
        }
        let notifier = try? runtime.oomNotifier(id: id)
        var nextStats = Self.now() + intervalNanos
        while true {
            let stopped = (try? runtime.state(id: id).status == .stopped) ?? true
            if let notifier, notifier.collect() > 0 {
                try emit("oom")
            }
            if stopped || notifier?.isGone == true { return }
            if Self.now() >= nextStats {
                if let data = try? runtime.stats(id: id) { try emit("stats", data: data) }
                nextStats += intervalNanos
            }
            let untilStats = max(0, (nextStats - Self.now()) / 1_000_000)
            let timeout = Int32(min(untilStats, 200))
            if let fd = notifier?.pollDescriptor {
                var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&entry, 1, timeout)
            } else {
                usleep(UInt32(timeout) * 1000)
            }
        }
    }

    /// One line, keys in runc's order: type, id, data.
    private func emit(_ type: String, data: ContainerStats? = nil) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func json<Value: Encodable>(_ value: Value) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        var line = "{\"type\":\(try json(type)),\"id\":\(try json(id))"
        if let data { line += ",\"data\":" + (try json(data)) }
        try FileIO.writeAll(1, line + "}\n")
    }

    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

/// Go's time.ParseDuration for the units runc users write: "5s", "1m30s", "500ms", "1.5h".
enum GoDuration {
    static func parse(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var rest = Substring(text)
        var total: Double = 0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            // Longest unit first so "ms" is not read as "m".
            guard let (unit, scale) = units.sorted(by: { $0.0.count > $1.0.count }).first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * scale
        }
        return Int64(total)
    }
}
