// ttrpc-bench: round-trip latency and throughput of small ttrpc calls over a unix socket.
//
//   ttrpc-bench [--iterations N] [--clients C] [--seconds S] [--connect PATH]
//
// Without --connect it serves containerd.task.v2.Task/Connect itself, the way the shim does: one
// TTRPCServer on one single-threaded EventLoop (on its own thread here). With --connect PATH it calls
// Connect on an existing shim socket instead (ours or containerd-shim-runc-v2, for comparison).
// Prints one JSON line:
//   {"bench":"ttrpc","target":"tether","iterations":..,"p50_us":..,"p90_us":..,"p99_us":..,"max_us":..,
//    "mean_us":..,"clients":8,"seconds":..,"calls":..,"calls_per_sec":..,"errors":0,"rss_kb":..}
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TetherAPI
import TetherFlags
import TetherSystem
import TTRPC

struct Options {
    var iterations = 20_000
    var clients = 8
    var seconds = 2.0
    var connect: String?

    static let syntax = CommandSyntax(
        program: "ttrpc-bench", abstract: "Round-trip latency and throughput of small ttrpc calls over a unix socket.", style: .posix,
        flags: [
            Flag("--iterations", value: "N", help: "Sequential calls for the latency percentiles (default 20000)."),
            Flag("--clients", value: "C", help: "Concurrent clients for the throughput run (default 8)."),
            Flag("--seconds", value: "S", help: "Length of the throughput run (default 2)."),
            Flag("--connect", value: "PATH", help: "Call Connect on this shim socket instead of serving it here."),
        ])

    /// nil: the help was asked for.
    init?(_ arguments: [String]) throws(FlagError) {
        let parsed = try Self.syntax.parse(arguments)
        if parsed.helpRequested { return nil }
        iterations = try Self.positive(parsed, "--iterations") ?? iterations
        clients = try Self.positive(parsed, "--clients") ?? clients
        if let value = parsed.value("--seconds") {
            guard let seconds = Double(value), seconds > 0 else { throw FlagError("--seconds: \"\(value)\" is not a positive number") }
            self.seconds = seconds
        }
        connect = parsed.value("--connect").map { $0.hasPrefix("unix://") ? String($0.dropFirst(7)) : $0 }
    }

    static func positive(_ parsed: ParsedFlags, _ key: String) throws(FlagError) -> Int? {
        guard let value: Int = try parsed.number(key) else { return nil }
        guard value > 0 else { throw FlagError("\(key): \"\(value)\" is not a positive integer") }
        return value
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The server side: one loop thread, as in the shim.
final class BenchServer: @unchecked Sendable {
    let path: String
    let directory: String

    init() throws {
        var template = Array("/tmp/ttrpc-bench-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SyscallError.current("mkdtemp") }
        directory = String(cString: made)
        path = directory + "/bench.sock"
        let listener = try UnixSocket.listen(path: path)
        let ready = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Thread.detachNewThread {
            do {
                let loop = try EventLoop()
                let server = TTRPCServer(loop: loop, listener: listener)
                let shimPID = UInt32(getpid())
                server.register(TaskService.connect, sync: { _ in
                    var response = Containerd_Task_V2_ConnectResponse()
                    response.shimPid = shimPID
                    response.taskPid = 1
                    return response
                })
                ready.signal()
                try loop.run()
            } catch {
                failure.set("\(error)")
                ready.signal()
            }
        }
        ready.wait()
        if let message = failure.value { throw BenchError("server: \(message)") }
    }

    deinit {
        unlink(path)
        rmdir(directory)
    }
}

final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    var value: String? { lock.withLock { stored } }
    func set(_ value: String) { lock.withLock { stored = value } }
}

func now() -> UInt64 { Clock.monotonicNanoseconds() }

/// VmRSS of this process (server and clients together), to spot growth across long runs.
func residentKilobytes() -> Int {
    guard let status = try? FileIO.readText("/proc/self/status") else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    return 0
}

func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
    return Double(sorted[max(index, 0)]) / 1000
}

func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }

func run() throws {
    guard let options = try Options(Array(CommandLine.arguments.dropFirst())) else {
        print(Options.syntax.help, terminator: "")
        return
    }
    var server: BenchServer?
    let path: String
    if let connect = options.connect {
        path = connect
    } else {
        server = try BenchServer()
        path = server?.path ?? ""
    }
    let request = { () -> Containerd_Task_V2_ConnectRequest in
        var request = Containerd_Task_V2_ConnectRequest()
        request.id = "bench"
        return request
    }()

    // Latency: one client, one call at a time.
    let client = try TTRPCClient(path: path)
    for _ in 0..<min(2000, options.iterations) {
        try client.call(TaskService.connect, request)
    }
    var samples = [UInt64](repeating: 0, count: options.iterations)
    for index in 0..<options.iterations {
        let start = now()
        try client.call(TaskService.connect, request)
        samples[index] = now() - start
    }
    client.close()
    samples.sort()
    let mean = Double(samples.reduce(0, +)) / Double(samples.count) / 1000

    // Throughput: C clients on C threads, each one call at a time, for S seconds.
    let counts = CountBox(options.clients)
    let startGate = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    let deadline = Atomic64()
    for index in 0..<options.clients {
        done.enter()
        let connection = try TTRPCClient(path: path)
        Thread.detachNewThread {
            startGate.wait()
            var calls = 0
            var errors = 0
            let end = deadline.load()
            while now() < end {
                do {
                    try connection.call(TaskService.connect, request)
                    calls += 1
                } catch {
                    errors += 1
                    if errors > 1000 { break }
                }
            }
            connection.close()
            counts.set(index, calls: calls, errors: errors)
            done.leave()
        }
    }
    let started = now()
    deadline.store(started + UInt64(options.seconds * 1e9))
    for _ in 0..<options.clients { startGate.signal() }
    done.wait()
    let elapsed = Double(now() - started) / 1e9
    let (calls, errors) = counts.total

    let line = "{\"bench\":\"ttrpc\",\"target\":\"\(options.connect == nil ? "tether" : "external")\","
        + "\"iterations\":\(options.iterations),\"p50_us\":\(rounded(percentile(samples, 0.50))),"
        + "\"p90_us\":\(rounded(percentile(samples, 0.90))),\"p99_us\":\(rounded(percentile(samples, 0.99))),"
        + "\"max_us\":\(rounded(percentile(samples, 1.0))),\"mean_us\":\(rounded(mean)),"
        + "\"clients\":\(options.clients),\"seconds\":\(rounded(elapsed)),\"calls\":\(calls),"
        + "\"calls_per_sec\":\(Int((Double(calls) / elapsed).rounded())),\"errors\":\(errors),"
        + "\"rss_kb\":\(residentKilobytes())}"
    print(line)
    withExtendedLifetime(server) {}
}

final class CountBox: @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [Int]
    private var errors: [Int]
    init(_ count: Int) {
        calls = Array(repeating: 0, count: count)
        errors = Array(repeating: 0, count: count)
    }
    func set(_ index: Int, calls: Int, errors: Int) {
        lock.withLock {
            self.calls[index] = calls
            self.errors[index] = errors
        }
    }
    var total: (Int, Int) { lock.withLock { (calls.reduce(0, +), errors.reduce(0, +)) } }
}

final class Atomic64: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = UInt64.max
    func load() -> UInt64 { lock.withLock { value } }
    func store(_ newValue: UInt64) { lock.withLock { value = newValue } }
}

do {
    try run()
} catch let error as FlagError {
    FileHandle.standardError.write(Data("ttrpc-bench: \(error)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("ttrpc-bench: \(error)\n".utf8))
    exit(1)
}
