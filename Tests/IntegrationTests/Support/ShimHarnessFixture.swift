import Foundation
import Testing
import TetherTestSupport

/// One tether-shim driven through tether-harness, as a person would: a bundle named after a unique id, an
/// events server (`tether-harness events`) on $TTRPC_ADDRESS writing JSON lines to a file, `spawn` (the shim's
/// start contract) and every RPC as a `tether-harness <command> --socket ADDR --id ID` child process.
/// The test process never forks a container itself. Cleanup kills what is left (by pid) and removes files.
final class ShimHarnessFixture {
    let id = uniqueID("shim")
    let namespace = "tethertest"
    let directory: TemporaryDirectory
    let bundle: String
    let eventsSocket: String
    let eventsLog: String
    private var eventsServer: Process?
    private(set) var address = ""

    static var harness: String { TestEnvironment.binary("tether-harness") }

    init(args: [String], terminal: Bool = false, pidNamespace: Bool = true, eventsServer startEvents: Bool = true,
         configure: (inout [String: Any]) -> Void = { _ in }) throws {
        directory = try TemporaryDirectory("tether-shim")
        bundle = directory.path + "/" + id
        eventsSocket = directory.path + "/events.sock"
        eventsLog = directory.path + "/events.jsonl"
        try BundleFixture.write(to: bundle, args: args, terminal: terminal) { config in
            if !pidNamespace, var linux = config["linux"] as? [String: Any] {
                linux["namespaces"] = [["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "mount"]]
                config["linux"] = linux
            }
            configure(&config)
        }
        if startEvents { try startEventsServer() }
    }

    deinit { cleanup() }

    /// Starts `tether-harness events` on `eventsSocket` (late, for a test of the shim's retries).
    func startEventsServer() throws {
        _ = FileManager.default.createFile(atPath: eventsLog, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.harness)
        process.arguments = ["events", "--listen", eventsSocket]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: eventsLog))
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        eventsServer = process
        _ = waitUntil(timeout: 10) { FileManager.default.fileExists(atPath: self.eventsSocket) }
    }

    /// `tether-harness spawn`: the shim's start contract in the bundle; returns the address.
    @discardableResult
    func spawn() throws -> String {
        let result = try runCommand(Self.harness, ["spawn", "--bundle", bundle, "--id", id, "--namespace", namespace,
                                                   "--events", eventsSocket, "--address", directory.path + "/manager.sock"])
        #expect(result.status == 0, "\(result)")
        address = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return address
    }

    /// `tether-harness COMMAND --socket ADDR --id ID EXTRA...`.
    @discardableResult
    func rpc(_ command: String, _ extra: [String] = [], id: String? = nil, timeout: TimeInterval = 60) throws -> CommandResult {
        try runCommand(Self.harness, [command, "--socket", address, "--id", id ?? self.id] + extra, timeout: timeout)
    }

    /// An RPC that must succeed; returns its JSON reply (empty for replies without a body).
    @discardableResult
    func call(_ command: String, _ extra: [String] = [], timeout: TimeInterval = 60,
              sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let result = try rpc(command, extra, timeout: timeout)
        #expect(result.status == 0, "\(command): \(result)", sourceLocation: sourceLocation)
        return Self.json(result.stdout)
    }

    /// Create with the given stdio, then Start; returns the init's host pid.
    @discardableResult
    func createAndStart(_ extra: [String] = []) throws -> Int32 {
        try spawn()
        let created = try call("create", ["--bundle", bundle] + extra)
        try call("start")
        return Int32(truncatingIfNeeded: (created["pid"] as? Int) ?? 0)
    }

    var shimPid: Int32 {
        let reply = ((try? rpc("connect", timeout: 10)).map { Self.json($0.stdout) }) ?? [:]
        return Int32(truncatingIfNeeded: (reply["shim_pid"] as? Int) ?? 0)
    }

    static func json(_ text: String) -> [String: Any] {
        guard let line = text.split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return [:] }
        return object
    }

    /// Every event received so far, in order.
    var events: [[String: Any]] {
        let text = (try? String(contentsOfFile: eventsLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Waits (bounded) for an event on `topic` matching `match`.
    func event(_ topic: String, timeout: TimeInterval = 15, where match: ([String: Any]) -> Bool = { _ in true }) -> [String: Any]? {
        var found: [String: Any]?
        _ = waitUntil(timeout: timeout) {
            found = self.events.first { ($0["topic"] as? String) == topic && match(($0["event"] as? [String: Any]) ?? [:]) }
            return found != nil
        }
        return found.flatMap { $0["event"] as? [String: Any] }
    }

    func cleanup() {
        if !address.isEmpty {
            let pid = shimPid
            _ = try? rpc("kill", ["--signal", "SIGKILL", "--all"], timeout: 10)
            _ = try? rpc("wait", ["--timeout", "10"], timeout: 15)
            _ = try? rpc("delete", timeout: 10)
            _ = try? rpc("shutdown", ["--now"], timeout: 10)
            if pid > 0 && !waitUntil(timeout: 5, { !ProcStat.isAlive(pid) }) { kill(pid, SIGKILL) }
            address = ""
        }
        if let eventsServer, eventsServer.isRunning {
            kill(eventsServer.processIdentifier, SIGKILL)
            eventsServer.waitUntilExit()
        }
        eventsServer = nil
    }
}

/// /proc/PID/stat: state and parent (PID 1 here does not reap, so a zombie counts as gone).
enum ProcStat {
    static func read(_ pid: Int32) -> (state: Character, ppid: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let state = fields[0].first, let ppid = Int32(fields[1]) else { return nil }
        return (state, ppid)
    }

    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = read(pid) else { return false }
        return stat.state != "Z" && stat.state != "X"
    }

    /// Every process whose parent is `parent`, with its state.
    static func children(of parent: Int32) -> [(pid: Int32, state: Character)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { Int32($0) }.compactMap { pid in
            guard let stat = read(pid), stat.ppid == parent else { return nil }
            return (pid, stat.state)
        }
    }
}
