#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import TetherSystem

/// Runs `exited` once on the loop when process `pid` is gone: its pidfd turns readable when it exits (tetherd's
/// children are reaped by the kernel, SIGCHLD being ignored, so there is no wait to do). A process already gone
/// when the watch starts counts as exited at once. The pidfd also lets tetherd signal exactly that process, never a
/// later one that reused its pid.
final class ProcessExitWatch {
    let pid: pid_t
    private let loop: EventLoop
    private var pidfd: Int32
    private var exited: (() -> Void)?

    init(loop: EventLoop, pid: pid_t, exited: @escaping () -> Void) {
        self.loop = loop
        self.pid = pid
        self.exited = exited
        pidfd = tether_pidfd_open(pid, 0)  // close-on-exec, as every pidfd
        guard pidfd >= 0 else {
            loop.schedule(after: 0) { [weak self] in self?.fire() }
            return
        }
        do {
            try loop.register(pidfd, .readable) { [weak self] _ in self?.fire() }
        } catch {
            loop.schedule(after: 0) { [weak self] in self?.fire() }
        }
    }

    deinit { closePidfd() }

    /// Whether the process is still running (a poll of its pidfd that does not wait).
    var isRunning: Bool {
        guard pidfd >= 0, exited != nil else { return false }
        var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }

    /// Sends `signal` to the process if it is still the one watched.
    func signal(_ signal: Int32) {
        guard pidfd >= 0 else { return }
        _ = tether_pidfd_send_signal(pidfd, signal)
    }

    /// Stops watching: `exited` never runs.
    func cancel() {
        exited = nil
        closePidfd()
    }

    private func fire() {
        let action = exited
        cancel()
        action?()
    }

    private func closePidfd() {
        guard pidfd >= 0 else { return }
        loop.unregister(pidfd)
        FileIO.close(pidfd)
        pidfd = -1
    }
}
