#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Testing
import TetherAPI
import TetherSystem
@testable import TetherRuntime
@testable import TetherShim

/// Stats on cgroup v1: fake controller directories read by the runtime library (ControlGroupSet.stats) and encoded
/// by the shim (CgroupMetrics.any), decoded back with the generated io.containerd.cgroups.v1 types, the ones
/// containerd's `ctr task metrics` reads.
@Suite("cgroup v1 metrics")
struct CgroupMetricsV1Tests {
    /// memory.stat keys in io.containerd.cgroups.v1.MemoryStat's field order (fields 1 to 17; 18 to 32 are total_ ones).
    static let memoryStatKeys = [
        "cache", "rss", "rss_huge", "mapped_file", "dirty", "writeback", "pgpgin", "pgpgout", "pgfault", "pgmajfault",
        "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable", "hierarchical_memory_limit",
        "hierarchical_memsw_limit",
    ]

    @Test("pids, cpuacct, cpu throttling, memory.stat, the memory entries and oom_control land in their v1 fields")
    func controllerFiles() throws {
        var memoryStat = ""
        for (index, key) in Self.memoryStatKeys.enumerated() {
            memoryStat += "\(key) \(1000 + index)\n"
            if index < 15 { memoryStat += "total_\(key) \(2000 + index)\n" }
        }
        let memory = try FakeCgroup.make([
            "memory.stat": memoryStat,
            "memory.usage_in_bytes": "4096000\n", "memory.limit_in_bytes": "67108864\n",
            "memory.max_usage_in_bytes": "5000000\n", "memory.failcnt": "3\n",
            "memory.memsw.usage_in_bytes": "4100000\n", "memory.memsw.limit_in_bytes": "134217728\n",
            "memory.kmem.usage_in_bytes": "700000\n", "memory.kmem.tcp.usage_in_bytes": "8192\n",
            "memory.oom_control": "oom_kill_disable 1\nunder_oom 0\noom_kill 2\n",
        ])
        let cpu = try FakeCgroup.make([
            "cpuacct.usage": "123456789\n", "cpuacct.usage_percpu": "100000000 23456789 \n",
            "cpuacct.stat": "user 7\nsystem 3\n",
            "cpu.stat": "nr_periods 40\nnr_throttled 5\nthrottled_time 987654\n",
        ])
        let pids = try FakeCgroup.make(["pids.current": "3\n", "pids.max": "64\n"])
        let stats = ControlGroupSet(paths: ["memory": memory.path, "cpu,cpuacct": cpu.path, "pids": pids.path]).stats()

        let any = try CgroupMetrics.any(stats)
        #expect(any.typeURL == "io.containerd.cgroups.v1.Metrics")
        let metrics = try Io_Containerd_Cgroups_V1_Metrics(serializedBytes: Array(any.value))
        #expect(metrics.pids.current == 3 && metrics.pids.limit == 64)
        #expect(metrics.cpu.usage.total == 123_456_789)
        #expect(metrics.cpu.usage.perCpu == [100_000_000, 23_456_789])
        let nanosPerTick = UInt64(1_000_000_000) / UInt64(sysconf(Int32(_SC_CLK_TCK)))
        #expect(metrics.cpu.usage.user == 7 * nanosPerTick && metrics.cpu.usage.kernel == 3 * nanosPerTick)
        #expect(metrics.cpu.throttling.periods == 40 && metrics.cpu.throttling.throttledPeriods == 5
                    && metrics.cpu.throttling.throttledTime == 987_654)
        let stat = metrics.memory
        let values: [UInt64] = [stat.cache, stat.rss, stat.rssHuge, stat.mappedFile, stat.dirty, stat.writeback, stat.pgPgIn,
                                stat.pgPgOut, stat.pgFault, stat.pgMajFault, stat.inactiveAnon, stat.activeAnon,
                                stat.inactiveFile, stat.activeFile, stat.unevictable, stat.hierarchicalMemoryLimit,
                                stat.hierarchicalSwapLimit]
        #expect(values == (0..<17).map { 1000 + UInt64($0) })
        let totals: [UInt64] = [stat.totalCache, stat.totalRss, stat.totalRssHuge, stat.totalMappedFile, stat.totalDirty,
                                stat.totalWriteback, stat.totalPgPgIn, stat.totalPgPgOut, stat.totalPgFault,
                                stat.totalPgMajFault, stat.totalInactiveAnon, stat.totalActiveAnon, stat.totalInactiveFile,
                                stat.totalActiveFile, stat.totalUnevictable]
        #expect(totals == (0..<15).map { 2000 + UInt64($0) })
        #expect(stat.usage.usage == 4_096_000 && stat.usage.limit == 67_108_864 && stat.usage.max == 5_000_000
                    && stat.usage.failcnt == 3)
        #expect(stat.swap.usage == 4_100_000 && stat.swap.limit == 134_217_728)
        #expect(stat.kernel.usage == 700_000 && stat.kernelTcp.usage == 8192)
        #expect(metrics.memoryOomControl.oomKillDisable == 1 && metrics.memoryOomControl.underOom == 0
                    && metrics.memoryOomControl.oomKill == 2)
        #expect(!metrics.hasBlkio && metrics.hugetlb.isEmpty, "no blkio or hugetlb controller was given")
    }

    @Test("hugetlb page sizes and blkio entries, as containerd's v1 manager reports them")
    func hugetlbAndBlkio() throws {
        var stats = ContainerStats()
        stats.hugetlb = ["2MB": .init(usage: 4_194_304, max: 6_291_456, failcnt: 1), "1GB": .init(usage: 0, max: 0, failcnt: 0)]
        stats.blkio.ioServiceBytesRecursive = [.init(major: 8, minor: 0, op: "Read", value: 4096),
                                               .init(major: 8, minor: 0, op: "Write", value: 8192)]
        stats.blkio.ioServicedRecursive = [.init(major: 8, minor: 0, op: "Read", value: 1)]
        let metrics = try Io_Containerd_Cgroups_V1_Metrics(serializedBytes: Array(try CgroupMetrics.any(stats).value))
        #expect(metrics.hugetlb.map(\.pagesize) == ["1GB", "2MB"])
        #expect(metrics.hugetlb[1].usage == 4_194_304 && metrics.hugetlb[1].max == 6_291_456 && metrics.hugetlb[1].failcnt == 1)
        #expect(metrics.blkio.ioServiceBytesRecursive.map(\.value) == [4096, 8192])
        #expect(metrics.blkio.ioServiceBytesRecursive.map(\.op) == ["Read", "Write"])
        #expect(metrics.blkio.ioServicedRecursive.first?.major == 8 && metrics.blkio.ioServicedRecursive.first?.value == 1)
    }
}
