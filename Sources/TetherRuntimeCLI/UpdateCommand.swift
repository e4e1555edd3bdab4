#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCISpec
import TetherFlags
import TetherRuntime
import TetherSystem

/// `update ID`: new cgroup limits for a running container, from flags or (`-r FILE`, `-r -` for stdin) a
/// `linux.resources` JSON document; as runc, the flags are ignored when -r is given.
struct UpdateCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(
        name: "update",
        abstract: "Update a container's resource limits.",
        flags: [
            .init("-r", "--resources", value: "FILE", help: "JSON linux.resources file, or - for stdin (the other flags are then ignored)."),
            .init("--memory", value: "BYTES", help: "Memory limit (BYTES: a k, m, g, t or p suffix is a binary unit, as runc; -1 means unlimited)."),
            .init("--memory-reservation", value: "BYTES", help: "Memory soft limit."),
            .init("--memory-swap", value: "BYTES", help: "Memory plus swap limit, -1 for unlimited."),
            .init("--kernel-memory", value: "BYTES", help: "Accepted and ignored (kernel memory limits are gone)."),
            .init("--kernel-memory-tcp", value: "BYTES", help: "Accepted and ignored."),
            .init("--cpu-share", "--cpu-shares", value: "N", help: "CPU shares (relative weight)."),
            .init("--cpu-quota", value: "MICROSECONDS", help: "CFS quota per period, -1 for none."),
            .init("--cpu-period", value: "MICROSECONDS", help: "CFS period."),
            .init("--cpu-burst", value: "MICROSECONDS", help: "CFS burst."),
            .init("--cpu-rt-period", value: "MICROSECONDS", help: "Real-time period."),
            .init("--cpu-rt-runtime", value: "MICROSECONDS", help: "Real-time runtime."),
            .init("--cpu-idle", value: "0|1", help: "1 to make the cgroup SCHED_IDLE."),
            .init("--cpuset-cpus", value: "CPUS", help: "CPUs to run on (e.g. 0-1)."),
            .init("--cpuset-mems", value: "NODES", help: "Memory nodes to allocate from."),
            .init("--pids-limit", value: "N", help: "Maximum number of tasks, -1 for unlimited."),
            .init("--blkio-weight", value: "WEIGHT", help: "Block I/O weight (10-1000)."),
        ],
        required: ["ID"])

    let resources: String?
    let memory: String?
    let memoryReservation: String?
    let memorySwap: String?
    let cpuShares: UInt64?
    let cpuQuota: Int64?
    let cpuPeriod: UInt64?
    let cpuBurst: UInt64?
    let cpuRealtimePeriod: UInt64?
    let cpuRealtimeRuntime: Int64?
    let cpuIdle: Int64?
    let cpusetCpus: String?
    let cpusetMems: String?
    let pidsLimit: Int64?
    let blkioWeight: UInt16?
    let id: String

    init(_ arguments: ParsedFlags) throws {
        resources = arguments.value("--resources")
        memory = arguments.value("--memory")
        memoryReservation = arguments.value("--memory-reservation")
        memorySwap = arguments.value("--memory-swap")
        cpuShares = try arguments.number("--cpu-share")
        cpuQuota = try arguments.number("--cpu-quota")
        cpuPeriod = try arguments.number("--cpu-period")
        cpuBurst = try arguments.number("--cpu-burst")
        cpuRealtimePeriod = try arguments.number("--cpu-rt-period")
        cpuRealtimeRuntime = try arguments.number("--cpu-rt-runtime")
        cpuIdle = try arguments.number("--cpu-idle")
        cpusetCpus = arguments.value("--cpuset-cpus")
        cpusetMems = arguments.value("--cpuset-mems")
        pidsLimit = try arguments.number("--pids-limit")
        blkioWeight = try arguments.number("--blkio-weight")
        id = arguments.positionals[0]
    }

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
