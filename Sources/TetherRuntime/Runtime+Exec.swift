#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import OCISpec
import TetherSystem

extension Runtime {
    /// Runs `process` inside the running container `id`: joins every namespace of the init and its cgroups,
    /// then execs. Returns the new process's pid (in the caller's pid namespace); the process is the caller's
    /// child (cloned with CLONE_PARENT from an intermediate that joined the namespaces), and is not PID 1.
    ///
    /// ```
    /// caller                        intermediate (fork)              exec process (clone CLONE_PARENT)
    ///   open /proc/INIT/ns/* ──fork──▶ join the v1 cgroups itself
    ///   (clone3 into the v2 cgroup)    setns(user, ipc, uts, net,
    ///                                  pid, cgroup, mnt)
    ///                                  clone(CLONE_PARENT) ───────────▶ waits on the sync socket
    ///   ◀── childPid(pid) ──────────── _exit(0)
    ///   waitpid(intermediate), add pid to the cgroups not joined yet
    ///   ── configured ───────────────────────────────────────────────▶ stdio, terminal
    ///   ◀── ready ───────────────────────────────────────────────────── rlimits, seccomp, user, cwd, caps, args[0]
    ///   ◀── EOF (set up) / failure ──────────────────────────────────── execve
    /// ```
    /// The caller must be single-threaded.
    public func exec(id: String, process: OCISpec.Process, io: ProcessIO, pidFile: String? = nil,
                     preserveFDs: Int = 0) throws -> Int32 {
        let (paths, record) = try load(id)
        let status = record.status(paths)
        guard status == .running || status == .created else {
            throw RuntimeError(.invalidState, "cannot exec in a \(status.rawValue) container \(id)")
        }
        guard let first = process.args?.first, !first.isEmpty else {
            throw RuntimeError(.invalidArgument, "process.args: must not be empty")
        }
        if process.terminal == true && io.consoleSocket == nil {
            throw RuntimeError(.invalidArgument, "process.terminal is true: a console socket (--console-socket) is required")
        }
        do {
            try ProcessSupport.requireSingleThreaded(before: "exec")
        } catch let error as SyscallError {
            throw RuntimeError(.invalidState, error.call, stage: "exec")
        }
        do {
            try process.capabilities?.validate(path: "process.capabilities")
        } catch {
            throw RuntimeError(.invalidConfig, error.description)
        }
        let security = try ProcessSecurity(
            process: process, seccomp: record.seccomp,
            state: State(id: id, status: .running, pid: record.initPid, bundle: record.bundle, annotations: record.annotations),
            root: root)
        defer { security.closeParentCopies() }
        let joins = try Runtime.namespaceDescriptors(of: record.initPid)
        defer { for (_, fd) in joins { FileIO.close(fd) } }
        let (parentEnd, childEnd) = try FileIO.socketPair()
        defer { FileIO.close(parentEnd) }
        // As for the init (Runtime.create): the intermediate starts in the v2 cgroup and moves itself into the v1
        // ones before it joins any namespace; the process it clones inherits them, so no cgroup.procs write waits.
        let cgroups = record.cgroups
        let unifiedCgroup = cgroups.openUnifiedDirectory()
        defer { if unifiedCgroup >= 0 { FileIO.close(unifiedCgroup) } }
        let selfJoined = cgroups.selfJoinableHierarchies
        var placedByClone: Int32 = 0
        let intermediate = tether_clone_into_cgroup(0, unifiedCgroup, &placedByClone)
        if intermediate == 0 {
            FileIO.close(parentEnd)
            ExecIntermediate.run(joins: joins, cgroups: cgroups, selfJoined: selfJoined, process: process, io: io,
                                 preserveFDs: preserveFDs, security: security, sync: SyncSocket(fd: childEnd))
        }
        FileIO.close(childEnd)
        if intermediate < 0 { throw RuntimeError.system(.current("fork"), stage: "exec: fork intermediate") }
        let sync = SyncSocket(fd: parentEnd)
        var childPid: Int32 = 0
        do {
            guard let message = try sync.receive() else {
                throw RuntimeError(.system, "exec intermediate exited during setup", stage: "exec")
            }
            switch message {
            case .childPid(let pid): childPid = pid
            case .failure(let stage, let code, let text):
                throw RuntimeError(.system, text, stage: stage, syscall: code != 0 ? SyscallError(stage, errno: code) : nil)
            default:
                throw RuntimeError(.system, "unexpected sync message \(message)", stage: "exec")
            }
            var waitStatus: Int32 = 0
            while waitpid(intermediate, &waitStatus, 0) < 0 && errno == EINTR {}
            do {
                try cgroups.addRemaining(pid: childPid, selfJoined: selfJoined, placedByClone: placedByClone != 0)
            } catch let error as SyscallError {
                throw RuntimeError.system(error, stage: "exec: join cgroups")
            }
            if security.listener != nil { try sync.send(.childPid(childPid)) }
            try sync.send(.configured)
            try Runtime.awaitReady(sync, stage: "exec")
        } catch {
            var waitStatus: Int32 = 0
            while waitpid(intermediate, &waitStatus, WNOHANG) < 0 && errno == EINTR {}
            if childPid > 0 {
                Glibc.kill(childPid, SIGKILL)
                while waitpid(childPid, &waitStatus, 0) < 0 && errno == EINTR {}
            }
            if let error = error as? SyscallError { throw RuntimeError.system(error, stage: "exec") }
            throw error
        }
        if let pidFile {
            try? FileIO.writeAtomically(Runtime.absolutePath(pidFile), Array("\(childPid)".utf8), mode: 0o644, sync: false)
        }
        return childPid
    }

    /// Open descriptors of the init's namespaces that differ from the caller's, in join order.
    static func namespaceDescriptors(of pid: Int32) throws -> [(String, Int32)] {
        let order = ["user", "ipc", "uts", "net", "pid", "cgroup", "mnt"]
        var result: [(String, Int32)] = []
        for name in order {
            var theirs = stat()
            var mine = stat()
            guard stat("/proc/\(pid)/ns/\(name)", &theirs) == 0 else {
                if errno == ENOENT { continue }
                for (_, fd) in result { FileIO.close(fd) }
                throw RuntimeError(.invalidState, "container init \(pid) is gone", stage: "exec")
            }
            if stat("/proc/self/ns/\(name)", &mine) == 0 && mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev {
                continue
            }
            do {
                result.append((name, try FileIO.open("/proc/\(pid)/ns/\(name)", O_RDONLY)))
            } catch let error as SyscallError {
                for (_, fd) in result { FileIO.close(fd) }
                throw RuntimeError.system(error, stage: "exec: open namespaces")
            }
        }
        return result
    }
}

/// The exec intermediate and the exec'd process (both run in forked children and never return).
enum ExecIntermediate {
    static func run(joins: [(String, Int32)], cgroups: ControlGroupSet, selfJoined: [String], process: OCISpec.Process,
                    io: ProcessIO, preserveFDs: Int, security: ProcessSecurity, sync original: SyncSocket) -> Never {
        let floor = Int32(3 + preserveFDs)
        let sync = SyncSocket(fd: ProcessSetup.relocate(original.fd, above: floor))
        var io = io
        if let console = io.consoleSocket { io.consoleSocket = ProcessSetup.relocate(console, above: floor) }
        var security = security
        security.execHelper = security.execHelper?.relocated(above: floor)
        do {
            try step("set non-dumpable") { try check(tether_set_dumpable(0), "prctl PR_SET_DUMPABLE") }
            try step("join cgroups") { try cgroups.joinSelf(hierarchies: selfJoined) }
            for (name, fd) in joins {
                try step("join \(name) namespace") { try check(tether_setns(fd, 0), "setns \(name)") }
                FileIO.close(fd)
            }
        } catch {
            try? sync.send(.failure(stage: error.stage, errno: error.errno, message: error.message))
            _exit(1)
        }
        let child = tether_clone_fork(UInt(CLONE_PARENT))
        if child == 0 { runProcess(process: process, io: io, preserveFDs: preserveFDs, security: security, sync: sync) }
        if child < 0 {
            try? sync.send(.failure(stage: "exec: clone", errno: errno, message: "clone: \(SyscallError.describe(errno))"))
            _exit(1)
        }
        try? sync.send(.childPid(child))
        _exit(0)
    }

    private static func runProcess(process: OCISpec.Process, io: ProcessIO, preserveFDs: Int, security: ProcessSecurity,
                                   sync: SyncSocket) -> Never {
        do {
            SignalFD.resetForChild()
            var security = security
            security.hostPid = try sync.awaitConfigured()
            try step("stdio") { try ProcessSetup.installStdio(io, preserveFDs: preserveFDs) }
            try step("setsid") { try check(setsid() < 0 ? -1 : 0, "setsid") }
            if process.terminal == true {
                try Terminal.setUp(size: process.consoleSize, consoleSocket: io.consoleSocket)
            }
            let setup = ProcessSetup(process: process, preserveFDs: preserveFDs, isInit: false, security: security)
            try step("report ready") { try sync.send(.ready) }
            // As for the init: set up up to the exec before the socket is closed, so a failure (a missing
            // executable, a capability the host lacks) is the caller's error (runc's setns_init_linux.go).
            let finalized = try setup.finalize()
            FileIO.close(sync.fd)
            try setup.exec(finalized)
        } catch {
            try? sync.send(.failure(stage: error.stage, errno: error.errno, message: error.message))
            ProcessSetup.report(error)
            _exit(error.errno == ENOENT ? 127 : (error.errno == EACCES ? 126 : 1))
        }
    }
}
