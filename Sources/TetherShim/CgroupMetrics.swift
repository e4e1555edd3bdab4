import FoundationEssentials
import SwiftProtobuf
import TetherAPI
import TetherRuntime

/// Stats: the container's cgroup counters (read by the runtime library, Runtime.stats) as what the runc shim
/// puts in StatsResponse.stats: `io.containerd.cgroups.v2.Metrics` when the container's cgroup is on the v2
/// unified hierarchy (CgroupMetricsV2), else `io.containerd.cgroups.v1.Metrics`, encoded here by hand with the
/// field numbers of containerd/cgroups `stats/v1/metrics.proto` (the v1 types are not generated in TetherAPI):
/// pids, cpu (usage total/kernel/user/per cpu, throttling), memory (memory.stat, usage/swap/kernel entries) and
/// the OOM control counters.
enum CgroupMetrics {
    static let typeURL = "io.containerd.cgroups.v1.Metrics"

    /// The metrics packed as containerd's typeurl does: the bare type name as the type URL.
    static func any(_ stats: ContainerStats) throws -> Google_Protobuf_Any {
        if let unified = stats.unified { return try Google_Protobuf_Any(containerd: v2(stats, unified)) }
        return Google_Protobuf_Any.with {
            $0.typeURL = typeURL
            $0.value = Data(v1(stats))
        }
    }

    static func v1(_ stats: ContainerStats) -> [UInt8] {
        var metrics = ProtoWriter()
        var pids = ProtoWriter()
        pids.uint64(1, stats.pids.current)
        pids.uint64(2, stats.pids.limit)
        metrics.message(2, pids)

        var usage = ProtoWriter()
        usage.uint64(1, stats.cpu.usage.total)
        usage.uint64(2, stats.cpu.usage.kernel)
        usage.uint64(3, stats.cpu.usage.user)
        usage.packed(4, stats.cpu.usage.percpu ?? [])
        var cpu = ProtoWriter()
        cpu.message(1, usage)
        var throttling = ProtoWriter()
        throttling.uint64(1, stats.cpu.throttling.periods)
        throttling.uint64(2, stats.cpu.throttling.throttledPeriods)
        throttling.uint64(3, stats.cpu.throttling.throttledTime)
        cpu.message(2, throttling)
        metrics.message(3, cpu)

        let values = stats.memory.raw
        let names = ["cache", "rss", "rss_huge", "mapped_file", "dirty", "writeback", "pgpgin", "pgpgout", "pgfault",
                     "pgmajfault", "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable",
                     "hierarchical_memory_limit", "hierarchical_memsw_limit"]
        var memory = ProtoWriter()
        for (index, name) in names.enumerated() { memory.uint64(index + 1, values[name] ?? 0) }
        for (index, name) in names.prefix(15).enumerated() { memory.uint64(index + 18, values["total_" + name] ?? 0) }
        for (field, entry) in [(33, stats.memory.usage), (34, stats.memory.swap), (35, stats.memory.kernel), (36, stats.memory.kernelTCP)] {
            var encoded = ProtoWriter()
            encoded.uint64(1, entry.limit)
            encoded.uint64(2, entry.usage)
            encoded.uint64(3, entry.max)
            encoded.uint64(4, entry.failcnt)
            memory.message(field, encoded)
        }
        metrics.message(4, memory)
        var control = ProtoWriter()
        control.uint64(1, stats.memory.oomKillDisable ? 1 : 0)
        control.uint64(2, stats.memory.underOOM ? 1 : 0)
        control.uint64(3, stats.memory.oomKills)
        metrics.message(9, control)
        return metrics.bytes
    }
}

/// Just enough protobuf encoding for the metrics: varint fields, packed varints, nested messages.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// A uint64 field (wire type 0); zero is the default and is left out, as proto3 does.
    mutating func uint64(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        varint(UInt64(field) << 3)
        varint(value)
    }

    mutating func lengthDelimited(_ field: Int, _ payload: [UInt8]) {
        varint(UInt64(field) << 3 | 2)
        varint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    mutating func message(_ field: Int, _ message: ProtoWriter) {
        lengthDelimited(field, message.bytes)
    }

    mutating func packed(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        var payload = ProtoWriter()
        for value in values { payload.varint(value) }
        lengthDelimited(field, payload.bytes)
    }
}
