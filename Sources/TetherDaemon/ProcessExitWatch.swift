#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import TetherSystem

/// Runs `exited` once on the loop when process `pid` is gone: its pidfd turns readable when it exits (tetherd's
/// children are reaped by the kernel, SIGCHLD being ignored, so there is no wait to do). A process already gone
/// when the watch starts (ESRCH) counts as exited at once. The pidfd also lets tetherd signal exactly that process,
/// never a later one that reused its pid. Where pidfd_open does not exist (ENOSYS: a kernel before 5.3, or
/// valgrind 3.19, which `make layout` runs tetherd under), the process is polled with kill(pid, 0) every
/// `pollInterval` ms instead; it was counted as exited at once, which retired every shim tetherd launched.
final class ProcessExitWatch {
    let pid: pid_t
    private let loop: EventLoop
    private var pidfd: Int32
    private var exited: (() -> Void)?
    /// No pidfd: `pid` is polled.
    private var polled = false
    static let pollInterval: UInt64 = 100

    init(loop: EventLoop, pid: pid_t, exited: @escaping () -> Void) {
        self.loop = loop
        self.pid = pid
        self.exited = exited
        pidfd = tether_pidfd_open(pid, 0)  // close-on-exec, as every pidfd
        guard pidfd >= 0 else {
            if errno == ESRCH {
                loop.schedule(after: 0) { [weak self] in self?.fire() }
            } else {
                polled = true
                pollForExit()
            }
            return
        }
        do {
            try loop.register(pidfd, .readable) { [weak self] _ in self?.fire() }
        } catch {
            loop.schedule(after: 0) { [weak self] in self?.fire() }
        }
    }

    /// Fires once kill(pid, 0) finds no such process (its zombie is reaped by the kernel at once).
    private func pollForExit() {
        guard exited != nil else { return }
        if kill(pid, 0) != 0 && errno == ESRCH { return fire() }
        loop.schedule(after: Self.pollInterval) { [weak self] in self?.pollForExit() }
    }

    deinit { closePidfd() }

    /// Whether the process is still running (a poll of its pidfd that does not wait).
    var isRunning: Bool {
        guard exited != nil else { return false }
        if polled { return kill(pid, 0) == 0 || errno != ESRCH }
        guard pidfd >= 0 else { return false }
        var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }

    /// Sends `signal` to the process if it is still the one watched.
    func signal(_ signal: Int32) {
        if polled, exited != nil { _ = kill(pid, signal) }
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
