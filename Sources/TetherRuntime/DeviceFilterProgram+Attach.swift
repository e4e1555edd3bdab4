#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import TetherSystem

/// Putting a device filter on a cgroup v2 directory, at create and at every update with device rules, as runc's
/// LoadAttachCgroupDeviceFilter (libcontainer/cgroups/ebpf) does. Programs are attached with BPF_F_ALLOW_MULTI,
/// under which an access must be allowed by every program on the cgroup: an old filter left in place would keep
/// denying what an update allows, so the new program takes the old one's place.
extension DeviceFilterProgram {
    /// Loads the program and makes it the only device filter attached to `directory` itself: a single filter
    /// already there (create's, or an earlier update's) is swapped for it in one step (BPF_F_REPLACE); otherwise
    /// (none, several, or a kernel before 5.6) the new one is attached first and the old ones detached after, so
    /// the cgroup is never without a filter.
    func attach(to directory: String) throws {
        let cgroup = try FileIO.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { FileIO.close(cgroup) }
        let program = try load()
        defer { FileIO.close(program) }
        let previous = try DeviceFilterProgram.attachedPrograms(cgroup, directory: directory)
        defer { previous.forEach { FileIO.close($0) } }
        if previous.count == 1, tether_bpf_replace_device_filter(cgroup, program, previous[0]) == 0 { return }
        try sys("bpf(BPF_PROG_ATTACH) device filter to \(directory)") { tether_bpf_attach_device_filter(cgroup, program) }
        for old in previous {
            try sys("bpf(BPF_PROG_DETACH) previous device filter from \(directory)") { tether_bpf_detach_device_filter(cgroup, old) }
        }
    }

    /// Loads the program into the kernel; a refusal names the verifier's last words.
    private func load() throws -> Int32 {
        let program = instructions.withUnsafeBytes { tether_bpf_load_device_filter($0.baseAddress, Int32(count), nil, 0) }
        if program >= 0 { return program }
        // Loaded again with the verifier's log, only to say why (a log too small for it fails with ENOSPC).
        let code = errno
        var log = [CChar](repeating: 0, count: 65536)
        let retry = instructions.withUnsafeBytes { tether_bpf_load_device_filter($0.baseAddress, Int32(count), &log, Int32(log.count)) }
        if retry >= 0 { FileIO.close(retry) }
        let verifier = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .split(separator: "\n").suffix(3).joined(separator: "; ")
        throw SyscallError("bpf(BPF_PROG_LOAD) device filter" + (verifier.isEmpty ? "" : " (\(verifier))"), errno: code)
    }

    /// Descriptors of the device programs attached to the cgroup itself (not those it inherits from its parents).
    /// A program detached between the query and the lookup (ENOENT) is skipped.
    static func attachedPrograms(_ cgroup: Int32, directory: String) throws -> [Int32] {
        var ids = [UInt32](repeating: 0, count: 64)
        let found = try sys("bpf(BPF_PROG_QUERY) device filters of \(directory)") {
            tether_bpf_query_device_filters(cgroup, &ids, UInt32(ids.count))
        }
        var descriptors: [Int32] = []
        for id in ids.prefix(Int(found)) {
            let fd = tether_bpf_program_fd(id)
            if fd >= 0 {
                descriptors.append(fd)
            } else if errno != ENOENT {
                let error = SyscallError.current("bpf(BPF_PROG_GET_FD_BY_ID) device filter \(id) of \(directory)")
                descriptors.forEach { FileIO.close($0) }
                throw error
            }
        }
        return descriptors
    }
}
