#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// A container's cgroup counters, in the JSON shape of runc's `events` "stats" data (types.Stats): cpu, memory,
/// pids, blkio, hugetlb. Read from cgroup v1 controllers or the v2 unified directory (ControlGroupSet.stats).
public struct ContainerStats: Codable, Sendable, Equatable {
    public struct CPUUsage: Codable, Sendable, Equatable {
        /// Nanoseconds.
        public var total: UInt64 = 0
        public var percpu: [UInt64]?
        public var kernel: UInt64 = 0
        public var user: UInt64 = 0
    }

    public struct Throttling: Codable, Sendable, Equatable {
        public var periods: UInt64 = 0
        public var throttledPeriods: UInt64 = 0
        /// Nanoseconds.
        public var throttledTime: UInt64 = 0
    }

    public struct CPU: Codable, Sendable, Equatable {
        public var usage = CPUUsage()
        public var throttling = Throttling()
    }

    public struct MemoryEntry: Codable, Sendable, Equatable {
        public var limit: UInt64 = 0
        public var usage: UInt64 = 0
        public var max: UInt64 = 0
        public var failcnt: UInt64 = 0
    }

    public struct Memory: Codable, Sendable, Equatable {
        public var cache: UInt64 = 0
        public var usage = MemoryEntry()
        /// v1: memory+swap (memsw); v2: memory + swap, as runc reports it for compatibility.
        public var swap = MemoryEntry()
        public var kernel = MemoryEntry()
        public var kernelTCP = MemoryEntry()
        /// memory.stat as is.
        public var raw: [String: UInt64] = [:]
        /// OOM counters (v1 memory.oom_control, v2 memory.events); not in runc's output.
        public var oomKillDisable: Bool = false
        public var underOOM: Bool = false
        public var oomKills: UInt64 = 0
    }

    public struct Pids: Codable, Sendable, Equatable {
        public var current: UInt64 = 0
        /// 0 when unlimited ("max"), as runc reports it.
        public var limit: UInt64 = 0
    }

    public struct BlkioEntry: Codable, Sendable, Equatable {
        public var major: UInt64
        public var minor: UInt64
        public var op: String
        public var value: UInt64
    }

    public struct Blkio: Codable, Sendable, Equatable {
        public var ioServiceBytesRecursive: [BlkioEntry] = []
        public var ioServicedRecursive: [BlkioEntry] = []
    }

    public struct Hugetlb: Codable, Sendable, Equatable {
        public var usage: UInt64 = 0
        public var max: UInt64 = 0
        public var failcnt: UInt64 = 0
    }

    /// cgroup v2 values as the kernel writes them, where the runc shape above converts them (nanoseconds), folds
    /// them (swap into memory) or drops them ("max" pids, memory.events, rdma): what containerd's
    /// io.containerd.cgroups.v2.Metrics reports.
    public struct Unified: Sendable, Equatable {
        /// cpu.stat as is (usage_usec, user_usec, system_usec, nr_periods, nr_throttled, throttled_usec).
        public var cpu: [String: UInt64] = [:]
        /// pids.max; "max" reads as UInt64.max.
        public var pidsLimit: UInt64 = 0
        /// memory.swap.current and memory.swap.max alone; "max" reads as UInt64.max, 0 without swap accounting.
        public var swapUsage: UInt64 = 0
        public var swapLimit: UInt64 = 0
        /// memory.events as is (low, high, max, oom, oom_kill); empty without the memory controller.
        public var memoryEvents: [String: UInt64] = [:]
        /// rdma.current and rdma.max.
        public var rdmaCurrent: [RdmaEntry] = []
        public var rdmaLimit: [RdmaEntry] = []
    }

    /// One line of rdma.current or rdma.max: "mlx4_0 hca_handle=2 hca_object=2000"; "max" reads as UInt32.max.
    public struct RdmaEntry: Sendable, Equatable {
        public var device: String
        public var hcaHandles: UInt32 = 0
        public var hcaObjects: UInt32 = 0
    }

    public var cpu = CPU()
    public var memory = Memory()
    public var pids = Pids()
    public var blkio = Blkio()
    public var hugetlb: [String: Hugetlb] = [:]
    /// Set on cgroup v2 only; not in the JSON, which keeps runc's shape.
    public var unified: Unified?

    private enum CodingKeys: String, CodingKey { case cpu, memory, pids, blkio, hugetlb }

    public init() {}

    /// The counters of a cgroup v2 directory (the container's, or any other laid out the same way).
    public init(cgroupV2Directory directory: String) {
        self = ControlGroupStatsReader.v2(directory)
    }
}

extension ControlGroupSet {
    /// The counters of every controller the container has.
    func stats() -> ContainerStats {
        if isUnified, let directory = paths["unified"] { return ControlGroupStatsReader.v2(directory) }
        return ControlGroupStatsReader.v1(self)
    }
}

enum ControlGroupStatsReader {
    static func v1(_ cgroups: ControlGroupSet) -> ContainerStats {
        var stats = ContainerStats()
        if let dir = cgroups.directory(for: "cpuacct") {
            stats.cpu.usage.total = ControlGroupFile.number(dir, "cpuacct.usage") ?? 0
            let perCPU = (ControlGroupFile.read(dir, "cpuacct.usage_percpu") ?? "").split(whereSeparator: \.isWhitespace).compactMap { UInt64($0) }
            stats.cpu.usage.percpu = perCPU.isEmpty ? nil : perCPU
            let ticks = ControlGroupFile.keyed(dir, "cpuacct.stat")
            let nanosPerTick = UInt64(1_000_000_000) / UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
            stats.cpu.usage.kernel = (ticks["system"] ?? 0) * nanosPerTick
            stats.cpu.usage.user = (ticks["user"] ?? 0) * nanosPerTick
        }
        if let dir = cgroups.directory(for: "cpu") {
            let throttle = ControlGroupFile.keyed(dir, "cpu.stat")
            stats.cpu.throttling = .init(periods: throttle["nr_periods"] ?? 0, throttledPeriods: throttle["nr_throttled"] ?? 0,
                                         throttledTime: throttle["throttled_time"] ?? 0)
        }
        if let dir = cgroups.directory(for: "memory") {
            stats.memory.raw = ControlGroupFile.keyed(dir, "memory.stat")
            stats.memory.cache = stats.memory.raw["cache"] ?? 0
            func entry(_ prefix: String) -> ContainerStats.MemoryEntry {
                .init(limit: ControlGroupFile.number(dir, prefix + ".limit_in_bytes") ?? 0,
                      usage: ControlGroupFile.number(dir, prefix + ".usage_in_bytes") ?? 0,
                      max: ControlGroupFile.number(dir, prefix + ".max_usage_in_bytes") ?? 0,
                      failcnt: ControlGroupFile.number(dir, prefix + ".failcnt") ?? 0)
            }
            stats.memory.usage = entry("memory")
            stats.memory.swap = entry("memory.memsw")
            stats.memory.kernel = entry("memory.kmem")
            stats.memory.kernelTCP = entry("memory.kmem.tcp")
            let oom = ControlGroupFile.keyed(dir, "memory.oom_control")
            stats.memory.oomKillDisable = oom["oom_kill_disable"] == 1
            stats.memory.underOOM = oom["under_oom"] == 1
            stats.memory.oomKills = oom["oom_kill"] ?? 0
        }
        if let dir = cgroups.directory(for: "pids") { stats.pids = pids(dir) }
        if let dir = cgroups.directory(for: "blkio") {
            func entries(_ file: String) -> [ContainerStats.BlkioEntry] {
                let recursive = blkioEntries(dir, file + "_recursive")
                return recursive.isEmpty ? blkioEntries(dir, file) : recursive
            }
            stats.blkio.ioServiceBytesRecursive = entries("blkio.throttle.io_service_bytes")
            stats.blkio.ioServicedRecursive = entries("blkio.throttle.io_serviced")
        }
        if let dir = cgroups.directory(for: "hugetlb") {
            for size in HugePages.sizes() {
                stats.hugetlb[size] = .init(usage: ControlGroupFile.number(dir, "hugetlb.\(size).usage_in_bytes") ?? 0,
                                            max: ControlGroupFile.number(dir, "hugetlb.\(size).max_usage_in_bytes") ?? 0,
                                            failcnt: ControlGroupFile.number(dir, "hugetlb.\(size).failcnt") ?? 0)
            }
        }
        return stats
    }

    static func v2(_ dir: String) -> ContainerStats {
        var stats = ContainerStats()
        let cpu = ControlGroupFile.keyed(dir, "cpu.stat")
        stats.cpu.usage.total = (cpu["usage_usec"] ?? 0) * 1000
        stats.cpu.usage.user = (cpu["user_usec"] ?? 0) * 1000
        stats.cpu.usage.kernel = (cpu["system_usec"] ?? 0) * 1000
        stats.cpu.throttling = .init(periods: cpu["nr_periods"] ?? 0, throttledPeriods: cpu["nr_throttled"] ?? 0,
                                     throttledTime: (cpu["throttled_usec"] ?? 0) * 1000)
        stats.memory.raw = ControlGroupFile.keyed(dir, "memory.stat")
        stats.memory.cache = stats.memory.raw["file"] ?? 0
        let usage = ControlGroupFile.number(dir, "memory.current") ?? 0
        let limit = ControlGroupFile.number(dir, "memory.max") ?? 0
        stats.memory.usage = .init(limit: limit, usage: usage, max: ControlGroupFile.number(dir, "memory.peak") ?? 0, failcnt: 0)
        if let swapUsage = ControlGroupFile.number(dir, "memory.swap.current") {
            let swapLimit = ControlGroupFile.number(dir, "memory.swap.max") ?? UInt64.max
            stats.memory.swap = .init(limit: swapLimit == UInt64.max || limit == UInt64.max ? UInt64.max : swapLimit + limit,
                                      usage: swapUsage + usage, max: 0, failcnt: 0)
        }
        let events = ControlGroupFile.keyed(dir, "memory.events")
        stats.memory.usage.failcnt = events["max"] ?? 0
        stats.memory.oomKills = events["oom_kill"] ?? 0
        stats.pids = pids(dir)
        stats.unified = .init(cpu: cpu, pidsLimit: ControlGroupFile.number(dir, "pids.max") ?? 0,
                              swapUsage: ControlGroupFile.number(dir, "memory.swap.current") ?? 0,
                              swapLimit: ControlGroupFile.number(dir, "memory.swap.max") ?? 0, memoryEvents: events,
                              rdmaCurrent: rdmaEntries(dir, "rdma.current"), rdmaLimit: rdmaEntries(dir, "rdma.max"))
        for line in (ControlGroupFile.read(dir, "io.stat") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            let device = fields.first?.split(separator: ":") ?? []
            guard device.count == 2, let major = UInt64(device[0]), let minor = UInt64(device[1]) else { continue }
            for field in fields.dropFirst() {
                let pair = field.split(separator: "=")
                guard pair.count == 2, let value = UInt64(pair[1]) else { continue }
                switch pair[0] {
                case "rbytes": stats.blkio.ioServiceBytesRecursive.append(.init(major: major, minor: minor, op: "Read", value: value))
                case "wbytes": stats.blkio.ioServiceBytesRecursive.append(.init(major: major, minor: minor, op: "Write", value: value))
                case "rios": stats.blkio.ioServicedRecursive.append(.init(major: major, minor: minor, op: "Read", value: value))
                case "wios": stats.blkio.ioServicedRecursive.append(.init(major: major, minor: minor, op: "Write", value: value))
                default: break
                }
            }
        }
        for size in HugePages.sizes() where ControlGroupFile.exists(dir, "hugetlb.\(size).current") {
            stats.hugetlb[size] = .init(usage: ControlGroupFile.number(dir, "hugetlb.\(size).current") ?? 0,
                                        max: ControlGroupFile.number(dir, "hugetlb.\(size).max") ?? 0,
                                        failcnt: ControlGroupFile.keyed(dir, "hugetlb.\(size).events")["max"] ?? 0)
        }
        return stats
    }

    static func pids(_ dir: String) -> ContainerStats.Pids {
        let limit = ControlGroupFile.number(dir, "pids.max") ?? 0
        return .init(current: ControlGroupFile.number(dir, "pids.current") ?? 0, limit: limit == UInt64.max ? 0 : limit)
    }

    /// "mlx4_0 hca_handle=2 hca_object=2000" lines (containerd's cgroups toRdmaEntry: lines of three fields).
    static func rdmaEntries(_ dir: String, _ file: String) -> [ContainerStats.RdmaEntry] {
        (ControlGroupFile.read(dir, file) ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count == 3 else { return nil }
            var entry = ContainerStats.RdmaEntry(device: String(fields[0]))
            for field in fields.dropFirst() {
                let pair = field.split(separator: "=")
                guard pair.count == 2, let value = pair[1] == "max" ? UInt32.max : UInt32(pair[1]) else { continue }
                if pair[0] == "hca_handle" { entry.hcaHandles = value } else if pair[0] == "hca_object" { entry.hcaObjects = value }
            }
            return entry
        }
    }

    /// "8:0 Read 1282048" lines; the "Total N" line is skipped.
    static func blkioEntries(_ dir: String, _ file: String) -> [ContainerStats.BlkioEntry] {
        (ControlGroupFile.read(dir, file) ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == ":" })
            guard fields.count == 4, let major = UInt64(fields[0]), let minor = UInt64(fields[1]), let value = UInt64(fields[3]) else { return nil }
            return .init(major: major, minor: minor, op: String(fields[2]), value: value)
        }
    }
}
