#if canImport(Glibc)
import Glibc
#endif
import OCISpec
import TetherSystem

/// `linux.resources` on cgroup v1 controllers, file by file as runc's libcontainer/cgroups/fs writes them.
/// Fields left nil (or 0 where runc treats 0 as unset) are not touched, so an update can be partial.
/// Ignored, as runc does: memory.kernel and memory.kernelTCP (kernel memory accounting is gone from new
/// kernels), memory.useHierarchy (always on since Linux 6.x).
struct ControlGroupLimitsV1 {
    let cgroups: ControlGroupSet

    /// `creating`: the device allow-list is applied even without `linux.resources.devices` (runc's defaults).
    func apply(_ resources: Resources, creating: Bool) throws {
        if let unified = resources.unified, !unified.isEmpty {
            throw RuntimeError(.invalidConfig, "linux.resources.unified: needs cgroup v2, but this host uses cgroup v1 controllers", stage: "cgroups")
        }
        if let rdma = resources.rdma, !rdma.isEmpty {
            throw RuntimeError(.unsupported, "linux.resources.rdma: rdma limits are not supported", stage: "cgroups")
        }
        if resources.devices != nil || (creating && cgroups.directory(for: "devices") != nil) {
            try DeviceRules.applyV1(resources.devices ?? [], directory: try directory("devices", field: "linux.resources.devices"))
        }
        if let memory = resources.memory { try applyMemory(memory) }
        if let cpu = resources.cpu {
            try applyCPU(cpu)
            try applyCpuset(cpu)
        }
        if let pids = resources.pids, pids.limit != 0 {
            try ControlGroupFile.write(try directory("pids", field: "linux.resources.pids"), "pids.max",
                                       pids.limit > 0 ? String(pids.limit) : "max", field: "linux.resources.pids.limit")
        }
        if let blockIO = resources.blockIO { try applyBlockIO(blockIO) }
        if let limits = resources.hugepageLimits, !limits.isEmpty {
            let dir = try directory("hugetlb", field: "linux.resources.hugepageLimits")
            for (index, limit) in limits.enumerated() {
                let field = "linux.resources.hugepageLimits[\(index)]"
                try HugePages.validate(limit.pageSize, field: field + ".pageSize")
                try ControlGroupFile.write(dir, "hugetlb.\(limit.pageSize).limit_in_bytes", String(limit.limit), field: field)
                if ControlGroupFile.exists(dir, "hugetlb.\(limit.pageSize).rsvd.limit_in_bytes") {
                    try ControlGroupFile.write(dir, "hugetlb.\(limit.pageSize).rsvd.limit_in_bytes", String(limit.limit), field: field)
                }
            }
        }
        if let network = resources.network { try applyNetwork(network) }
    }

    func directory(_ controller: String, field: String) throws -> String {
        guard let path = cgroups.directory(for: controller) else {
            throw RuntimeError(.unsupported, "\(field): no cgroup v1 \(controller) hierarchy is mounted", stage: "cgroups")
        }
        return path
    }

    // MARK: memory

    private func applyMemory(_ memory: Resources.Memory) throws {
        let field = "linux.resources.memory"
        var limit = memory.limit ?? 0
        var swap = memory.swap ?? 0
        if let swappiness = memory.swappiness, swappiness > 100 {
            throw RuntimeError(.invalidConfig, "\(field).swappiness: \(swappiness) is outside 0-100", stage: "cgroups")
        }
        let needsDirectory = limit != 0 || swap != 0 || memory.reservation != nil || memory.disableOOMKiller == true || memory.swappiness != nil
        guard needsDirectory else { return }
        let dir = try directory("memory", field: field)
        if limit == -1 && swap == 0 && ControlGroupFile.exists(dir, "memory.memsw.limit_in_bytes") { swap = -1 }
        if limit < -1 { limit = -1 }
        // memory.memsw.limit_in_bytes must stay >= memory.limit_in_bytes at every step: raise swap first when growing.
        var swapFirst = false
        if limit != 0 && swap != 0 {
            let current = ControlGroupFile.number(dir, "memory.limit_in_bytes") ?? 0
            swapFirst = swap == -1 || current < UInt64(max(swap, 0))
        }
        if swapFirst { try writeSwap(dir, swap) }
        if limit != 0 { try writeMemoryLimit(dir, limit) }
        if !swapFirst && swap != 0 { try writeSwap(dir, swap) }
        if let reservation = memory.reservation, reservation != 0 {
            try ControlGroupFile.write(dir, "memory.soft_limit_in_bytes", String(reservation), field: field + ".reservation")
        }
        if memory.disableOOMKiller == true {
            try ControlGroupFile.write(dir, "memory.oom_control", "1", field: field + ".disableOOMKiller")
        }
        if let swappiness = memory.swappiness {
            try ControlGroupFile.write(dir, "memory.swappiness", String(swappiness), field: field + ".swappiness")
        }
    }

    private func writeMemoryLimit(_ dir: String, _ limit: Int64) throws {
        do {
            try ControlGroupFile.write(dir, "memory.limit_in_bytes", String(limit), field: "linux.resources.memory.limit")
        } catch let error as RuntimeError where error.syscall?.errno == EBUSY {
            // EBUSY: the new limit is below what the cgroup already uses.
            let usage = ControlGroupFile.number(dir, "memory.usage_in_bytes") ?? 0
            let peak = ControlGroupFile.number(dir, "memory.max_usage_in_bytes") ?? 0
            throw ControlGroupFile.failure(String(limit), dir + "/memory.limit_in_bytes", EBUSY, field: "linux.resources.memory.limit",
                                           detail: "current usage \(usage), peak usage \(peak)")
        }
    }

    private func writeSwap(_ dir: String, _ swap: Int64) throws {
        try ControlGroupFile.write(dir, "memory.memsw.limit_in_bytes", String(swap), field: "linux.resources.memory.swap")
    }

    // MARK: cpu

    private func applyCPU(_ cpu: Resources.CPU) throws {
        let field = "linux.resources.cpu"
        let wanted = cpu.shares != nil || cpu.quota != nil || cpu.period != nil || cpu.burst != nil || cpu.idle != nil
            || cpu.realtimePeriod != nil || cpu.realtimeRuntime != nil
        guard wanted else { return }
        let dir = try directory("cpu", field: field)
        // Real-time bandwidth first (runc sets it before the other knobs).
        try applyRealtime(cpu, dir)
        if let shares = cpu.shares, shares != 0 {
            try ControlGroupFile.write(dir, "cpu.shares", String(shares), field: field + ".shares")
            // The kernel clamps silently: read it back, as runc does.
            if let read = ControlGroupFile.number(dir, "cpu.shares"), read != shares {
                throw RuntimeError(.invalidConfig, "\(field).shares: \(shares) is out of range (the kernel set \(read): the \(read < shares ? "maximum" : "minimum") allowed)", stage: "cgroups")
            }
        }
        var pendingPeriod: String?
        if let period = cpu.period, period != 0 {
            do {
                try ControlGroupFile.write(dir, "cpu.cfs_period_us", String(period), field: field + ".period")
            } catch let error as RuntimeError where error.syscall?.errno == EINVAL && cpu.quota != nil {
                // A shorter period can be refused while the old quota/period exceeds the parent: retry after the quota.
                pendingPeriod = String(period)
            }
        }
        if let quota = cpu.quota, quota != 0 {
            try ControlGroupFile.write(dir, "cpu.cfs_quota_us", String(quota), field: field + ".quota")
            if let pendingPeriod { try ControlGroupFile.write(dir, "cpu.cfs_period_us", pendingPeriod, field: field + ".period") }
        }
        if let burst = cpu.burst {
            if ControlGroupFile.exists(dir, "cpu.cfs_burst_us") || burst != 0 {
                try ControlGroupFile.write(dir, "cpu.cfs_burst_us", String(burst), field: field + ".burst")
            }
        }
        if let idle = cpu.idle {
            if ControlGroupFile.exists(dir, "cpu.idle") || idle != 0 {
                try ControlGroupFile.write(dir, "cpu.idle", String(idle), field: field + ".idle")
            }
        }
    }

    private func applyRealtime(_ cpu: Resources.CPU, _ dir: String) throws {
        if let period = cpu.realtimePeriod, period != 0 {
            try ControlGroupFile.write(dir, "cpu.rt_period_us", String(period), field: "linux.resources.cpu.realtimePeriod")
        }
        if let runtime = cpu.realtimeRuntime, runtime != 0 {
            try ControlGroupFile.write(dir, "cpu.rt_runtime_us", String(runtime), field: "linux.resources.cpu.realtimeRuntime")
        }
    }

    private func applyCpuset(_ cpu: Resources.CPU) throws {
        let cpus = cpu.cpus.flatMap { $0.isEmpty ? nil : $0 }
        let mems = cpu.mems.flatMap { $0.isEmpty ? nil : $0 }
        guard cpus != nil || mems != nil else { return }
        let dir = try directory("cpuset", field: "linux.resources.cpu.cpus")
        if let cpus { try ControlGroupFile.write(dir, "cpuset.cpus", cpus, field: "linux.resources.cpu.cpus") }
        if let mems { try ControlGroupFile.write(dir, "cpuset.mems", mems, field: "linux.resources.cpu.mems") }
    }

    // MARK: block I/O

    private func applyBlockIO(_ blockIO: Resources.BlockIO) throws {
        let field = "linux.resources.blockIO"
        let throttles: [(String, [Resources.ThrottleDevice]?, String)] = [
            ("blkio.throttle.read_bps_device", blockIO.throttleReadBpsDevice, "throttleReadBpsDevice"),
            ("blkio.throttle.write_bps_device", blockIO.throttleWriteBpsDevice, "throttleWriteBpsDevice"),
            ("blkio.throttle.read_iops_device", blockIO.throttleReadIOPSDevice, "throttleReadIOPSDevice"),
            ("blkio.throttle.write_iops_device", blockIO.throttleWriteIOPSDevice, "throttleWriteIOPSDevice"),
        ]
        let wanted = (blockIO.weight ?? 0) != 0 || (blockIO.leafWeight ?? 0) != 0 || !(blockIO.weightDevice ?? []).isEmpty
            || throttles.contains { !($0.1 ?? []).isEmpty }
        guard wanted else { return }
        let dir = try directory("blkio", field: field)
        // CFQ has blkio.weight; BFQ has blkio.bfq.weight; with neither (mq-deadline, none) weights do not exist.
        func weightFile(_ cfq: String, _ bfq: String, _ name: String) throws -> String {
            if ControlGroupFile.exists(dir, cfq) { return cfq }
            if ControlGroupFile.exists(dir, bfq) { return bfq }
            throw RuntimeError(.unsupported, "\(field).\(name): the kernel has neither \(cfq) nor \(bfq) (no CFQ or BFQ I/O scheduler)", stage: "cgroups")
        }
        if let weight = blockIO.weight, weight != 0 {
            try ControlGroupFile.write(dir, try weightFile("blkio.weight", "blkio.bfq.weight", "weight"), String(weight), field: field + ".weight")
        }
        if let leafWeight = blockIO.leafWeight, leafWeight != 0 {
            guard ControlGroupFile.exists(dir, "blkio.leaf_weight") else {
                throw RuntimeError(.unsupported, "\(field).leafWeight: the kernel has no blkio.leaf_weight (CFQ only)", stage: "cgroups")
            }
            try ControlGroupFile.write(dir, "blkio.leaf_weight", String(leafWeight), field: field + ".leafWeight")
        }
        for (index, device) in (blockIO.weightDevice ?? []).enumerated() {
            let deviceField = "\(field).weightDevice[\(index)]"
            if let weight = device.weight {
                try ControlGroupFile.write(dir, try weightFile("blkio.weight_device", "blkio.bfq.weight_device", "weightDevice"),
                                           "\(device.major):\(device.minor) \(weight)", field: deviceField + ".weight")
            }
            if let leafWeight = device.leafWeight {
                try ControlGroupFile.write(dir, "blkio.leaf_weight_device", "\(device.major):\(device.minor) \(leafWeight)", field: deviceField + ".leafWeight")
            }
        }
        for (file, devices, name) in throttles {
            for (index, device) in (devices ?? []).enumerated() {
                try ControlGroupFile.write(dir, file, "\(device.major):\(device.minor) \(device.rate)", field: "\(field).\(name)[\(index)]")
            }
        }
    }

    // MARK: network

    private func applyNetwork(_ network: Resources.Network) throws {
        if let classID = network.classID {
            try ControlGroupFile.write(try directory("net_cls", field: "linux.resources.network.classID"), "net_cls.classid",
                                       String(classID), field: "linux.resources.network.classID")
        }
        for (index, priority) in (network.priorities ?? []).enumerated() {
            let field = "linux.resources.network.priorities[\(index)]"
            try ControlGroupFile.write(try directory("net_prio", field: field), "net_prio.ifpriomap", "\(priority.name) \(priority.priority)", field: field)
        }
    }
}

/// Huge page sizes this kernel offers, named as the hugetlb controller names its files ("2MB", "1GB").
enum HugePages {
    static func sizes() -> [String] {
        let names = (try? FileIO.listDirectory("/sys/kernel/mm/hugepages")) ?? []
        return names.compactMap { name -> String? in
            guard name.hasPrefix("hugepages-"), name.hasSuffix("kB"), let kilobytes = Int(name.dropFirst(10).dropLast(2)) else { return nil }
            if kilobytes >= 1 << 20 { return "\(kilobytes >> 20)GB" }
            if kilobytes >= 1 << 10 { return "\(kilobytes >> 10)MB" }
            return "\(kilobytes)KB"
        }.sorted()
    }

    static func validate(_ pageSize: String, field: String) throws {
        let available = sizes()
        guard available.contains(pageSize) else {
            throw RuntimeError(.invalidConfig, "\(field): \"\(pageSize)\" is not a huge page size of this kernel (\(available.joined(separator: ", ")))", stage: "cgroups")
        }
    }
}
