#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import TetherSystem

/// Out-of-memory notifications for a container's memory cgroup, as containerd's runc shim gets them:
/// cgroup v1: an eventfd registered on `memory.oom_control` through `cgroup.event_control` (the eventfd also
/// fires when the cgroup is removed: then the watch ends without an event); cgroup v2: the `oom_kill` count in
/// `memory.events`, polled on the shim's 1 s tick and when the container's processes exit.
final class OOMMonitor {
    private enum Watch {
        case v1(eventFD: Int32, controlFD: Int32, directory: String)
        case v2(eventsFile: String, lastCount: Int)
    }

    private unowned let loop: EventLoop
    private var watches: [String: Watch] = [:]
    private var handlers: [String: () -> Void] = [:]

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// The memory cgroup directory of `pid`: (directory, isV2).
    static func memoryCgroup(pid: Int32) -> (String, Bool)? {
        guard let text = try? FileIO.readText("/proc/\(pid)/cgroup") else { return nil }
        var unified: String?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[1].split(separator: ",").contains("memory") {
                return ("/sys/fs/cgroup/memory" + fields[2], false)
            }
            if fields[0] == "0" && fields[1].isEmpty { unified = String(fields[2]) }
        }
        if let unified, FileIO.exists("/sys/fs/cgroup/cgroup.controllers") {
            return ("/sys/fs/cgroup" + unified, true)
        }
        return nil
    }

    /// Starts watching the memory cgroup of `pid` for `id`; `onOOM` runs on the loop for every OOM event.
    func watch(id: String, pid: Int32, onOOM: @escaping () -> Void) throws {
        stop(id: id)
        guard let (directory, isV2) = OOMMonitor.memoryCgroup(pid: pid) else {
            throw SyscallError("oom: no memory cgroup for pid \(pid)", errno: ENOENT)
        }
        handlers[id] = onOOM
        if isV2 {
            let file = directory + "/memory.events"
            watches[id] = .v2(eventsFile: file, lastCount: OOMMonitor.oomKillCount(file) ?? 0)
            return
        }
        let eventFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard eventFD >= 0 else { throw SyscallError.current("oom: eventfd") }
        let controlFD = Glibc.open(directory + "/memory.oom_control", O_RDONLY | O_CLOEXEC)
        guard controlFD >= 0 else {
            let error = SyscallError.current("oom: open \(directory)/memory.oom_control")
            FileIO.close(eventFD)
            throw error
        }
        do {
            let control = try FileIO.open(directory + "/cgroup.event_control", O_WRONLY | O_CLOEXEC)
            defer { FileIO.close(control) }
            try FileIO.writeAll(control, "\(eventFD) \(controlFD)")
            watches[id] = .v1(eventFD: eventFD, controlFD: controlFD, directory: directory)
            try loop.register(eventFD, .readable) { [weak self] _ in self?.fired(id: id) }
        } catch {
            FileIO.close(eventFD)
            FileIO.close(controlFD)
            watches[id] = nil
            throw error
        }
    }

    private func fired(id: String) {
        guard case .v1(let eventFD, _, let directory) = watches[id] else { return }
        var count: UInt64 = 0
        _ = Glibc.read(eventFD, &count, 8)
        // The eventfd is also signalled when the cgroup goes away.
        if !FileIO.exists(directory + "/memory.oom_control") {
            stop(id: id)
            return
        }
        handlers[id]?()
    }

    /// cgroup v2: compares every watched `oom_kill` count with the last one seen.
    func poll() {
        for (id, watch) in watches {
            guard case .v2(let file, let last) = watch, let count = OOMMonitor.oomKillCount(file) else { continue }
            if count > last {
                watches[id] = .v2(eventsFile: file, lastCount: count)
                handlers[id]?()
            }
        }
    }

    static func oomKillCount(_ file: String) -> Int? {
        guard let text = try? FileIO.readText(file) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
            return Int(line.dropFirst("oom_kill ".count))
        }
        return nil
    }

    func stop(id: String) {
        if case .v1(let eventFD, let controlFD, _) = watches[id] {
            loop.unregister(eventFD)
            FileIO.close(eventFD)
            FileIO.close(controlFD)
        }
        watches[id] = nil
        handlers[id] = nil
    }
}
