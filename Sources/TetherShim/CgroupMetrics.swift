import FoundationEssentials
import SwiftProtobuf
import TetherAPI
import TetherRuntime

/// Stats: the container's cgroup counters (read by the runtime library, Runtime.stats) as what the runc shim
/// puts in StatsResponse.stats: `io.containerd.cgroups.v2.Metrics` when the container's cgroup is on the v2
/// unified hierarchy (CgroupMetricsV2), else `io.containerd.cgroups.v1.Metrics` (containerd/cgroups
/// `stats/v1/metrics.proto`, generated in TetherAPI): pids, cpu (usage total/kernel/user/per cpu, throttling),
/// memory (memory.stat, usage/swap/kernel entries), the OOM control counters, hugetlb and blkio.
enum CgroupMetrics {
    /// The metrics packed as containerd's typeurl does: the bare type name as the type URL.
    static func any(_ stats: ContainerStats) throws -> Google_Protobuf_Any {
        if let unified = stats.unified { return try Google_Protobuf_Any(containerd: v2(stats, unified)) }
        return try Google_Protobuf_Any(containerd: v1(stats))
    }

    static func v1(_ stats: ContainerStats) -> Io_Containerd_Cgroups_V1_Metrics {
        Io_Containerd_Cgroups_V1_Metrics.with {
            $0.pids = .with {
                $0.current = stats.pids.current
                $0.limit = stats.pids.limit
            }
            $0.cpu = .with {
                $0.usage = .with {
                    $0.total = stats.cpu.usage.total
                    $0.kernel = stats.cpu.usage.kernel
                    $0.user = stats.cpu.usage.user
                    $0.perCpu = stats.cpu.usage.percpu ?? []
                }
                $0.throttling = .with {
                    $0.periods = stats.cpu.throttling.periods
                    $0.throttledPeriods = stats.cpu.throttling.throttledPeriods
                    $0.throttledTime = stats.cpu.throttling.throttledTime
                }
            }
            $0.memory = memory(stats.memory)
            $0.memoryOomControl = .with {
                $0.oomKillDisable = stats.memory.oomKillDisable ? 1 : 0
                $0.underOom = stats.memory.underOOM ? 1 : 0
                $0.oomKill = stats.memory.oomKills
            }
            $0.hugetlb = stats.hugetlb.keys.sorted().map { size in
                .with {
                    $0.usage = stats.hugetlb[size]?.usage ?? 0
                    $0.max = stats.hugetlb[size]?.max ?? 0
                    $0.failcnt = stats.hugetlb[size]?.failcnt ?? 0
                    $0.pagesize = size
                }
            }
            if !stats.blkio.ioServiceBytesRecursive.isEmpty || !stats.blkio.ioServicedRecursive.isEmpty {
                $0.blkio = .with {
                    $0.ioServiceBytesRecursive = stats.blkio.ioServiceBytesRecursive.map(blkioEntry)
                    $0.ioServicedRecursive = stats.blkio.ioServicedRecursive.map(blkioEntry)
                }
            }
        }
    }

    /// memory.stat's keys (and their total_ forms) as containerd/cgroups v1 `memoryController.Stat` reads them.
    private static func memory(_ memory: ContainerStats.Memory) -> Io_Containerd_Cgroups_V1_MemoryStat {
        let stat = memory.raw
        func entry(_ entry: ContainerStats.MemoryEntry) -> Io_Containerd_Cgroups_V1_MemoryEntry {
            .with {
                $0.limit = entry.limit
                $0.usage = entry.usage
                $0.max = entry.max
                $0.failcnt = entry.failcnt
            }
        }
        return .with {
            $0.cache = stat["cache"] ?? 0
            $0.rss = stat["rss"] ?? 0
            $0.rssHuge = stat["rss_huge"] ?? 0
            $0.mappedFile = stat["mapped_file"] ?? 0
            $0.dirty = stat["dirty"] ?? 0
            $0.writeback = stat["writeback"] ?? 0
            $0.pgPgIn = stat["pgpgin"] ?? 0
            $0.pgPgOut = stat["pgpgout"] ?? 0
            $0.pgFault = stat["pgfault"] ?? 0
            $0.pgMajFault = stat["pgmajfault"] ?? 0
            $0.inactiveAnon = stat["inactive_anon"] ?? 0
            $0.activeAnon = stat["active_anon"] ?? 0
            $0.inactiveFile = stat["inactive_file"] ?? 0
            $0.activeFile = stat["active_file"] ?? 0
            $0.unevictable = stat["unevictable"] ?? 0
            $0.hierarchicalMemoryLimit = stat["hierarchical_memory_limit"] ?? 0
            $0.hierarchicalSwapLimit = stat["hierarchical_memsw_limit"] ?? 0
            $0.totalCache = stat["total_cache"] ?? 0
            $0.totalRss = stat["total_rss"] ?? 0
            $0.totalRssHuge = stat["total_rss_huge"] ?? 0
            $0.totalMappedFile = stat["total_mapped_file"] ?? 0
            $0.totalDirty = stat["total_dirty"] ?? 0
            $0.totalWriteback = stat["total_writeback"] ?? 0
            $0.totalPgPgIn = stat["total_pgpgin"] ?? 0
            $0.totalPgPgOut = stat["total_pgpgout"] ?? 0
            $0.totalPgFault = stat["total_pgfault"] ?? 0
            $0.totalPgMajFault = stat["total_pgmajfault"] ?? 0
            $0.totalInactiveAnon = stat["total_inactive_anon"] ?? 0
            $0.totalActiveAnon = stat["total_active_anon"] ?? 0
            $0.totalInactiveFile = stat["total_inactive_file"] ?? 0
            $0.totalActiveFile = stat["total_active_file"] ?? 0
            $0.totalUnevictable = stat["total_unevictable"] ?? 0
            $0.usage = entry(memory.usage)
            $0.swap = entry(memory.swap)
            $0.kernel = entry(memory.kernel)
            $0.kernelTcp = entry(memory.kernelTCP)
        }
    }

    private static func blkioEntry(_ entry: ContainerStats.BlkioEntry) -> Io_Containerd_Cgroups_V1_BlkIOEntry {
        .with {
            $0.op = entry.op
            $0.major = entry.major
            $0.minor = entry.minor
            $0.value = entry.value
        }
    }
}
