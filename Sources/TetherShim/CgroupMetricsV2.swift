import TetherAPI
import TetherRuntime

/// Stats on a cgroup v2 host: the container's unified-hierarchy counters (Runtime.stats) as containerd's
/// `io.containerd.cgroups.v2.Metrics`, filled field for field as containerd/cgroups v1.1.0 `v2.Manager.Stat`
/// does for containerd-shim-runc-v2: cpu.stat and memory.stat keys as is, "max" limits as UInt64.max, swap
/// alone (not added to memory), memory_events only when memory.events exists, one io entry per io.stat device,
/// rdma.current/rdma.max, and the hugetlb page sizes (sorted by size name; containerd's order is a map's).
extension CgroupMetrics {
    static func v2(_ stats: ContainerStats, _ unified: ContainerStats.Unified) -> Io_Containerd_Cgroups_V2_Metrics {
        Io_Containerd_Cgroups_V2_Metrics.with {
            $0.pids = .with {
                $0.current = stats.pids.current
                $0.limit = unified.pidsLimit
            }
            $0.cpu = cpu(unified.cpu)
            $0.memory = memory(stats.memory, unified)
            if !unified.memoryEvents.isEmpty { $0.memoryEvents = memoryEvents(unified.memoryEvents) }
            $0.io = .with { $0.usage = ioEntries(stats.blkio) }
            $0.rdma = .with {
                $0.current = unified.rdmaCurrent.map(rdmaEntry)
                $0.limit = unified.rdmaLimit.map(rdmaEntry)
            }
            $0.hugetlb = stats.hugetlb.keys.sorted().map { size in
                .with {
                    $0.current = stats.hugetlb[size]?.usage ?? 0
                    $0.max = stats.hugetlb[size]?.max ?? 0
                    $0.pagesize = size
                }
            }
        }
    }

    private static func cpu(_ stat: [String: UInt64]) -> Io_Containerd_Cgroups_V2_CPUStat {
        .with {
            $0.usageUsec = stat["usage_usec"] ?? 0
            $0.userUsec = stat["user_usec"] ?? 0
            $0.systemUsec = stat["system_usec"] ?? 0
            $0.nrPeriods = stat["nr_periods"] ?? 0
            $0.nrThrottled = stat["nr_throttled"] ?? 0
            $0.throttledUsec = stat["throttled_usec"] ?? 0
        }
    }

    private static func memory(_ memory: ContainerStats.Memory, _ unified: ContainerStats.Unified) -> Io_Containerd_Cgroups_V2_MemoryStat {
        let stat = memory.raw
        return .with {
            $0.anon = stat["anon"] ?? 0
            $0.file = stat["file"] ?? 0
            $0.kernelStack = stat["kernel_stack"] ?? 0
            $0.slab = stat["slab"] ?? 0
            $0.sock = stat["sock"] ?? 0
            $0.shmem = stat["shmem"] ?? 0
            $0.fileMapped = stat["file_mapped"] ?? 0
            $0.fileDirty = stat["file_dirty"] ?? 0
            $0.fileWriteback = stat["file_writeback"] ?? 0
            $0.anonThp = stat["anon_thp"] ?? 0
            $0.inactiveAnon = stat["inactive_anon"] ?? 0
            $0.activeAnon = stat["active_anon"] ?? 0
            $0.inactiveFile = stat["inactive_file"] ?? 0
            $0.activeFile = stat["active_file"] ?? 0
            $0.unevictable = stat["unevictable"] ?? 0
            $0.slabReclaimable = stat["slab_reclaimable"] ?? 0
            $0.slabUnreclaimable = stat["slab_unreclaimable"] ?? 0
            $0.pgfault = stat["pgfault"] ?? 0
            $0.pgmajfault = stat["pgmajfault"] ?? 0
            $0.workingsetRefault = stat["workingset_refault"] ?? 0
            $0.workingsetActivate = stat["workingset_activate"] ?? 0
            $0.workingsetNodereclaim = stat["workingset_nodereclaim"] ?? 0
            $0.pgrefill = stat["pgrefill"] ?? 0
            $0.pgscan = stat["pgscan"] ?? 0
            $0.pgsteal = stat["pgsteal"] ?? 0
            $0.pgactivate = stat["pgactivate"] ?? 0
            $0.pgdeactivate = stat["pgdeactivate"] ?? 0
            $0.pglazyfree = stat["pglazyfree"] ?? 0
            $0.pglazyfreed = stat["pglazyfreed"] ?? 0
            $0.thpFaultAlloc = stat["thp_fault_alloc"] ?? 0
            $0.thpCollapseAlloc = stat["thp_collapse_alloc"] ?? 0
            $0.usage = memory.usage.usage
            $0.usageLimit = memory.usage.limit
            $0.swapUsage = unified.swapUsage
            $0.swapLimit = unified.swapLimit
        }
    }

    private static func memoryEvents(_ events: [String: UInt64]) -> Io_Containerd_Cgroups_V2_MemoryEvents {
        .with {
            $0.low = events["low"] ?? 0
            $0.high = events["high"] ?? 0
            $0.max = events["max"] ?? 0
            $0.oom = events["oom"] ?? 0
            $0.oomKill = events["oom_kill"] ?? 0
        }
    }

    /// io.stat's lines back from the runc shape (Read/Write entries per device, in the file's order).
    private static func ioEntries(_ blkio: ContainerStats.Blkio) -> [Io_Containerd_Cgroups_V2_IOEntry] {
        var entries: [Io_Containerd_Cgroups_V2_IOEntry] = []
        func device(_ entry: ContainerStats.BlkioEntry) -> Int {
            if let index = entries.firstIndex(where: { $0.major == entry.major && $0.minor == entry.minor }) { return index }
            entries.append(.with { $0.major = entry.major; $0.minor = entry.minor })
            return entries.count - 1
        }
        for entry in blkio.ioServiceBytesRecursive {
            let index = device(entry)
            if entry.op == "Read" { entries[index].rbytes = entry.value } else { entries[index].wbytes = entry.value }
        }
        for entry in blkio.ioServicedRecursive {
            let index = device(entry)
            if entry.op == "Read" { entries[index].rios = entry.value } else { entries[index].wios = entry.value }
        }
        return entries
    }

    private static func rdmaEntry(_ entry: ContainerStats.RdmaEntry) -> Io_Containerd_Cgroups_V2_RdmaEntry {
        .with {
            $0.device = entry.device
            $0.hcaHandles = entry.hcaHandles
            $0.hcaObjects = entry.hcaObjects
        }
    }
}
