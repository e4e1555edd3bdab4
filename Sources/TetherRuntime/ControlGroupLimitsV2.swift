#if canImport(Glibc)
import Glibc
#endif
import OCISpec
import TetherSystem

/// `linux.resources` on the cgroup v2 unified hierarchy, as runc's libcontainer/cgroups/fs2 writes them:
/// the v1-shaped OCI values are converted (cpu.shares → cpu.weight, memory+swap → memory.swap.max,
/// blkio weight → io.weight), then `unified` key/values are written last (they win).
/// Ignored, as runc: memory.kernel/kernelTCP, memory.swappiness, memory.useHierarchy (no v2 files).
/// Device rules are an eBPF program, attached by ControlGroupSet at create (DeviceFilterProgram).
struct ControlGroupLimitsV2 {
    let directory: String

    func apply(_ resources: Resources) throws {
        if let rdma = resources.rdma, !rdma.isEmpty {
            throw RuntimeError(.unsupported, "linux.resources.rdma: rdma limits are not supported", stage: "cgroups")
        }
        if resources.network != nil && (resources.network?.classID != nil || !(resources.network?.priorities ?? []).isEmpty) {
            throw RuntimeError(.unsupported, "linux.resources.network: net_cls/net_prio do not exist on cgroup v2", stage: "cgroups")
        }
        if let memory = resources.memory { try applyMemory(memory) }
        if let cpu = resources.cpu { try applyCPU(cpu) }
        if let pids = resources.pids, pids.limit != 0 {
            try write("pids.max", pids.limit > 0 ? String(pids.limit) : "max", field: "linux.resources.pids.limit")
        }
        if let blockIO = resources.blockIO { try applyIO(blockIO) }
        for (index, limit) in (resources.hugepageLimits ?? []).enumerated() {
            let field = "linux.resources.hugepageLimits[\(index)]"
            try HugePages.validate(limit.pageSize, field: field + ".pageSize")
            try write("hugetlb.\(limit.pageSize).max", String(limit.limit), field: field)
            if ControlGroupFile.exists(directory, "hugetlb.\(limit.pageSize).rsvd.max") {
                try write("hugetlb.\(limit.pageSize).rsvd.max", String(limit.limit), field: field)
            }
        }
        for key in (resources.unified ?? [:]).keys.sorted() {
            let value = resources.unified?[key] ?? ""
            let field = "linux.resources.unified[\"\(key)\"]"
            guard !key.contains("/"), !key.isEmpty, key != ".", key != ".." else {
                throw RuntimeError(.invalidConfig, "\(field): a key is a file name in the container's cgroup, without \"/\"", stage: "cgroups")
            }
            if !ControlGroupFile.exists(directory, key) {
                let controller = String(key.split(separator: ".").first ?? "")
                throw RuntimeError(.invalidConfig, "\(field): \(directory)/\(key) does not exist (is the \(controller) controller enabled?)", stage: "cgroups")
            }
            try write(key, value, field: field)
        }
    }

    private func write(_ file: String, _ value: String, field: String) throws {
        try ControlGroupFile.write(directory, file, value, field: field)
    }

    /// -1 → "max"; 0 → unset (nil).
    static func limitText(_ value: Int64) -> String? {
        if value == 0 { return nil }
        if value < 0 { return "max" }
        return String(value)
    }

    // MARK: memory

    private func applyMemory(_ memory: Resources.Memory) throws {
        let field = "linux.resources.memory"
        let limit = memory.limit ?? 0
        let swap = memory.swap ?? 0
        if memory.checkBeforeUpdate == true, limit > 0, let usage = ControlGroupFile.number(directory, "memory.current"), usage > UInt64(limit) {
            throw RuntimeError(.invalidConfig, "\(field).limit: \(limit) is below the current usage \(usage) (checkBeforeUpdate)", stage: "cgroups")
        }
        // OCI swap is memory+swap; v2's memory.swap.max is swap alone.
        var swapText: String?
        switch (limit, swap) {
        case (-1, 0): swapText = "max"
        case (_, -1): swapText = "max"
        case (_, 0): swapText = nil
        case (-1, _): swapText = String(swap)
        case (0, _): throw RuntimeError(.invalidConfig, "\(field).swap: a swap limit needs a memory limit", stage: "cgroups")
        default:
            guard swap >= limit else {
                throw RuntimeError(.invalidConfig, "\(field).swap: memory+swap (\(swap)) must be at least the memory limit (\(limit))", stage: "cgroups")
            }
            swapText = String(swap - limit)
        }
        if let swapText { try write("memory.swap.max", swapText, field: field + ".swap") }
        if let text = Self.limitText(limit) { try write("memory.max", text, field: field + ".limit") }
        if let reservation = memory.reservation, let text = Self.limitText(reservation) {
            try write("memory.low", text, field: field + ".reservation")
        }
        if memory.disableOOMKiller == true {
            throw RuntimeError(.unsupported, "\(field).disableOOMKiller: cgroup v2 cannot disable the OOM killer", stage: "cgroups")
        }
    }

    // MARK: cpu

    /// runc's linear map of cpu.shares [2, 262144] onto cpu.weight [1, 10000].
    static func weight(fromShares shares: UInt64) -> UInt64 {
        if shares == 0 { return 0 }
        let clamped = min(max(shares, 2), 262_144)
        return 1 + ((clamped - 2) * 9999) / 262_142
    }

    private func applyCPU(_ cpu: Resources.CPU) throws {
        let field = "linux.resources.cpu"
        if (cpu.realtimePeriod ?? 0) != 0 || (cpu.realtimeRuntime ?? 0) != 0 {
            throw RuntimeError(.unsupported, "\(field).realtimeRuntime/realtimePeriod: cgroup v2 has no real-time bandwidth files", stage: "cgroups")
        }
        if let idle = cpu.idle {
            if idle != 0 || ControlGroupFile.exists(directory, "cpu.idle") { try write("cpu.idle", String(idle), field: field + ".idle") }
        }
        if let shares = cpu.shares, shares != 0, cpu.idle ?? 0 == 0 {
            try write("cpu.weight", String(Self.weight(fromShares: shares)), field: field + ".shares")
        }
        let quota = cpu.quota ?? 0
        let period = cpu.period ?? 0
        if quota != 0 || period != 0 {
            // "max 100000" when only the period changes keeps no quota; runc writes the same.
            let quotaText = quota > 0 ? String(quota) : "max"
            try write("cpu.max", "\(quotaText) \(period == 0 ? 100_000 : period)", field: field + ".quota")
        }
        if let burst = cpu.burst {
            if burst != 0 || ControlGroupFile.exists(directory, "cpu.max.burst") { try write("cpu.max.burst", String(burst), field: field + ".burst") }
        }
        if let cpus = cpu.cpus, !cpus.isEmpty { try write("cpuset.cpus", cpus, field: field + ".cpus") }
        if let mems = cpu.mems, !mems.isEmpty { try write("cpuset.mems", mems, field: field + ".mems") }
    }

    // MARK: io

    /// runc's linear map of blkio weight [10, 1000] onto io.weight [1, 10000].
    static func ioWeight(fromBlkio weight: UInt16) -> UInt64 {
        if weight == 0 { return 0 }
        return 1 + (UInt64(max(weight, 10)) - 10) * 9999 / 990
    }

    private func applyIO(_ blockIO: Resources.BlockIO) throws {
        let field = "linux.resources.blockIO"
        // BFQ's io.bfq.weight takes the blkio range as is; io.weight (the iocost controller) the converted one.
        let bfq = ControlGroupFile.exists(directory, "io.bfq.weight")
        if let weight = blockIO.weight, weight != 0 {
            if bfq {
                try write("io.bfq.weight", String(weight), field: field + ".weight")
            } else {
                try write("io.weight", "default \(Self.ioWeight(fromBlkio: weight))", field: field + ".weight")
            }
        }
        if (blockIO.leafWeight ?? 0) != 0 {
            throw RuntimeError(.unsupported, "\(field).leafWeight: cgroup v2 has no leaf weight", stage: "cgroups")
        }
        for (index, device) in (blockIO.weightDevice ?? []).enumerated() {
            guard let weight = device.weight else { continue }
            let value = bfq ? "\(device.major):\(device.minor) \(weight)" : "\(device.major):\(device.minor) \(Self.ioWeight(fromBlkio: weight))"
            try write(bfq ? "io.bfq.weight" : "io.weight", value, field: "\(field).weightDevice[\(index)]")
        }
        let throttles: [([Resources.ThrottleDevice]?, String, String)] = [
            (blockIO.throttleReadBpsDevice, "rbps", "throttleReadBpsDevice"),
            (blockIO.throttleWriteBpsDevice, "wbps", "throttleWriteBpsDevice"),
            (blockIO.throttleReadIOPSDevice, "riops", "throttleReadIOPSDevice"),
            (blockIO.throttleWriteIOPSDevice, "wiops", "throttleWriteIOPSDevice"),
        ]
        for (devices, key, name) in throttles {
            for (index, device) in (devices ?? []).enumerated() {
                try write("io.max", "\(device.major):\(device.minor) \(key)=\(device.rate == 0 ? "max" : String(device.rate))",
                          field: "\(field).\(name)[\(index)]")
            }
        }
    }
}
