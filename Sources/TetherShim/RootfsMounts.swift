#if canImport(Glibc)
import Glibc
#endif
import TTRPC
import TetherAPI
import TetherSystem

/// Mounts a Create request's rootfs mounts onto `<bundle>/rootfs`, as containerd's runc shim does
/// (`ctr run --rootfs DIR` sends none; snapshotters send overlay or bind mounts).
enum RootfsMounts {
    /// - Returns: true when something was mounted (and must be unmounted on delete).
    static func mount(_ mounts: [Containerd_Types_Mount], at target: String) throws -> Bool {
        if mounts.isEmpty { return false }
        try? FileIO.makeDirectories(target)
        var mounted: [String] = []
        for (index, entry) in mounts.enumerated() {
            let (flags, data) = parse(entry.options)
            let type = entry.type == "bind" ? "none" : entry.type
            let result = Glibc.mount(entry.source, target, type, flags, data.isEmpty ? nil : data)
            if result != 0 {
                let error = SyscallError.current("mount \(entry.source) on \(target)")
                for path in mounted.reversed() { unmount(path) }
                throw TTRPCStatus(.invalidArgument, "rootfs[\(index)]: \(error)")
            }
            if flags & UInt(MS_RDONLY) != 0 && flags & UInt(MS_BIND) != 0 {
                _ = Glibc.mount("", target, nil, flags | UInt(MS_REMOUNT), nil)
            }
            mounted.append(target)
        }
        return true
    }

    static func unmount(_ target: String) {
        while umount2(target, Int32(MNT_DETACH)) == 0 {}
    }

    /// Splits mount(8)-style options into flags and the filesystem's data string.
    static func parse(_ options: [String]) -> (UInt, String) {
        var flags: UInt = 0
        var data: [String] = []
        for option in options {
            switch option {
            case "ro": flags |= UInt(MS_RDONLY)
            case "rw": flags &= ~UInt(MS_RDONLY)
            case "bind": flags |= UInt(MS_BIND)
            case "rbind": flags |= UInt(MS_BIND) | UInt(MS_REC)
            case "nosuid": flags |= UInt(MS_NOSUID)
            case "nodev": flags |= UInt(MS_NODEV)
            case "noexec": flags |= UInt(MS_NOEXEC)
            case "sync": flags |= UInt(MS_SYNCHRONOUS)
            case "noatime": flags |= UInt(MS_NOATIME)
            case "relatime": flags |= UInt(MS_RELATIME)
            case "defaults", "suid", "dev", "exec", "async", "atime": break
            default: data.append(option)
            }
        }
        return (flags, data.joined(separator: ","))
    }
}
