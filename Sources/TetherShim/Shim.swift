#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import Logging
import OCISpec
import TTRPC
import TetherAPI
import TetherRuntime
import TetherSystem

/// The long-lived shim: one thread, one epoll loop over signalfd, the ttrpc listener, the stdio relays and the
/// pty masters. It is the subreaper and the parent of every container process it creates (the runtime library
/// clones them from this process), and the only caller of `wait4(-1)` here.
public final class Shim {
    /// Signals forwarded to every container init: what a supervisor is sent to pass on.
    static let forwardedSignals: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH]

    let flags: ShimFlags
    let loop: EventLoop
    let server: TTRPCServer
    let runtime: Runtime
    let events: EventPublisher
    let signals: SignalFD
    let oom: OOMMonitor
    var containers: [String: ContainerTask] = [:]
    /// Exits reaped for pids no process claims yet (bounded): matched when a pid is recorded late.
    var unclaimedExits: [Int32: Int32] = [:]
    /// Children finishing a deleted container's rootfs unmount (RootfsRelease): reaped and forgotten, never kept
    /// as an unclaimed exit (their pid could be a container process's later).
    var rootfsReleasers: Set<Int32> = []
    var shuttingDown = false
    /// Exec process specs between Exec and Start, as the JSON they came as (decoded in one-off children).
    var pendingExecSpecs: [ExecKey: [UInt8]] = [:]

    /// Sets up the process (signals blocked, subreaper) and the loop over the listener on fd `listener`.
    public init(flags: ShimFlags, listener: Int32) throws {
        self.flags = flags
        // Every catchable signal is blocked (children reset their mask before exec): what the shim handles
        // arrives on the signalfd, anything else stays pending instead of killing the supervisor. Fault
        // signals stay deliverable.
        let faults: Set<Int32> = [SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT]
        try SignalFD.block((1...Int32(64)).filter { !faults.contains($0) })
        try sys("prctl PR_SET_CHILD_SUBREAPER") { tether_set_child_subreaper(1) }
        signals = try SignalFD([SIGCHLD] + Shim.forwardedSignals)
        loop = try EventLoop()
        try FileIO.setCloexec(listener)
        _ = try? FileIO.setNonblocking(2)
        server = TTRPCServer(loop: loop, listener: listener)
        runtime = Runtime(root: flags.runtimeRoot)
        let address = getenv("TTRPC_ADDRESS").map { String(cString: $0) } ?? ""
        events = EventPublisher(loop: loop, address: address, namespace: flags.namespace)
        oom = OOMMonitor(loop: loop)
        try loop.register(signals.fd, .readable) { [weak self] _ in self?.handleSignals() }
        // Reap on a tick as well: a SIGCHLD coalesced with another is never lost for long. The tick also gives
        // freed heap pages back to the kernel: a shim is idle most of its life, one per container.
        loop.schedule(after: 1000, repeating: true) { [weak self] in
            self?.oom.poll()
            self?.reap()
            self?.reportDroppedLogBytes()
            _ = tether_release_free_memory()
        }
        registerTaskService()
        server.onConnectionsChanged = { [weak self] count in
            guard let self, count == 0, !self.shuttingDown, !self.containers.isEmpty else { return }
            shimLog.info("manager disconnected; the shim keeps its containers", metadata: ["id": "\(self.flags.id)"])
        }
    }

    /// Runs until Shutdown.
    public func run() throws {
        try loop.run()
    }

    private func handleSignals() {
        var sawChild = false
        for signal in signals.drain() {
            if signal == SIGCHLD {
                sawChild = true
            } else if (signal == SIGTERM || signal == SIGINT) && containers.isEmpty {
                // An idle shim (tetherd's spare, or one whose containers are deleted) has nothing to pass a
                // termination on to: it exits, so that stopping its manager leaves nothing behind.
                if !shuttingDown { exitSoon() }
            } else {
                for container in containers.values where container.initProcess.status == .running {
                    _ = Glibc.kill(container.initProcess.pid, signal)
                }
            }
        }
        if sawChild { reap() }
    }

    /// Drains every exited child (containers' processes and the orphans they leave to the subreaper).
    func reap() {
        var status: Int32 = 0
        while true {
            let pid = wait4(-1, &status, WNOHANG, nil)
            if pid <= 0 { break }
            if rootfsReleasers.remove(pid) != nil { continue }
            let code = ProcessSupport.exitStatus(fromWaitStatus: status)
            if !handleExit(pid: pid, status: code) {
                if unclaimedExits.count > 256 { unclaimedExits.removeAll() }
                unclaimedExits[pid] = code
            }
        }
    }

    /// Matches an exit to a process; false when no process has that pid (an orphan, or not recorded yet).
    @discardableResult
    func handleExit(pid: Int32, status: Int32) -> Bool {
        for container in containers.values {
            for process in container.allProcesses where process.pid == pid && !process.hasExited {
                processExited(container, process, status: UInt32(status))
                return true
            }
        }
        return false
    }

    /// Called right after a pid is recorded: the process may have exited before (exit/start race).
    func claimEarlyExit(_ container: ContainerTask, _ process: ManagedProcess) {
        if let status = unclaimedExits.removeValue(forKey: process.pid) {
            processExited(container, process, status: UInt32(status))
        }
    }

    private func processExited(_ container: ContainerTask, _ process: ManagedProcess, status: UInt32) {
        let now = Google_Protobuf_Timestamp.now()
        process.stdio.drain()
        if process.isInit {
            oom.poll()  // cgroup v2: an OOM kill is published before the exit it caused
            // Recorded first: a manager that connects later learns the true status from the bundle.
            let record = ExitRecord(pid: process.pid, status: status, exitedAtSeconds: now.seconds, exitedAtNanos: now.nanos)
            try? record.write(bundle: container.bundle)
            process.status = .stopped
            process.exitStatus = status
            process.exitedAt = now
            // Processes left in the container die with it: the kernel kills them when the init owned its pid
            // namespace; a shared one (host, or joined by path) does not, so the shim does.
            if !container.ownsPidNamespace { try? runtime.kill(id: container.id, signal: SIGKILL, all: true) }
            container.initExitPending = true
            shimLog.info("container init exited", metadata: ["id": "\(container.id)", "pid": "\(process.pid)", "status": "\(status)"])
            publishInitExitWhenExecsAreDone(container)
        } else {
            shimLog.debug("exec process exited", metadata: ["id": "\(container.id)", "exec": "\(process.execID)", "status": "\(status)"])
            process.markExited(status: status, at: now)
            process.stdio.closeAll()
            events.publish(Containerd_Events_TaskExit.with {
                $0.containerID = container.id
                $0.id = process.execID
                $0.pid = UInt32(process.pid)
                $0.exitStatus = status
                $0.exitedAt = now
            })
            publishInitExitWhenExecsAreDone(container)
        }
    }

    /// The init's exit is published (and its waiters answered) only after every exec's exit.
    private func publishInitExitWhenExecsAreDone(_ container: ContainerTask) {
        guard container.initExitPending, container.execs.values.allSatisfy({ $0.hasExited || $0.pid == 0 }) else { return }
        container.initExitPending = false
        let process = container.initProcess
        let exitedAt = process.exitedAt ?? .now()
        reportDroppedLogBytes(container)  // the final count (the output was drained) reaches tetherd before the exit
        process.markExited(status: process.exitStatus, at: exitedAt)
        process.stdio.closeAll()
        events.publish(Containerd_Events_TaskExit.with {
            $0.containerID = container.id
            $0.id = container.id
            $0.pid = UInt32(process.pid)
            $0.exitStatus = process.exitStatus
            $0.exitedAt = exitedAt
        })
    }

    /// Exits the process once the reply to Shutdown is on its way.
    func exitSoon() {
        shimLog.info("shim shutting down", metadata: ["id": "\(flags.id)"])
        shuttingDown = true
        server.stopAccepting()
        // Queued events get up to 2 s to reach the manager, and a rootfs still being released as long to finish
        // (reaped here, not left to PID 1).
        let deadline = Clock.monotonicMilliseconds() + 2000
        loop.schedule(after: 20, repeating: true) { [weak self] in
            guard let self else { exit(0) }
            if !self.rootfsReleasers.isEmpty { self.reap() }
            if (self.events.isIdle && self.rootfsReleasers.isEmpty) || Clock.monotonicMilliseconds() >= deadline { self.finish() }
        }
    }

    private func finish() {
        server.shutdown()
        let path = ShimStart.socketPath(flags, bundle: flags.bundle.isEmpty ? ShimStart.currentDirectory() : flags.bundle)
        _ = unlink(path)
        exit(0)
    }
}
