#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import TetherSystem

/// Out-of-memory events of one memory cgroup, without threads: the owner polls `pollDescriptor` and calls
/// `collect()` when it is readable (or on a timer where there is none), as runc's NotifyOOM and containerd's shim do.
/// - v1: an eventfd registered on `memory.oom_control` through `cgroup.event_control`. The kernel signals it on
///   every OOM and once more when the cgroup is removed (then `isGone` turns true and that signal is not counted).
/// - v2: the `oom_kill` counter in `memory.events`, compared with the last value seen; an inotify watch on that
///   file (the kernel notifies every change of it, as runc's fs2 OOM watch uses) is the descriptor. A timer alone
///   misses the OOM that kills a container's init: whoever reaps it removes the cgroup, counter included, within
///   milliseconds.
public final class OOMNotifier {
    private enum Source {
        case v1(eventFD: Int32, controlFD: Int32, directory: String)
        case v2(eventsFile: String, lastCount: UInt64, inotifyFD: Int32?)
    }

    private var source: Source
    /// The cgroup went away (the container was deleted).
    public private(set) var isGone = false

    /// An fd that polls readable when there is something to collect; nil where inotify failed (v2: use a timer).
    public var pollDescriptor: Int32? {
        switch source {
        case .v1(let eventFD, _, _): return eventFD
        case .v2(_, _, let inotifyFD): return inotifyFD
        }
    }

    /// Watches the memory cgroup at `directory`.
    public init(memoryDirectory directory: String, isV2: Bool) throws {
        if isV2 {
            let file = directory + "/memory.events"
            guard FileIO.exists(file) else {
                throw RuntimeError(.unsupported, "\(file) does not exist (memory controller not enabled)", stage: "oom")
            }
            source = .v2(eventsFile: file, lastCount: OOMNotifier.oomKillCount(file) ?? 0, inotifyFD: OOMNotifier.watch(file))
            return
        }
        let eventFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard eventFD >= 0 else { throw RuntimeError.system(.current("eventfd"), stage: "oom") }
        let controlFD = Glibc.open(directory + "/memory.oom_control", O_RDONLY | O_CLOEXEC)
        guard controlFD >= 0 else {
            let error = SyscallError.current("open \(directory)/memory.oom_control")
            FileIO.close(eventFD)
            throw RuntimeError.system(error, stage: "oom")
        }
        do {
            try ControlGroupFile.write(directory, "cgroup.event_control", "\(eventFD) \(controlFD)")
        } catch {
            FileIO.close(eventFD)
            FileIO.close(controlFD)
            throw error
        }
        source = .v1(eventFD: eventFD, controlFD: controlFD, directory: directory)
    }

    deinit {
        switch source {
        case .v1(let eventFD, let controlFD, _):
            FileIO.close(eventFD)
            FileIO.close(controlFD)
        case .v2(_, _, let inotifyFD):
            if let inotifyFD { FileIO.close(inotifyFD) }
        }
    }

    /// The number of OOM events since the last call (0 if none). Never blocks.
    public func collect() -> UInt64 {
        switch source {
        case .v1(let eventFD, _, let directory):
            var count: UInt64 = 0
            guard Glibc.read(eventFD, &count, 8) == 8 else { return 0 }
            if !isGone && !FileIO.exists(directory + "/memory.oom_control") {
                isGone = true
                count -= min(count, 1)
            }
            return count
        case .v2(let file, let last, let inotifyFD):
            if let inotifyFD {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while Glibc.read(inotifyFD, &buffer, buffer.count) > 0 {}
            }
            guard let count = OOMNotifier.oomKillCount(file) else {
                isGone = true
                return 0
            }
            source = .v2(eventsFile: file, lastCount: count, inotifyFD: inotifyFD)
            return count > last ? count - last : 0
        }
    }

    /// A non-blocking inotify descriptor that turns readable when `file` changes (or goes away); nil if refused.
    private static func watch(_ file: String) -> Int32? {
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return nil }
        guard inotify_add_watch(fd, file, UInt32(IN_MODIFY | IN_DELETE_SELF)) >= 0 else {
            FileIO.close(fd)
            return nil
        }
        return fd
    }

    static func oomKillCount(_ file: String) -> UInt64? {
        guard let text = try? FileIO.readText(file) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
            return UInt64(line.dropFirst("oom_kill ".count))
        }
        return 0
    }
}
