#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Testing
import TetherAPI
import TetherRuntime
import TetherSystem
import TetherTestSupport
@testable import TetherShim

/// Stats on cgroup v2: a fake unified cgroup directory read by the runtime library (ContainerStats(cgroupV2Directory:))
/// and encoded by the shim (CgroupMetrics.any), decoded back with the generated io.containerd.cgroups.v2 types.
@Suite("cgroup v2 metrics")
struct CgroupMetricsV2Tests {
    /// memory.stat keys in io.containerd.cgroups.v2.MemoryStat's field order (fields 1 to 31).
    static let memoryStatKeys = [
        "anon", "file", "kernel_stack", "slab", "sock", "shmem", "file_mapped", "file_dirty", "file_writeback", "anon_thp",
        "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable", "slab_reclaimable",
        "slab_unreclaimable", "pgfault", "pgmajfault", "workingset_refault", "workingset_activate",
        "workingset_nodereclaim", "pgrefill", "pgscan", "pgsteal", "pgactivate", "pgdeactivate", "pglazyfree",
        "pglazyfreed", "thp_fault_alloc", "thp_collapse_alloc",
    ]

    func metrics(_ stats: ContainerStats) throws -> Io_Containerd_Cgroups_V2_Metrics {
        let any = try CgroupMetrics.any(stats)
        #expect(any.typeURL == "io.containerd.cgroups.v2.Metrics")
        return try Io_Containerd_Cgroups_V2_Metrics(serializedBytes: Array(any.value))
    }

    @Test("every file of a v2 cgroup lands in io.containerd.cgroups.v2.Metrics as containerd's runc shim fills it")
    func fullDirectory() throws {
        let memoryStat = Self.memoryStatKeys.enumerated().map { "\($1) \(1000 + $0)\n" }.joined() + "percpu 7\nzswap 9\n"
        let hasTwoMegabytePages = FileIO.exists("/sys/kernel/mm/hugepages/hugepages-2048kB")
        let directory = try FakeCgroup.make([
            "cpu.stat": "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\nnr_periods 10\nnr_throttled 2\nthrottled_usec 5000\n",
            "memory.current": "4096000\n",
            "memory.max": "max\n",
            "memory.swap.current": "8192\n",
            "memory.swap.max": "1048576\n",
            "memory.stat": memoryStat,
            "memory.events": "low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\n",
            "pids.current": "3\n",
            "pids.max": "max\n",
            "io.stat": "8:0 rbytes=1000 wbytes=2000 rios=3 wios=4 dbytes=0 dios=0\n253:1 rbytes=5 wbytes=6 rios=7 wios=8 dbytes=0 dios=0\n",
            "rdma.current": "mlx4_0 hca_handle=2 hca_object=2000\n",
            "rdma.max": "mlx4_0 hca_handle=max hca_object=4000\n",
            "hugetlb.2MB.current": "2097152\n",
            "hugetlb.2MB.max": "max\n",
            "hugetlb.2MB.events": "max 0\n",
        ])
        let stats = ContainerStats(cgroupV2Directory: directory.path)
        let metrics = try metrics(stats)

        #expect(metrics.hasPids && metrics.hasCpu && metrics.hasMemory && metrics.hasIo && metrics.hasRdma)
        #expect(metrics.pids.current == 3)
        #expect(metrics.pids.limit == UInt64.max, "pids.max \"max\" is UInt64.max, as containerd/cgroups reads it")
        #expect(metrics.cpu.usageUsec == 123456 && metrics.cpu.userUsec == 100000 && metrics.cpu.systemUsec == 23456)
        #expect(metrics.cpu.nrPeriods == 10 && metrics.cpu.nrThrottled == 2 && metrics.cpu.throttledUsec == 5000)

        let memory = metrics.memory
        let values: [UInt64] = [
            memory.anon, memory.file, memory.kernelStack, memory.slab, memory.sock, memory.shmem, memory.fileMapped,
            memory.fileDirty, memory.fileWriteback, memory.anonThp, memory.inactiveAnon, memory.activeAnon,
            memory.inactiveFile, memory.activeFile, memory.unevictable, memory.slabReclaimable, memory.slabUnreclaimable,
            memory.pgfault, memory.pgmajfault, memory.workingsetRefault, memory.workingsetActivate,
            memory.workingsetNodereclaim, memory.pgrefill, memory.pgscan, memory.pgsteal, memory.pgactivate,
            memory.pgdeactivate, memory.pglazyfree, memory.pglazyfreed, memory.thpFaultAlloc, memory.thpCollapseAlloc,
        ]
        #expect(values == (0..<31).map { UInt64(1000 + $0) })
        #expect(memory.usage == 4096000)
        #expect(memory.usageLimit == UInt64.max, "memory.max \"max\"")
        #expect(memory.swapUsage == 8192 && memory.swapLimit == 1048576, "swap alone, not added to memory as runc's shape does")
        #expect(memory.unknownFields.data.isEmpty)

        #expect(metrics.hasMemoryEvents)
        let events = metrics.memoryEvents
        #expect(events.low == 1 && events.high == 2 && events.max == 3 && events.oom == 4 && events.oomKill == 5)

        #expect(metrics.io.usage.map { [$0.major, $0.minor, $0.rbytes, $0.wbytes, $0.rios, $0.wios] }
                == [[8, 0, 1000, 2000, 3, 4], [253, 1, 5, 6, 7, 8]])

        #expect(metrics.rdma.current.map { "\($0.device) \($0.hcaHandles) \($0.hcaObjects)" } == ["mlx4_0 2 2000"])
        #expect(metrics.rdma.limit.map { "\($0.device) \($0.hcaHandles) \($0.hcaObjects)" } == ["mlx4_0 \(UInt32.max) 4000"])

        if hasTwoMegabytePages {
            #expect(metrics.hugetlb.map { "\($0.pagesize) \($0.current) \($0.max)" } == ["2MB 2097152 \(UInt64.max)"])
        }
    }

    @Test("limits given, no memory.events, no swap or rdma files: memory_events left out, zeros elsewhere")
    func sparseDirectory() throws {
        let directory = try FakeCgroup.make([
            "cpu.stat": "usage_usec 5\nuser_usec 3\nsystem_usec 2\n",
            "memory.current": "65536\n",
            "memory.max": "67108864\n",
            "pids.current": "1\n",
            "pids.max": "50\n",
        ])
        let metrics = try metrics(ContainerStats(cgroupV2Directory: directory.path))
        #expect(metrics.pids.current == 1 && metrics.pids.limit == 50)
        #expect(metrics.cpu.usageUsec == 5 && metrics.cpu.nrPeriods == 0)
        #expect(metrics.memory.usage == 65536 && metrics.memory.usageLimit == 67108864)
        #expect(metrics.memory.swapUsage == 0 && metrics.memory.swapLimit == 0)
        #expect(!metrics.hasMemoryEvents, "containerd/cgroups sets memory_events only when memory.events exists")
        #expect(metrics.hasIo && metrics.io.usage.isEmpty)
        #expect(metrics.hasRdma && metrics.rdma.current.isEmpty && metrics.rdma.limit.isEmpty)
    }

    @Test("the v2 values stay out of the runc-shaped JSON; v1 stats are still io.containerd.cgroups.v1.Metrics")
    func v1Unchanged() throws {
        let directory = try FakeCgroup.make(["pids.current": "2\n", "pids.max": "max\n"])
        let unified = ContainerStats(cgroupV2Directory: directory.path)
        #expect(unified.unified != nil && unified.pids.limit == 0, "runc's shape keeps \"max\" as 0")
        let json = String(decoding: try JSONEncoder().encode(unified), as: UTF8.self)
        #expect(!json.contains("unified"))
        #expect(try JSONDecoder().decode(ContainerStats.self, from: Data(json.utf8)).unified == nil)

        var v1 = ContainerStats()
        v1.pids.current = 4
        v1.pids.limit = 100
        let any = try CgroupMetrics.any(v1)
        #expect(any.typeURL == "io.containerd.cgroups.v1.Metrics")
        let decoded = try Io_Containerd_Cgroups_V1_Metrics(serializedBytes: Array(any.value))
        #expect(decoded.pids.current == 4 && decoded.pids.limit == 100)
    }
}
