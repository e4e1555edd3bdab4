#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import OCISpec
import TetherSystem

extension Runtime {
    /// Lets a created container's init exec its process (writes a byte into `exec.fifo`, then removes it).
    public func start(id: String) throws {
        let (paths, record) = try load(id)
        switch record.status(paths) {
        case .created: break
        case .stopped: throw RuntimeError(.invalidState, "cannot start a container that has stopped")
        default: throw RuntimeError(.invalidState, "cannot start an already running container")
        }
        let startHooksResult = try Runtime.openStartHooksResult(record, paths)
        let fd = open(paths.execFifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            let error = errno
            if let startHooksResult { FileIO.close(startHooksResult) }
            if error == ENXIO { throw RuntimeError(.invalidState, "cannot start a container that has stopped") }
            throw RuntimeError.system(SyscallError("open \(paths.execFifo)", errno: error), stage: "start")
        }
        do {
            defer { FileIO.close(fd) }
            try FileIO.writeAll(fd, [0])
        } catch let error as SyscallError {
            if let startHooksResult { FileIO.close(startHooksResult) }
            throw RuntimeError.system(error, stage: "start")
        }
        _ = unlink(paths.execFifo)
        try finishStart(record, paths, startHooksResult: startHooksResult)
    }

    /// The container's state, with its status derived from the init process (see README).
    public func state(id: String) throws -> ContainerState {
        let (paths, record) = try load(id)
        return record.state(paths)
    }

    /// Every container under `root`, sorted by id. Directories without a readable state are skipped.
    public func list() throws -> [ContainerState] {
        guard FileIO.isDirectory(root) else { return [] }
        let names: [String]
        do {
            names = try FileIO.listDirectory(root)
        } catch let error as SyscallError {
            throw RuntimeError.system(error, stage: "list")
        }
        return names.sorted().compactMap { name in
            let paths = ContainerPaths(root: root, id: name)
            return (try? ContainerRecord.load(paths, id: name))?.state(paths)
        }
    }

    /// Sends `signal` to the init (`all`: to every process in the container's cgroup).
    public func kill(id: String, signal: Int32, all: Bool = false) throws {
        guard signal > 0 && signal < 65 else { throw RuntimeError(.invalidArgument, "invalid signal \(signal)") }
        let (paths, record) = try load(id)
        let status = record.status(paths)
        if all {
            if status == .stopped && record.sharesHostPidNamespace == false {
                throw RuntimeError(.invalidState, "container not running")
            }
            try signalAll(record, signal: signal)
            return
        }
        guard status != .stopped else { throw RuntimeError(.invalidState, "container not running") }
        try Runtime.signalInit(record, signal: signal)
    }

    /// Removes a stopped (or created) container: its cgroups, its state; then runs its poststop hooks (their
    /// failures are warnings). A running container needs `force`, which kills it with SIGKILL first.
    public func delete(id: String, force: Bool = false) throws {
        let (paths, record) = try load(id)
        let status = record.status(paths)
        switch status {
        case .stopped:
            break
        case .created:
            try destroyProcesses(record)
        case .running, .paused, .creating:
            guard force else {
                throw RuntimeError(.invalidState, "cannot delete container \(id) that is not stopped: \(status.rawValue)")
            }
            try destroyProcesses(record)
        }
        try removeResources(record, paths)
        runPoststopHooks(record)
    }

    /// Removes what a stopped container leaves: stragglers in a shared pid namespace, its cgroups, its state.
    func removeResources(_ record: ContainerRecord, _ paths: ContainerPaths) throws {
        if record.sharesHostPidNamespace { try? signalAll(record, signal: SIGKILL) }
        do {
            try record.cgroups.destroy()
        } catch let error as SyscallError {
            throw RuntimeError.system(error, stage: "delete cgroups")
        }
        do {
            try FileIO.removeTree(paths.directory)
        } catch let error as SyscallError {
            throw RuntimeError.system(error, stage: "delete state")
        }
    }

    // MARK: helpers

    /// The container's record: the one this instance last saw when state.json is still that file, else read.
    func load(_ id: String) throws -> (ContainerPaths, ContainerRecord) {
        try Runtime.validate(id: id)
        let paths = ContainerPaths(root: root, id: id)
        // Identified before reading: a file replaced in between is read anew next time, never mistaken.
        let file = ContainerRecord.FileIdentity(paths.stateFile)
        if let file, let cached = lastRecord, cached.record.id == id, cached.file == file {
            return (paths, cached.record)
        }
        let record = try ContainerRecord.load(paths, id: id)
        lastRecord = file.map { ContainerRecord.Cached(record: record, file: $0) }
        return (paths, record)
    }

    /// Signals the init through a pidfd opened after checking the start time, so a recycled pid is never hit.
    static func signalInit(_ record: ContainerRecord, signal: Int32) throws {
        let pidfd = tether_pidfd_open(record.initPid, 0)
        if pidfd < 0 {
            if errno == ESRCH { throw RuntimeError(.invalidState, "container not running") }
            throw RuntimeError.system(.current("pidfd_open \(record.initPid)"), stage: "kill")
        }
        defer { FileIO.close(pidfd) }
        guard ProcessSupport.isAlive(record.initPid, startTime: record.initStartTime) else {
            throw RuntimeError(.invalidState, "container not running")
        }
        if tether_pidfd_send_signal(pidfd, signal) != 0 {
            if errno == ESRCH { throw RuntimeError(.invalidState, "container not running") }
            throw RuntimeError.system(.current("kill \(record.initPid)"), stage: "kill")
        }
    }

    func signalAll(_ record: ContainerRecord, signal: Int32) throws {
        let frozen = record.cgroups.isFrozen()
        for pid in record.cgroups.processes() { Glibc.kill(pid, signal) }
        if frozen && signal == SIGKILL { record.cgroups.thaw() }
        if ProcessSupport.isAlive(record.initPid, startTime: record.initStartTime) {
            try? Runtime.signalInit(record, signal: signal)
        }
    }

    /// SIGKILLs the container and waits (bounded) until its init is gone.
    func destroyProcesses(_ record: ContainerRecord) throws {
        let pidfd = tether_pidfd_open(record.initPid, 0)
        defer { if pidfd >= 0 { FileIO.close(pidfd) } }
        let alive = pidfd >= 0 && ProcessSupport.isAlive(record.initPid, startTime: record.initStartTime)
        if alive { _ = tether_pidfd_send_signal(pidfd, SIGKILL) }
        for pid in record.cgroups.processes() { Glibc.kill(pid, SIGKILL) }
        record.cgroups.thaw()
        guard alive else { return }
        // A pidfd polls readable once the process has exited.
        var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        var waited = 0
        while waited < 10_000 {
            let n = poll(&entry, 1, 100)
            if n > 0 || !ProcessSupport.isAlive(record.initPid, startTime: record.initStartTime) { return }
            waited += 100
        }
        throw RuntimeError(.system, "container init \(record.initPid) did not exit after SIGKILL", stage: "delete")
    }
}
