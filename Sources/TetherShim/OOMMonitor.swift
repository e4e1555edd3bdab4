#if canImport(Glibc)
import Glibc
#endif
import TetherRuntime
import TetherSystem

/// Out-of-memory notifications for the shim's containers, as containerd's runc shim publishes TaskOOM: each
/// container's watch is the runtime library's OOMNotifier (cgroup v1: an eventfd on `memory.oom_control`;
/// cgroup v2: the `oom_kill` count in `memory.events` under an inotify watch), registered on the event loop, and
/// checked on the shim's 1 s tick and when the container's processes exit. A watch ends when its cgroup goes away.
final class OOMMonitor {
    private unowned let loop: EventLoop
    private var notifiers: [String: OOMNotifier] = [:]
    private var handlers: [String: () -> Void] = [:]

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Starts watching `notifier` for `id`; `onOOM` runs on the loop for every OOM event.
    func watch(id: String, notifier: OOMNotifier, onOOM: @escaping () -> Void) throws {
        stop(id: id)
        notifiers[id] = notifier
        handlers[id] = onOOM
        if let fd = notifier.pollDescriptor {
            do {
                try loop.register(fd, .readable) { [weak self] _ in self?.check(id: id) }
            } catch {
                stop(id: id)
                throw error
            }
        }
    }

    private func check(id: String) {
        guard let notifier = notifiers[id] else { return }
        if notifier.collect() > 0 { handlers[id]?() }
        if notifier.isGone { stop(id: id) }
    }

    /// Collects every watch now (a v2 `oom_kill` count compared with the last one seen; without waiting for its
    /// inotify descriptor, so an OOM kill is published before the exit it caused).
    func poll() {
        for id in Array(notifiers.keys) { check(id: id) }
    }

    func stop(id: String) {
        if let fd = notifiers[id]?.pollDescriptor { loop.unregister(fd) }
        notifiers[id] = nil
        handlers[id] = nil
    }
}
