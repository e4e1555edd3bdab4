#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import OCISpec
import TetherSystem

/// The two namespaces a process cannot enter itself, only hand to its next child: a pid namespace joined by path
/// (setns moves `pid_for_children`) and a new time namespace (unshare moves `time_for_children`, whose offsets
/// must be written before any process is in it; `clone` cannot take CLONE_NEWTIME). The caller switches its
/// namespaces for children just before cloning the init and restores its own right after, so the shim's later
/// containers and execs are not affected.
struct ChildNamespaces {
    private var savedPid: Int32 = -1
    private var savedTime: Int32 = -1

    /// Whether create must go through this switch for `namespaces`.
    static func needed(_ namespaces: [Linux.Namespace]) -> Bool {
        namespaces.contains { ($0.type == .pid && $0.path != nil) || ($0.type == .time && $0.path == nil) }
    }

    /// Points the caller's next child at the joined pid namespace and/or a new time namespace with `offsets`.
    static func enter(_ namespaces: [Linux.Namespace], timeOffsets: [String: Linux.TimeOffset]?) throws -> ChildNamespaces {
        var switched = ChildNamespaces()
        do {
            if let index = namespaces.firstIndex(where: { $0.type == .pid && $0.path != nil }), let path = namespaces[index].path {
                switched.savedPid = try FileIO.open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)
                let target = try FileIO.open(path, O_RDONLY | O_CLOEXEC)
                defer { FileIO.close(target) }
                try sys("setns \(path) (linux.namespaces[\(index)].path)") { tether_setns(target, Int32(CloneFlag.newPID)) }
            }
            if namespaces.contains(where: { $0.type == .time && $0.path == nil }) {
                switched.savedTime = try FileIO.open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC)
                try sys("unshare CLONE_NEWTIME") { tether_unshare(Int32(CloneFlag.newTime)) }
                let lines = ChildNamespaces.offsetLines(timeOffsets ?? [:])
                if !lines.isEmpty {
                    try FileIO.writeFile("/proc/self/timens_offsets", lines, flags: O_WRONLY)
                }
            }
        } catch let error as SyscallError {
            switched.restore()
            throw RuntimeError.system(error, stage: "namespaces for the init")
        }
        return switched
    }

    /// `timens_offsets` lines ("monotonic SECS NANOSECS") for the clocks runtime-spec names.
    static func offsetLines(_ offsets: [String: Linux.TimeOffset]) -> String {
        offsets.sorted { $0.key < $1.key }.map { clock, offset in
            "\(clock) \(offset.secs ?? 0) \(offset.nanosecs ?? 0)\n"
        }.joined()
    }

    /// Gives the caller's children its own pid and time namespaces again.
    mutating func restore() {
        if savedPid >= 0 {
            _ = tether_setns(savedPid, Int32(CloneFlag.newPID))
            FileIO.close(savedPid)
            savedPid = -1
        }
        if savedTime >= 0 {
            _ = tether_setns(savedTime, Int32(CloneFlag.newTime))
            FileIO.close(savedTime)
            savedTime = -1
        }
    }
}
