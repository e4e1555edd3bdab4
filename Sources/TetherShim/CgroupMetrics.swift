#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// Stats: the container's cgroup v1 counters as containerd's `io.containerd.cgroups.v1.Metrics` (what the runc
/// shim puts in StatsResponse.stats), encoded by hand with the field numbers of containerd/cgroups
/// `stats/v1/metrics.proto`: the types are not generated in TetherAPI. pids, cpu (usage total/kernel/user/per
/// cpu, throttling), memory (memory.stat, usage/swap/kernel entries) and the OOM control counters.
enum CgroupMetrics {
    static let typeURL = "io.containerd.cgroups.v1.Metrics"

    /// The controller directories of `pid` (v1 only); nil when the process has no cgroup v1 hierarchy.
    static func controllers(pid: Int32) -> [String: String]? {
        guard let text = try? FileIO.readText("/proc/\(pid)/cgroup") else { return nil }
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, !fields[1].isEmpty else { continue }
            let names = fields[1].split(separator: ",").map(String.init)
            let mountName = fields[1].hasPrefix("name=") ? String(fields[1].dropFirst(5)) : names.joined(separator: ",")
            for name in names { result[name] = "/sys/fs/cgroup/\(mountName)\(fields[2])" }
        }
        return result.isEmpty ? nil : result
    }

    static func v1(pid: Int32) -> [UInt8]? {
        guard let paths = controllers(pid: pid) else { return nil }
        var metrics = ProtoWriter()
        if let pids = paths["pids"] {
            var stat = ProtoWriter()
            stat.uint64(1, number(pids + "/pids.current"))
            stat.uint64(2, number(pids + "/pids.max"))
            metrics.message(2, stat)
        }
        if let cpu = paths["cpuacct"] ?? paths["cpu"] {
            var usage = ProtoWriter()
            usage.uint64(1, number(cpu + "/cpuacct.usage"))
            let ticks = keyed(cpu + "/cpuacct.stat")
            let nanosPerTick = UInt64(1_000_000_000) / UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
            usage.uint64(2, (ticks["system"] ?? 0) * nanosPerTick)
            usage.uint64(3, (ticks["user"] ?? 0) * nanosPerTick)
            let perCPU = ((try? FileIO.readText(cpu + "/cpuacct.usage_percpu")) ?? "").split(whereSeparator: \.isWhitespace)
            usage.packed(4, perCPU.compactMap { UInt64($0) })
            var stat = ProtoWriter()
            stat.message(1, usage)
            let throttle = keyed((paths["cpu"] ?? cpu) + "/cpu.stat")
            var throttling = ProtoWriter()
            throttling.uint64(1, throttle["nr_periods"] ?? 0)
            throttling.uint64(2, throttle["nr_throttled"] ?? 0)
            throttling.uint64(3, throttle["throttled_time"] ?? 0)
            stat.message(2, throttling)
            metrics.message(3, stat)
        }
        if let memory = paths["memory"] {
            let values = keyed(memory + "/memory.stat")
            let names = ["cache", "rss", "rss_huge", "mapped_file", "dirty", "writeback", "pgpgin", "pgpgout", "pgfault",
                         "pgmajfault", "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable",
                         "hierarchical_memory_limit", "hierarchical_memsw_limit"]
            var stat = ProtoWriter()
            for (index, name) in names.enumerated() { stat.uint64(index + 1, values[name] ?? 0) }
            for (index, name) in names.prefix(15).enumerated() { stat.uint64(index + 18, values["total_" + name] ?? 0) }
            for (field, prefix) in [(33, "memory"), (34, "memory.memsw"), (35, "memory.kmem"), (36, "memory.kmem.tcp")] {
                var entry = ProtoWriter()
                entry.uint64(1, number("\(memory)/\(prefix).limit_in_bytes"))
                entry.uint64(2, number("\(memory)/\(prefix).usage_in_bytes"))
                entry.uint64(3, number("\(memory)/\(prefix).max_usage_in_bytes"))
                entry.uint64(4, number("\(memory)/\(prefix).failcnt"))
                stat.message(field, entry)
            }
            metrics.message(4, stat)
            let oom = keyed(memory + "/memory.oom_control")
            var control = ProtoWriter()
            control.uint64(1, oom["oom_kill_disable"] ?? 0)
            control.uint64(2, oom["under_oom"] ?? 0)
            control.uint64(3, oom["oom_kill"] ?? 0)
            metrics.message(9, control)
        }
        return metrics.bytes
    }

    static func number(_ path: String) -> UInt64 {
        let text = ((try? FileIO.readText(path)) ?? "").split(whereSeparator: \.isWhitespace).first ?? ""
        return UInt64(text) ?? 0  // "max" (no limit) reads as 0, as containerd reports it
    }

    /// "key value" lines.
    static func keyed(_ path: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in ((try? FileIO.readText(path)) ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { result[String(parts[0])] = value }
        }
        return result
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
