#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import OCISpec
import TetherSystem

/// Everything the container init needs, computed by the parent before clone (the child gets a copy).
struct InitConfiguration {
    var spec: Spec
    var process: OCISpec.Process
    var rootfs: String
    var fifoPath: String
    var io: ProcessIO
    var noPivot: Bool
    var preserveFDs: Int
    /// Namespaces joined by path (setns in the child after the parent configured it), in runc's order.
    var joins: [Linux.Namespace]
    var newUserNamespace: Bool
    /// Rootless with a new user namespace: the init becomes non-dumpable only once its id maps are written.
    var dumpableUntilMapped = false
    /// CreateOptions.rootfsMounts, mounted on the rootfs before anything else.
    var rootfsMounts: [Mount] = []
    /// CLONE_NEWCGROUP is unshared by the child only after the parent moved it into its cgroups, so the
    /// namespace's root is the container's own cgroup.
    var unshareCgroup: Bool
    var hasCgroupNamespace: Bool
    var cgroupPaths: [String: String]
    /// The cgroup hierarchies mounted on the host, for the container's /sys/fs/cgroup.
    var cgroupHierarchies: [ControlGroupSet.Hierarchy]
    /// Hierarchies the init joins by itself, first thing (ControlGroupSet.joinSelf); the parent does the rest.
    var selfJoinedCgroups: [String] = []
    var security = ProcessSecurity()
    /// The container's state for the hooks the init runs (createContainer, startContainer); pid and status are
    /// filled in when they run.
    var hookState: State? = nil
    /// The fifo on which the init tells `start` how its startContainer hooks went (nil when there are none).
    var startHooksResultFifo: String? = nil
}

/// The container init: runs in the cloned child, never returns.
enum ContainerInit {
    static func run(_ configuration: InitConfiguration, sync original: SyncSocket) -> Never {
        var configuration = configuration
        // A caller whose 0-2 are closed may have got the sync or console socket there: move them out of the way
        // of stdio and of the preserved fds.
        let floor = Int32(3 + configuration.preserveFDs)
        let sync = SyncSocket(fd: ProcessSetup.relocate(original.fd, above: floor))
        if let console = configuration.io.consoleSocket { configuration.io.consoleSocket = ProcessSetup.relocate(console, above: floor) }
        configuration.security.execHelper = configuration.security.execHelper?.relocated(above: floor)
        let setup: ProcessSetup
        let finalized: ProcessSetup.Finalized
        do {
            configuration.security.hostPid = try setUp(configuration, sync: sync)
            // As runc's standard_init_linux.go: everything but the exec happens before the wait for `start`
            // (rlimits, no_new_privs, seccomp, user and groups, cwd, capabilities, the executable's lookup), after
            // "ready" (the filter may forbid sending) and before the socket is closed, so a failure fails `create`.
            setup = ProcessSetup(process: configuration.process, preserveFDs: configuration.preserveFDs, isInit: true,
                                 security: configuration.security)
            finalized = try setup.finalize()
        } catch {
            try? sync.send(.failure(stage: error.stage, errno: error.errno, message: error.message))
            _exit(1)
        }
        // Closing the socket tells the parent that the init is set up; from here errors go to the process's stderr.
        FileIO.close(sync.fd)
        do {
            try waitForStart(configuration)
            // runc's order: the startContainer hooks run as the process will (user, groups, capabilities,
            // no_new_privs, seccomp all applied), just before execve.
            try setup.exec(finalized) { () throws(InitFailure) in try runStartContainerHooks(configuration) }
        } catch {
            ProcessSetup.report(error)
            _exit(error.errno == ENOENT ? 127 : (error.errno == EACCES ? 126 : 1))
        }
    }

    /// Steps before "ready": namespaces, mounts, devices, pivot_root, hostname, terminal, masked paths.
    /// Returns the init's pid in the runtime's pid namespace when the parent sent it (0 otherwise).
    private static func setUp(_ configuration: InitConfiguration, sync: SyncSocket) throws(InitFailure) -> Int32 {
        SignalFD.resetForChild()
        // Without root, the id maps of a new user namespace are written by the user (or its setuid newuidmap), who may
        // open /proc/PID/uid_map only while the process is dumpable: as runc, it stays so until the maps are written,
        // in its own empty namespace, before any setup; the caller is that same user.
        if !configuration.dumpableUntilMapped {
            try step("set non-dumpable") { try check(tether_set_dumpable(0), "prctl PR_SET_DUMPABLE") }
        }
        if !configuration.selfJoinedCgroups.isEmpty {
            try step("join cgroups") {
                try ControlGroupSet(paths: configuration.cgroupPaths).joinSelf(hierarchies: configuration.selfJoinedCgroups)
            }
        }
        let fifo = try step("open exec fifo") { try FileIO.open(configuration.fifoPath, O_RDWR) }
        _ = fifo  // kept open (close-on-exec) until start; its number is found again by path below
        try step("stdio") { try ProcessSetup.installStdio(configuration.io, preserveFDs: configuration.preserveFDs) }

        if let path = configuration.startHooksResultFifo {
            startHooksResultDescriptor = try step("open start hooks fifo") { try FileIO.open(path, O_RDWR) }
        }

        let hostPid = try sync.awaitConfigured()
        if configuration.dumpableUntilMapped {
            try step("set non-dumpable") { try check(tether_set_dumpable(0), "prctl PR_SET_DUMPABLE") }
        }

        if configuration.newUserNamespace {
            try step("become root in user namespace") {
                try check(tether_setresgid(0), "setresgid 0")
                try check(tether_setresuid(0), "setresuid 0")
            }
        }
        for namespace in configuration.joins {
            guard let path = namespace.path, let flag = CloneFlag.forNamespace(namespace.type) else { continue }
            try step("join \(namespace.type) namespace") {
                let fd = try FileIO.open(path, O_RDONLY)
                defer { FileIO.close(fd) }
                try check(tether_setns(fd, Int32(flag)), "setns \(path)")
            }
        }
        if configuration.unshareCgroup {
            try step("unshare cgroup namespace") { try check(tether_unshare(Int32(CloneFlag.newCgroup)), "unshare CLONE_NEWCGROUP") }
        }
        try step("setsid") { try check(setsid() < 0 ? -1 : 0, "setsid") }

        let rootfs = RootFilesystem(
            spec: configuration.spec, rootfs: configuration.rootfs, newUserNamespace: configuration.newUserNamespace,
            hasCgroupNamespace: configuration.hasCgroupNamespace, cgroupPaths: configuration.cgroupPaths,
            cgroupHierarchies: configuration.cgroupHierarchies,
            hasMountNamespace: (configuration.spec.linux?.namespaces ?? []).contains { $0.type == .mount },
            rootfsMounts: configuration.rootfsMounts)
        try rootfs.prepare()
        try runCreateHooks(configuration, sync: sync)
        try rootfs.enter(noPivot: configuration.noPivot)
        // runc's prepareRootfs: a missing process.cwd is made, inside the new root, before it may become read-only.
        try step("create cwd") {
            do {
                try FileIO.makeDirectories(configuration.process.cwd)
            } catch let error as SyscallError {
                throw InitFailure("create cwd", errno: error.errno, "\(error.call): \(ProcessSetup.goErrorText(error.errno))")
            }
        }

        if let hostname = configuration.spec.hostname, !hostname.isEmpty {
            try step("sethostname") { try check(sethostname(hostname, hostname.utf8.count), "sethostname \(hostname)") }
        }
        if let domainname = configuration.spec.domainname, !domainname.isEmpty {
            try step("setdomainname") { try check(setdomainname(domainname, domainname.utf8.count), "setdomainname \(domainname)") }
        }

        if configuration.process.terminal == true {
            try Terminal.setUp(size: configuration.process.consoleSize, consoleSocket: configuration.io.consoleSocket)
        }
        try rootfs.finish()

        ContainerInit.fifoDescriptor = fifo
        try step("report ready") { try sync.send(.ready) }
        return hostPid
    }

    nonisolated(unsafe) static var fifoDescriptor: Int32 = -1
    nonisolated(unsafe) static var startHooksResultDescriptor: Int32 = -1

    /// runc's order, once the mounts are done and before pivot_root: the parent runs the prestart and
    /// createRuntime hooks (in the runtime namespace), then the init runs createContainer here, in the
    /// container's namespaces, where the host's paths still resolve.
    private static func runCreateHooks(_ configuration: InitConfiguration, sync: SyncSocket) throws(InitFailure) {
        guard let hooks = configuration.spec.hooks, var state = configuration.hookState else { return }
        if !hooks[.prestart].isEmpty || !hooks[.createRuntime].isEmpty { try sync.runHooksInParent() }
        state.pid = getpid()
        state.status = .creating
        do {
            try HookRunner.run(hooks, .createContainer, state: state)
        } catch {
            throw InitFailure("createContainer hook", error.description)
        }
    }

    /// After `start`, inside the container, once the process is set up (its user, groups, capabilities,
    /// no_new_privs and seccomp filter, as runc) and right before execve: the startContainer hooks, whose outcome
    /// goes to the waiting `start` on the result fifo ("0", or "1" and the failure). The fifo's descriptor is
    /// close-on-exec (set by "close fds"), so neither the hooks nor the process inherit it.
    private static func runStartContainerHooks(_ configuration: InitConfiguration) throws(InitFailure) {
        let fd = startHooksResultDescriptor
        guard fd >= 0, var state = configuration.hookState else { return }
        defer { FileIO.close(fd) }
        state.pid = getpid()
        state.status = .created
        do {
            try HookRunner.run(configuration.spec.hooks, .startContainer, state: state)
            try? FileIO.writeAll(fd, "0")
        } catch {
            try? FileIO.writeAll(fd, "1" + String(decoding: error.description.utf8.prefix(4000), as: UTF8.self))
            throw InitFailure("startContainer hook", error.description)
        }
    }

    /// Blocks until `start` writes a byte into exec.fifo.
    private static func waitForStart(_ configuration: InitConfiguration) throws(InitFailure) {
        let fd = fifoDescriptor
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n == 1 { break }
            if n < 0 && errno == EINTR { continue }
            throw InitFailure("wait for start", errno: n < 0 ? errno : EPIPE, "reading exec fifo failed")
        }
        FileIO.close(fd)
    }
}
