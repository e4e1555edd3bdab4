#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import TetherSystem

/// Out-of-memory events of one memory cgroup, without threads: the owner polls `pollDescriptor` (cgroup v1)
/// or calls `collect()` on a timer (cgroup v2), as runc's NotifyOOM and containerd's shim do.
/// - v1: an eventfd registered on `memory.oom_control` through `cgroup.event_control`. The kernel signals it on
///   every OOM and once more when the cgroup is removed (then `isGone` turns true and that signal is not counted).
/// - v2: the `oom_kill` counter in `memory.events`, compared with the last value seen.
public final class OOMNotifier {
    private enum Source {
        case v1(eventFD: Int32, controlFD: Int32, directory: String)
        case v2(eventsFile: String, lastCount: UInt64)
    }

    private var source: Source
    /// The cgroup went away (the container was deleted).
    public private(set) var isGone = false

    /// v1: an fd that polls readable when there is something to collect; nil on v2 (poll on a timer).
    public var pollDescriptor: Int32? {
        if case .v1(let eventFD, _, _) = source { return eventFD }
        return nil
    }

    /// Watches the memory cgroup at `directory`.
    public init(memoryDirectory directory: String, isV2: Bool) throws {
        if isV2 {
            let file = directory + "/memory.events"
            guard FileIO.exists(file) else {
                throw RuntimeError(.unsupported, "\(file) does not exist (memory controller not enabled)", stage: "oom")
            }
            source = .v2(eventsFile: file, lastCount: OOMNotifier.oomKillCount(file) ?? 0)
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
        if case .v1(let eventFD, let controlFD, _) = source {
            FileIO.close(eventFD)
            FileIO.close(controlFD)
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
        case .v2(let file, let last):
            guard let count = OOMNotifier.oomKillCount(file) else {
                isGone = true
                return 0
            }
            source = .v2(eventsFile: file, lastCount: count)
            return count > last ? count - last : 0
        }
    }

    static func oomKillCount(_ file: String) -> UInt64? {
        guard let text = try? FileIO.readText(file) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
            return UInt64(line.dropFirst("oom_kill ".count))
        }
        return 0
    }
}
