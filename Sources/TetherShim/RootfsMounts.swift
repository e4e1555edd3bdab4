#if canImport(Glibc)
import Glibc
#endif
import TTRPC
import TetherAPI
import TetherRuntime
import TetherSystem

/// Mounts a Create request's rootfs mounts onto `<bundle>/rootfs`, as containerd's runc shim does
/// (`ctr run --rootfs DIR` sends none; snapshotters send overlay or bind mounts). Their options are read by the
/// runtime's MountOptions, runc's and containerd's table.
enum RootfsMounts {
    /// - Returns: true when something was mounted (and must be unmounted on delete).
    static func mount(_ mounts: [Containerd_Types_Mount], at target: String) throws -> Bool {
        if mounts.isEmpty { return false }
        try? FileIO.makeDirectories(target)
        var mounted: [String] = []
        for (index, entry) in mounts.enumerated() {
            let options = MountOptions(entry.options)
            let type = entry.type == "bind" ? "none" : entry.type
            let data = options.dataString
            var result = Glibc.mount(entry.source, target, type, options.flags, data.isEmpty ? nil : data)
            var call = "mount \(entry.source) on \(target)"
            if result == 0 {
                mounted.append(target)
                // As containerd's mount.Mount: propagation changes next, then the read-only remount of a bind.
                for flag in options.propagation where result == 0 {
                    result = Glibc.mount("", target, nil, flag, nil)
                    call = "set the propagation of \(target)"
                }
                if result == 0, options.isReadOnlyBind {
                    result = Glibc.mount("", target, nil, options.flags | UInt(MS_REMOUNT), nil)
                    call = "remount \(target) read-only"
                }
            }
            if result != 0 {
                let error = SyscallError.current(call)
                for path in mounted.reversed() { unmount(path) }
                throw TTRPCStatus(.invalidArgument, "rootfs[\(index)]: \(error)")
            }
        }
        return true
    }

    static func unmount(_ target: String) {
        while umount2(target, Int32(MNT_DETACH)) == 0 {}
    }
}
