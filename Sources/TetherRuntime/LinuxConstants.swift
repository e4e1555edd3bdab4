/// Kernel constants the Glibc module imports awkwardly (as enums or not at all), spelled out once.
enum MountFlag {
    static let readOnly: UInt = 0x1
    static let noSuid: UInt = 0x2
    static let noDev: UInt = 0x4
    static let noExec: UInt = 0x8
    static let synchronous: UInt = 0x10
    static let remount: UInt = 0x20
    static let mandLock: UInt = 0x40
    static let dirSync: UInt = 0x80
    static let noSymFollow: UInt = 0x100
    static let noAtime: UInt = 0x400
    static let noDirAtime: UInt = 0x800
    static let bind: UInt = 0x1000
    static let move: UInt = 0x2000
    static let recursive: UInt = 0x4000
    static let unbindable: UInt = 0x20000
    static let `private`: UInt = 0x40000
    static let slave: UInt = 0x80000
    static let shared: UInt = 0x100000
    static let relatime: UInt = 0x200000
    static let strictAtime: UInt = 0x1000000
    static let detach: Int32 = 0x2   // umount2 MNT_DETACH

    static let propagationMask: UInt = unbindable | `private` | slave | shared
}

enum CloneFlag {
    static let newTime: UInt = 0x80
    static let parent: UInt = 0x8000
    static let newNS: UInt = 0x20000
    static let newCgroup: UInt = 0x0200_0000
    static let newUTS: UInt = 0x0400_0000
    static let newIPC: UInt = 0x0800_0000
    static let newUser: UInt = 0x1000_0000
    static let newPID: UInt = 0x2000_0000
    static let newNet: UInt = 0x4000_0000

    /// runtime-spec namespace type → CLONE_NEW* flag.
    static func forNamespace(_ type: String) -> UInt? {
        switch type {
        case "pid": return newPID
        case "network": return newNet
        case "mount": return newNS
        case "ipc": return newIPC
        case "uts": return newUTS
        case "user": return newUser
        case "cgroup": return newCgroup
        case "time": return newTime
        default: return nil
        }
    }

    /// The /proc/<pid>/ns/<name> entry for a runtime-spec namespace type.
    static func procName(_ type: String) -> String {
        switch type {
        case "network": return "net"
        case "mount": return "mnt"
        default: return type
        }
    }
}

/// runc's mount option table: flags to set, flags to clear, propagation flags; anything else is fs data.
struct MountOptions {
    var flags: UInt = 0
    var propagation: [UInt] = []
    var data: [String] = []

    init(_ options: [String]) {
        for option in options {
            if let (clear, flag) = MountOptions.table[option] {
                if clear { flags &= ~flag } else { flags |= flag }
            } else if let flag = MountOptions.propagationTable[option] {
                propagation.append(flag)
            } else {
                data.append(option)
            }
        }
    }

    var dataString: String { data.joined(separator: ",") }

    static let table: [String: (Bool, UInt)] = [
        "async": (true, MountFlag.synchronous), "atime": (true, MountFlag.noAtime), "bind": (false, MountFlag.bind),
        "defaults": (false, 0), "dev": (true, MountFlag.noDev), "diratime": (true, MountFlag.noDirAtime),
        "dirsync": (false, MountFlag.dirSync), "exec": (true, MountFlag.noExec), "mand": (false, MountFlag.mandLock),
        "noatime": (false, MountFlag.noAtime), "nodev": (false, MountFlag.noDev),
        "nodiratime": (false, MountFlag.noDirAtime), "noexec": (false, MountFlag.noExec),
        "nomand": (true, MountFlag.mandLock), "norelatime": (true, MountFlag.relatime),
        "nostrictatime": (true, MountFlag.strictAtime), "nosuid": (false, MountFlag.noSuid),
        "nosymfollow": (false, MountFlag.noSymFollow), "rbind": (false, MountFlag.bind | MountFlag.recursive),
        "relatime": (false, MountFlag.relatime), "remount": (false, MountFlag.remount), "ro": (false, MountFlag.readOnly),
        "rw": (true, MountFlag.readOnly), "strictatime": (false, MountFlag.strictAtime), "suid": (true, MountFlag.noSuid),
        "sync": (false, MountFlag.synchronous), "symfollow": (true, MountFlag.noSymFollow),
    ]

    static let propagationTable: [String: UInt] = [
        "private": MountFlag.private, "shared": MountFlag.shared, "slave": MountFlag.slave,
        "unbindable": MountFlag.unbindable,
        "rprivate": MountFlag.private | MountFlag.recursive, "rshared": MountFlag.shared | MountFlag.recursive,
        "rslave": MountFlag.slave | MountFlag.recursive, "runbindable": MountFlag.unbindable | MountFlag.recursive,
    ]
}

enum ResourceLimit {
    static let numbers: [String: Int32] = [
        "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4, "RLIMIT_RSS": 5,
        "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9, "RLIMIT_LOCKS": 10,
        "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13, "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
    ]
}
