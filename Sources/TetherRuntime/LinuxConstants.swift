import OCISpec

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
    static func forNamespace(_ type: NamespaceType) -> UInt? {
        switch type {
        case .pid: return newPID
        case .network: return newNet
        case .mount: return newNS
        case .ipc: return newIPC
        case .uts: return newUTS
        case .user: return newUser
        case .cgroup: return newCgroup
        case .time: return newTime
        default: return nil
        }
    }

    /// The /proc/<pid>/ns/<name> entry for a runtime-spec namespace type.
    static func procName(_ type: NamespaceType) -> String {
        switch type {
        case .network: return "net"
        case .mount: return "mnt"
        default: return type.rawValue
        }
    }
}

/// runc's mount option table: flags to set, flags to clear, propagation flags; anything else is fs data.
/// Options apply in order, so a later `suid`, `dev`, `exec` or `rw` clears what an earlier `nosuid`, `nodev`,
/// `noexec` or `ro` set. The runtime's mounts and the shim's rootfs mounts (containerd's) both read them here.
public struct MountOptions: Equatable, Sendable {
    /// MS_* flags for mount(2), propagation excluded.
    public private(set) var flags: UInt = 0
    /// Propagation changes (MS_PRIVATE, MS_SHARED|MS_REC, ...), each a mount(2) call of its own after the mount.
    public private(set) var propagation: [UInt] = []
    /// The filesystem's own options (lowerdir=..., size=..., mode=...), in the order given.
    public private(set) var data: [String] = []

    public init(_ options: [String]) {
        for option in options {
            if let (clear, flag) = MountOptions.flag(named: option) {
                if clear { flags &= ~flag } else { flags |= flag }
            } else if let flag = MountOptions.propagation(named: option) {
                propagation.append(flag)
            } else {
                data.append(option)
            }
        }
    }

    /// The data argument of mount(2): the filesystem options joined by commas.
    public var dataString: String { data.joined(separator: ",") }

    /// A read-only bind mount: the kernel ignores MS_RDONLY on the bind itself, so it takes a remount.
    public var isReadOnlyBind: Bool { flags & (MountFlag.bind | MountFlag.readOnly) == MountFlag.bind | MountFlag.readOnly }

    // Switches rather than dictionaries: the container init reads these once, and building a dictionary
    // (generic metadata, hashing every key) cost it time on the way to `ready`.

    /// The mount flag an option sets (clear: false) or clears (clear: true); nil when it is not a flag.
    static func flag(named option: String) -> (clear: Bool, flag: UInt)? {
        switch option {
        case "async": (true, MountFlag.synchronous)
        case "atime": (true, MountFlag.noAtime)
        case "bind": (false, MountFlag.bind)
        case "defaults": (false, 0)
        case "dev": (true, MountFlag.noDev)
        case "diratime": (true, MountFlag.noDirAtime)
        case "dirsync": (false, MountFlag.dirSync)
        case "exec": (true, MountFlag.noExec)
        case "mand": (false, MountFlag.mandLock)
        case "noatime": (false, MountFlag.noAtime)
        case "nodev": (false, MountFlag.noDev)
        case "nodiratime": (false, MountFlag.noDirAtime)
        case "noexec": (false, MountFlag.noExec)
        case "nomand": (true, MountFlag.mandLock)
        case "norelatime": (true, MountFlag.relatime)
        case "nostrictatime": (true, MountFlag.strictAtime)
        case "nosuid": (false, MountFlag.noSuid)
        case "nosymfollow": (false, MountFlag.noSymFollow)
        case "rbind": (false, MountFlag.bind | MountFlag.recursive)
        case "relatime": (false, MountFlag.relatime)
        case "remount": (false, MountFlag.remount)
        case "ro": (false, MountFlag.readOnly)
        case "rw": (true, MountFlag.readOnly)
        case "strictatime": (false, MountFlag.strictAtime)
        case "suid": (true, MountFlag.noSuid)
        case "sync": (false, MountFlag.synchronous)
        case "symfollow": (true, MountFlag.noSymFollow)
        default: nil
        }
    }

    /// The propagation flags of a propagation option (private, rshared, ...); nil for anything else.
    static func propagation(named option: String) -> UInt? {
        switch option {
        case "private": MountFlag.private
        case "shared": MountFlag.shared
        case "slave": MountFlag.slave
        case "unbindable": MountFlag.unbindable
        case "rprivate": MountFlag.private | MountFlag.recursive
        case "rshared": MountFlag.shared | MountFlag.recursive
        case "rslave": MountFlag.slave | MountFlag.recursive
        case "runbindable": MountFlag.unbindable | MountFlag.recursive
        default: nil
        }
    }
}

enum ResourceLimit {
    /// RLIMIT_* names in kernel order: a name's index is its number (an array: the container init looks names
    /// up once, and a dictionary's setup cost more than the search).
    static let names = [
        "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC",
        "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
    ]

    static func number(of name: String) -> Int32? {
        names.firstIndex(of: name).map { Int32($0) }
    }
}
