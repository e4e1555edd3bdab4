import OCISpec

/// The container's `linux.resources` after an `update`, which state.json keeps (runc's update.go merges the
/// request into the config.Cgroups.Resources it loaded from state.json, and `Set` saves it back). A field the
/// update gives replaces the kept one, member by member for memory, cpu and block I/O; lists, maps and the
/// network section (device rules, hugepage limits, throttled devices, rdma, unified) are replaced whole. Values
/// the cgroup code reads as "leave alone" (0 for a limit, shares, period, quota or weight; empty cpus or mems)
/// keep the old value, so the record says what the cgroup holds.
extension Resources {
    func merging(_ update: Resources) -> Resources {
        var merged = self
        if let devices = update.devices { merged.devices = devices }
        if let memory = update.memory { merged.memory = (self.memory ?? Memory()).merging(memory) }
        if let cpu = update.cpu { merged.cpu = (self.cpu ?? CPU()).merging(cpu) }
        if let pids = update.pids, pids.limit != 0 { merged.pids = pids }
        if let blockIO = update.blockIO { merged.blockIO = (self.blockIO ?? BlockIO()).merging(blockIO) }
        if let limits = update.hugepageLimits { merged.hugepageLimits = limits }
        if let network = update.network { merged.network = network }
        if let rdma = update.rdma { merged.rdma = rdma }
        if let unified = update.unified { merged.unified = unified }
        return merged
    }
}

extension Resources.Memory {
    func merging(_ update: Resources.Memory) -> Resources.Memory {
        var merged = self
        merged.limit = replacing(limit, with: update.limit)
        merged.reservation = replacing(reservation, with: update.reservation)
        merged.swap = replacing(swap, with: update.swap)
        // runc: an unlimited memory without a swap value is "memory and swap unlimited".
        if update.limit == -1 && update.swap == nil { merged.swap = -1 }
        if let kernel = update.kernel { merged.kernel = kernel }
        if let kernelTCP = update.kernelTCP { merged.kernelTCP = kernelTCP }
        if let swappiness = update.swappiness { merged.swappiness = swappiness }
        if let disableOOMKiller = update.disableOOMKiller { merged.disableOOMKiller = disableOOMKiller }
        if let useHierarchy = update.useHierarchy { merged.useHierarchy = useHierarchy }
        if let checkBeforeUpdate = update.checkBeforeUpdate { merged.checkBeforeUpdate = checkBeforeUpdate }
        return merged
    }
}

extension Resources.CPU {
    func merging(_ update: Resources.CPU) -> Resources.CPU {
        var merged = self
        merged.shares = replacing(shares, with: update.shares)
        merged.quota = replacing(quota, with: update.quota)
        merged.period = replacing(period, with: update.period)
        merged.realtimeRuntime = replacing(realtimeRuntime, with: update.realtimeRuntime)
        merged.realtimePeriod = replacing(realtimePeriod, with: update.realtimePeriod)
        if let burst = update.burst { merged.burst = burst }
        if let idle = update.idle { merged.idle = idle }
        if let cpus = update.cpus, !cpus.isEmpty { merged.cpus = cpus }
        if let mems = update.mems, !mems.isEmpty { merged.mems = mems }
        return merged
    }
}

extension Resources.BlockIO {
    func merging(_ update: Resources.BlockIO) -> Resources.BlockIO {
        var merged = self
        merged.weight = replacing(weight, with: update.weight)
        merged.leafWeight = replacing(leafWeight, with: update.leafWeight)
        if let devices = update.weightDevice { merged.weightDevice = devices }
        if let devices = update.throttleReadBpsDevice { merged.throttleReadBpsDevice = devices }
        if let devices = update.throttleWriteBpsDevice { merged.throttleWriteBpsDevice = devices }
        if let devices = update.throttleReadIOPSDevice { merged.throttleReadIOPSDevice = devices }
        if let devices = update.throttleWriteIOPSDevice { merged.throttleWriteIOPSDevice = devices }
        return merged
    }
}

/// `new` unless the update leaves the value alone (absent, or 0, which the cgroup code does not write).
private func replacing<Value: BinaryInteger>(_ old: Value?, with new: Value?) -> Value? {
    guard let new, new != 0 else { return old }
    return new
}
