#if canImport(Glibc)
import Glibc
#endif
import TTRPC
import TetherAPI
import TetherSystem

/// What tetherd refuses at the door, whichever client sent the request (tetherctl checks most of it first, for a
/// message before any connection): a name outside docker's rule, a ROOTFS that is not an absolute path usable as
/// an overlay lower layer, less than docker's minimum memory, more CPUs than the host has.
extension Daemon {
    static func validate(_ request: Tether_Daemon_V1_RunRequest) throws {
        // An empty name is "none given": tetherd makes one (`c-<id prefix>`).
        if !request.name.isEmpty, let problem = ContainerName.problem(request.name) {
            throw TTRPCStatus(.invalidArgument, problem)
        }
        if let problem = ContainerInputs.rootfsProblem(request.rootfs) { throw TTRPCStatus(.invalidArgument, problem) }
        if request.memoryBytes != 0 && request.memoryBytes < ContainerInputs.minimumMemoryBytes {
            throw TTRPCStatus(.invalidArgument, ContainerInputs.minimumMemoryMessage)
        }
        if let problem = ContainerInputs.cpusProblem(nanoCPUs: request.nanoCpus, hostCPUs: hostCPUs) {
            throw TTRPCStatus(.invalidArgument, problem)
        }
    }

    /// The CPUs tetherd may run on (its affinity, `Cpus_allowed_list` in /proc/self/status, as the
    /// sched_getaffinity count docker uses), else the CPUs online.
    static let hostCPUs: Int = {
        let status = (try? FileIO.readText("/proc/self/status")) ?? ""
        if let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) {
            var count = 0
            for range in line.dropFirst("Cpus_allowed_list:".count).split(separator: ",") {
                let bounds = range.split(separator: "-").compactMap { Int($0.filter { !$0.isWhitespace }) }
                if bounds.count == 1 { count += 1 } else if bounds.count == 2, bounds[1] >= bounds[0] { count += bounds[1] - bounds[0] + 1 }
            }
            if count > 0 { return count }
        }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }()
}
