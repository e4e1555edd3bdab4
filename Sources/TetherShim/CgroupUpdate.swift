#if canImport(Glibc)
import Glibc
#endif
import OCISpec
import TetherSystem

/// Update: applies a `linux.resources` (JSON in the request's Any, as containerd sends it) to the task's
/// cgroup v1 controllers: memory (limit, reservation, swap), cpu (shares, quota, period), cpuset (cpus, mems),
/// pids (limit). Until the runtime library has an update of its own.
enum CgroupUpdate {
    static func apply(_ resources: Resources, pid: Int32) throws {
        guard let paths = CgroupMetrics.controllers(pid: pid) else {
            throw SyscallError("update: no cgroup v1 hierarchy for pid \(pid) (cgroup v2 update is not implemented yet)", errno: ENOTSUP)
        }
        func write(_ controller: String, _ file: String, _ value: String) throws {
            guard let directory = paths[controller] else {
                throw SyscallError("update: no \(controller) cgroup for pid \(pid)", errno: ENOENT)
            }
            let fd = try FileIO.open(directory + "/" + file, O_WRONLY | O_CLOEXEC)
            defer { FileIO.close(fd) }
            do {
                try FileIO.writeAll(fd, value)
            } catch {
                throw SyscallError("update: write \(value) to \(directory)/\(file)", errno: (error as? SyscallError)?.errno ?? EIO)
            }
        }
        if let memory = resources.memory {
            if let reservation = memory.reservation { try write("memory", "memory.soft_limit_in_bytes", String(reservation)) }
            // The memory+swap limit must stay at or above the memory limit: the order depends on the direction.
            var steps: [(String, Int64)] = []
            if let limit = memory.limit { steps.append(("memory.limit_in_bytes", limit)) }
            if let swap = memory.swap { steps.append(("memory.memsw.limit_in_bytes", swap)) }
            do {
                for (file, value) in steps { try write("memory", file, String(value)) }
            } catch {
                for (file, value) in steps.reversed() { try write("memory", file, String(value)) }
            }
        }
        if let cpu = resources.cpu {
            if let shares = cpu.shares, shares > 0 { try write("cpu", "cpu.shares", String(shares)) }
            if let period = cpu.period, period > 0 { try write("cpu", "cpu.cfs_period_us", String(period)) }
            if let quota = cpu.quota, quota != 0 { try write("cpu", "cpu.cfs_quota_us", String(quota)) }
            if let cpus = cpu.cpus, !cpus.isEmpty { try write("cpuset", "cpuset.cpus", cpus) }
            if let mems = cpu.mems, !mems.isEmpty { try write("cpuset", "cpuset.mems", mems) }
        }
        if let pids = resources.pids {
            try write("pids", "pids.max", pids.limit > 0 ? String(pids.limit) : "max")
        }
    }
}
