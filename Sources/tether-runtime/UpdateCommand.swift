#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import FoundationEssentials
import OCISpec
import TetherRuntime
import TetherSystem

/// `update ID`: new cgroup limits for a running container, from flags or (`-r FILE`, `-r -` for stdin) a
/// `linux.resources` JSON document; as runc, the flags are ignored when -r is given.
struct UpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Update a container's resource limits.",
        discussion: "Byte values take a k, m, g, t or p suffix (binary units, as runc); -1 means unlimited.")

    @Option(name: [.short, .customLong("resources")], help: "JSON linux.resources file, or - for stdin.") var resources: String?
    @Option(name: .customLong("memory"), help: "Memory limit (bytes).") var memory: String?
    @Option(name: .customLong("memory-reservation"), help: "Memory soft limit (bytes).") var memoryReservation: String?
    @Option(name: .customLong("memory-swap"), help: "Memory plus swap limit (bytes), -1 for unlimited.") var memorySwap: String?
    @Option(name: .customLong("kernel-memory"), help: "Accepted and ignored (kernel memory limits are gone).") var kernelMemory: String?
    @Option(name: .customLong("kernel-memory-tcp"), help: "Accepted and ignored.") var kernelMemoryTCP: String?
    @Option(name: [.customLong("cpu-share"), .customLong("cpu-shares")], help: "CPU shares (relative weight).") var cpuShares: UInt64?
    @Option(name: .customLong("cpu-quota"), help: "CFS quota in microseconds per period, -1 for none.") var cpuQuota: Int64?
    @Option(name: .customLong("cpu-period"), help: "CFS period in microseconds.") var cpuPeriod: UInt64?
    @Option(name: .customLong("cpu-burst"), help: "CFS burst in microseconds.") var cpuBurst: UInt64?
    @Option(name: .customLong("cpu-rt-period"), help: "Real-time period in microseconds.") var cpuRealtimePeriod: UInt64?
    @Option(name: .customLong("cpu-rt-runtime"), help: "Real-time runtime in microseconds.") var cpuRealtimeRuntime: Int64?
    @Option(name: .customLong("cpu-idle"), help: "1 to make the cgroup SCHED_IDLE.") var cpuIdle: Int64?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs to run on (e.g. 0-1).") var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems"), help: "Memory nodes to allocate from.") var cpusetMems: String?
    @Option(name: .customLong("pids-limit"), help: "Maximum number of tasks, -1 for unlimited.") var pidsLimit: Int64?
    @Option(name: .customLong("blkio-weight"), help: "Block I/O weight (10-1000).") var blkioWeight: UInt16?
    @Argument(help: "The container id.") var id: String

    func run() throws {
        try runtime.update(id: id, resources: try requested())
    }

    func requested() throws -> Resources {
        if let resources {
            let bytes: [UInt8]
            do {
                bytes = resources == "-" ? try FileIO.readAll(0) : try FileIO.readFile(resources)
            } catch let error as SyscallError {
                throw RuntimeError(.invalidArgument, "-r \(resources): \(SyscallError.describe(error.errno))")
            }
            do {
                return try JSONDecoder().decode(Resources.self, from: Data(bytes))
            } catch {
                throw RuntimeError(.invalidArgument, "-r \(resources): not a linux.resources JSON document: \(error)")
            }
        }
        var result = Resources()
        var memorySettings = Resources.Memory()
        var hasMemory = false
        for (flag, text, keyPath) in [("--memory", memory, \Resources.Memory.limit),
                                      ("--memory-reservation", memoryReservation, \Resources.Memory.reservation),
                                      ("--memory-swap", memorySwap, \Resources.Memory.swap)] {
            guard let text else { continue }
            memorySettings[keyPath: keyPath] = try ByteSize.parse(text, flag: flag)
            hasMemory = true
        }
        if hasMemory { result.memory = memorySettings }
        var cpu = Resources.CPU()
        cpu.shares = cpuShares
        cpu.quota = cpuQuota
        cpu.period = cpuPeriod
        cpu.burst = cpuBurst
        cpu.realtimePeriod = cpuRealtimePeriod
        cpu.realtimeRuntime = cpuRealtimeRuntime
        cpu.idle = cpuIdle
        cpu.cpus = cpusetCpus
        cpu.mems = cpusetMems
        if cpu != Resources.CPU() { result.cpu = cpu }
        if let pidsLimit { result.pids = Resources.Pids(limit: pidsLimit) }
        if let blkioWeight {
            var blockIO = Resources.BlockIO()
            blockIO.weight = blkioWeight
            result.blockIO = blockIO
        }
        return result
    }
}

/// runc's (go-units RAMInBytes) sizes: a number with an optional k/m/g/t/p suffix, optionally followed by
/// "b" or "ib", any case, binary multiples; "-1" is unlimited.
enum ByteSize {
    static func parse(_ text: String, flag: String) throws -> Int64 {
        if text == "-1" { return -1 }
        var body = Substring(text.lowercased().filter { !$0.isWhitespace })
        if body.hasSuffix("ib") { body = body.dropLast(2) } else if body.hasSuffix("b") { body = body.dropLast() }
        let units: [Character: Double] = ["k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024,
                                          "t": 1024 * 1024 * 1024 * 1024, "p": 1024 * 1024 * 1024 * 1024 * 1024]
        var multiplier: Double = 1
        if let last = body.last, let unit = units[last] {
            multiplier = unit
            body = body.dropLast()
        }
        guard let number = Double(body), number >= 0, body.first?.isNumber == true else {
            throw RuntimeError(.invalidArgument, "\(flag): invalid size \"\(text)\" (a number with an optional k, m, g, t or p suffix)")
        }
        return Int64(number * multiplier)
    }
}
