#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import FoundationEssentials
import OCISpec
import TetherSystem

extension Runtime {
    /// Creates the container: clones its init from the calling process (which becomes its parent), sets up the
    /// namespaces, cgroups and root filesystem, and returns once the init waits for `start`.
    /// The caller must be single-threaded. On failure nothing is left behind.
    /// - Returns: the container's state (`created`, with the init's pid in the caller's pid namespace).
    public func create(id: String, options: CreateOptions) throws -> ContainerState {
        try Runtime.validate(id: id)
        let bundle = Runtime.absolutePath(options.bundle)
        let spec = try options.spec ?? Runtime.loadSpec(bundle: bundle)
        guard let process = spec.process, let rootPath = spec.root?.path else {
            throw RuntimeError(.invalidConfig, "\(bundle)/config.json: process: missing required field")
        }
        let rootfs = rootPath.hasPrefix("/") ? rootPath : bundle + "/" + rootPath
        guard FileIO.isDirectory(rootfs) else {
            throw RuntimeError(.invalidConfig, "root.path: rootfs \"\(rootfs)\" does not exist or is not a directory")
        }
        if process.terminal == true && options.io.consoleSocket == nil {
            throw RuntimeError(.invalidArgument, "process.terminal is true: a console socket (--console-socket) is required")
        }
        let namespaces = spec.linux?.namespaces ?? []
        // Without a mount entry the container shares the caller's mount namespace (runc's validator refuses only
        // masked and read-only paths then); a mount namespace given by path is joined (setns, last).
        let hasMountNamespace = namespaces.contains { $0.type == .mount }
        if !hasMountNamespace && !((spec.linux?.maskedPaths ?? []).isEmpty && (spec.linux?.readonlyPaths ?? []).isEmpty) {
            throw RuntimeError(.invalidConfig,
                               "linux.maskedPaths, linux.readonlyPaths: unable to restrict sys entries without a private MNT namespace (linux.namespaces has no mount entry)")
        }
        for (index, namespace) in namespaces.enumerated() {
            if let path = namespace.path, !FileIO.exists(path) {
                throw RuntimeError(.invalidConfig, "linux.namespaces[\(index)].path: \(path) does not exist")
            }
        }
        do {
            try ProcessSupport.requireSingleThreaded(before: "create")
        } catch let error as SyscallError {
            throw RuntimeError(.invalidState, error.call, stage: "create")
        }

        try prepareRoot()
        let paths = ContainerPaths(root: root, id: id)
        if mkdir(paths.directory, 0o711) != 0 {
            if errno == EEXIST { throw RuntimeError(.alreadyExists, "container \"\(id)\" already exists") }
            throw RuntimeError.system(.current("mkdir \(paths.directory)"), stage: "create state directory")
        }
        // Read once here; the init's mount namespace starts as a copy of ours, so it gets the same list.
        let hierarchies = ControlGroupSet.hierarchies()
        var cgroups = ControlGroupSet.plan(cgroupsPath: spec.linux?.cgroupsPath, id: id, hierarchies: hierarchies)
        var childPid: Int32 = 0
        do {
            if mkfifo(paths.execFifo, 0o622) != 0 {
                throw RuntimeError.system(.current("mkfifo \(paths.execFifo)"), stage: "create exec fifo")
            }
            let startHooksResultFifo = try Runtime.makeStartHooksResultFifo(spec.hooks, paths)
            let hookState = State(id: id, status: .creating, pid: nil, bundle: bundle, annotations: spec.annotations)
            var flags: UInt = 0
            // cgroup is unshared by the child once placed; time is entered through ChildNamespaces (clone cannot).
            for namespace in namespaces where namespace.path == nil && namespace.type != .cgroup && namespace.type != .time {
                flags |= CloneFlag.forNamespace(namespace.type) ?? 0
            }
            let newUser = namespaces.contains { $0.type == .user && $0.path == nil }
            let security = try ProcessSecurity(
                process: process, seccomp: spec.linux?.seccomp,
                state: State(id: id, status: .creating, pid: nil, bundle: bundle, annotations: spec.annotations),
                root: root)
            defer { security.closeParentCopies() }
            var configuration = InitConfiguration(
                spec: spec, process: process, rootfs: rootfs, fifoPath: paths.execFifo, io: options.io,
                noPivot: options.noPivot, preserveFDs: options.preserveFDs,
                joins: Runtime.joinOrder(namespaces.filter { $0.path != nil && $0.type != .pid }), newUserNamespace: newUser,
                unshareCgroup: namespaces.contains { $0.type == .cgroup && $0.path == nil },
                hasCgroupNamespace: namespaces.contains { $0.type == .cgroup }, cgroupPaths: cgroups.paths,
                cgroupHierarchies: hierarchies,
                security: security)
            configuration.hookState = hookState
            configuration.dumpableUntilMapped = newUser && rootless
            configuration.rootfsMounts = options.rootfsMounts
            configuration.startHooksResultFifo = startHooksResultFifo

            // The init goes into its cgroups without a cgroup.procs write where it can (see
            // ControlGroupSet.selfJoinableHierarchies): clone3 puts it into the v2 one, it moves itself into the
            // v1 ones (not from a new user namespace, whose root is nobody on the host until the maps exist).
            // Limits go on before anyone joins: the init opens /dev/null as soon as it is in the devices cgroup,
            // which must not fall between "deny all" and the allow list.
            let resources = DeviceRules.allowingCreatedDevices(spec.linux?.resources, spec.linux?.devices)
            do {
                if rootless {
                    try createRootlessCgroups(&cgroups, cgroupsPath: spec.linux?.cgroupsPath, resources: resources)
                    configuration.cgroupPaths = cgroups.paths
                } else {
                    try cgroups.create()
                    try cgroups.apply(resources)
                }
            } catch let error as SyscallError {
                throw RuntimeError.system(error, stage: "cgroups")
            }
            configuration.selfJoinedCgroups = newUser ? [] : cgroups.selfJoinableHierarchies
            let unifiedCgroup = cgroups.openUnifiedDirectory()
            defer { if unifiedCgroup >= 0 { FileIO.close(unifiedCgroup) } }

            let (parentEnd, childEnd) = try FileIO.socketPair()
            defer { FileIO.close(parentEnd) }
            var childNamespaces = ChildNamespaces.needed(namespaces)
                ? try ChildNamespaces.enter(namespaces, timeOffsets: spec.linux?.timeOffsets) : nil
            var placedByClone: Int32 = 0
            let pid = tether_clone_into_cgroup(flags, unifiedCgroup, &placedByClone)
            if pid != 0 { childNamespaces?.restore() }
            if pid == 0 {
                FileIO.close(parentEnd)
                ContainerInit.run(configuration, sync: SyncSocket(fd: childEnd))
            }
            FileIO.close(childEnd)
            if pid < 0 { throw RuntimeError.system(.current("clone"), stage: "clone init") }
            childPid = pid
            let sync = SyncSocket(fd: parentEnd)

            if newUser {
                try Rootless.writeIDMaps(pid: pid, uidMappings: spec.linux?.uidMappings ?? [], gidMappings: spec.linux?.gidMappings ?? [])
            }
            do {
                try cgroups.addRemaining(pid: pid, selfJoined: configuration.selfJoinedCgroups, placedByClone: placedByClone != 0)
            } catch let error as SyscallError {
                throw RuntimeError.system(error, stage: "cgroups")
            }
            if security.listener != nil { try sync.send(.childPid(pid)) }
            try sync.send(.configured)
            try Runtime.awaitReady(sync, stage: "init") {
                try Runtime.runCreateRuntimeHooks(spec.hooks, state: hookState, pid: pid)
            }

            guard let startTime = ProcessSupport.startTime(of: pid) else {
                throw RuntimeError(.system, "container init exited during create", stage: "create")
            }
            let record = ContainerRecord(
                id: id, initPid: pid, initStartTime: startTime, bundle: bundle, rootfs: rootfs, created: Timestamp.now(),
                owner: Runtime.ownerName(), annotations: spec.annotations, cgroups: cgroups, namespaces: namespaces,
                process: process, seccomp: spec.linux?.seccomp, hooks: spec.hooks, resources: resources)
            try record.save(paths)
            lastRecord = ContainerRecord.FileIdentity(paths.stateFile).map { ContainerRecord.Cached(record: record, file: $0) }
            if let pidFile = options.pidFile {
                try FileIO.writeAtomically(Runtime.absolutePath(pidFile), Array("\(pid)".utf8), mode: 0o644, sync: false)
            }
            return record.state(paths)
        } catch {
            if childPid > 0 {
                Glibc.kill(childPid, SIGKILL)
                var status: Int32 = 0
                while waitpid(childPid, &status, 0) < 0 && errno == EINTR {}
            }
            try? cgroups.destroy()
            try? FileIO.removeTree(paths.directory)
            if let error = error as? SyscallError { throw RuntimeError.system(error, stage: "create") }
            throw error
        }
    }

    /// Waits for `.ready`, then for the child to close its end once it finished setting itself up (runc's
    /// procReady, then the pipe's close): a `.failure` from the child or its disappearance before `.ready` becomes a
    /// RuntimeError naming the stage. `runHooks` answers the init's `.runHooks` (prestart and createRuntime), then
    /// lets it go on.
    static func awaitReady(_ sync: SyncSocket, stage: String, runHooks: (() throws -> Void)? = nil) throws {
        var ready = false
        while true {
            guard let message = try sync.receive() else {
                if ready { return }
                throw RuntimeError(.system, "container \(stage) exited during setup", stage: stage)
            }
            switch message {
            case .ready where !ready: ready = true
            case .runHooks where runHooks != nil:
                try runHooks?()
                try sync.send(.hooksDone)
            case .failure(let failedStage, let code, let text):
                let syscall = code != 0 ? SyscallError(failedStage, errno: code) : nil
                let failedCode: RuntimeError.Code = failedStage.hasSuffix(" hook") ? .hookFailed : .system
                throw RuntimeError(failedCode, text, stage: failedStage, syscall: syscall)
            default:
                throw RuntimeError(.system, "unexpected sync message \(message)", stage: stage)
            }
        }
    }

    /// user first (it grants the rights to join the others), mount last (it changes the view of paths).
    static func joinOrder(_ namespaces: [Linux.Namespace]) -> [Linux.Namespace] {
        let order: [NamespaceType] = [.user, .ipc, .uts, .network, .pid, .cgroup, .time, .mount]
        return namespaces.sorted { (order.firstIndex(of: $0.type) ?? 99) < (order.firstIndex(of: $1.type) ?? 99) }
    }

    /// runc's rootless cgroup rule: hierarchies the user may not create or write are left out when the config names
    /// no cgroupsPath and asks for no limits; otherwise the permission error fails create. The device list is not
    /// written (a user namespace cannot make device nodes, and loading a v2 device program needs CAP_SYS_ADMIN).
    func createRootlessCgroups(_ cgroups: inout ControlGroupSet, cgroupsPath: String?, resources: Resources?) throws {
        let mayLeaveOut = (cgroupsPath ?? "").isEmpty
        let denied = try cgroups.create(leavingOutDenied: mayLeaveOut)
        if !denied.isEmpty {
            if Rootless.asksForLimits(resources) {
                let directories = denied.compactMap { cgroups.paths[$0] }.joined(separator: ", ")
                throw RuntimeError(.system,
                                   "linux.resources: cannot set limits without root: no permission to create \(directories) (delegate a cgroup to the user, or remove the limits)",
                                   stage: "cgroups")
            }
            for key in denied { cgroups.paths[key] = nil }
        }
        var limits = resources ?? Resources()
        limits.devices = nil
        try cgroups.update(limits)
    }

    /// Reads and validates `bundle`/config.json; errors name the file and the JSON path.
    public static func loadSpec(bundle: String) throws -> Spec {
        let file = bundle + "/config.json"
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(file)
        } catch let error as SyscallError {
            if error.errno == ENOENT {
                throw RuntimeError(.invalidConfig, "\(file): no such file (is \(bundle) an OCI bundle?)")
            }
            throw RuntimeError(.invalidConfig, "\(file): \(SyscallError.describe(error.errno))")
        }
        do {
            let spec = try Spec.decode(bytes, file: file)
            try spec.validate()
            return spec
        } catch {
            if error.path.isEmpty { throw RuntimeError(.invalidConfig, error.message) }
            throw RuntimeError(.invalidConfig, "\(file): \(error.description)")
        }
    }

    /// runc's rule: letters, digits, `_ + - .`, not "." or "..".
    static func validate(id: String) throws {
        let allowed = id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
        if id.isEmpty || !allowed || id == "." || id == ".." || id.utf8.count > 1024 {
            throw RuntimeError(.invalidArgument,
                               "invalid container id \(PrintableText.quoted(id)): only [a-zA-Z0-9_+.-], not . or .., at most 1024 bytes")
        }
    }

    static func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return normalize(path) }
        guard let directory = FileIO.workingDirectory else { return path }
        return normalize(directory + "/" + path)
    }

    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for component in path.split(separator: "/") {
            if component == "." { continue }
            if component == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(component)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The effective user's name from /etc/passwd, found as runc finds it (Go's os/user reads the file); ""
    /// without an entry. getpwuid went through NSS instead: nsswitch.conf, two nscd connects, then the file.
    static func ownerName() -> String {
        let uid = geteuid()
        guard let bytes = try? FileIO.readFile("/etc/passwd") else { return "" }
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: ":"), maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count >= 3, UInt32(String(decoding: fields[2], as: UTF8.self)) == uid else { continue }
            return String(decoding: fields[0], as: UTF8.self)
        }
        return ""
    }

    func prepareRoot() throws {
        do {
            try FileIO.makeDirectories(root, mode: 0o711)
        } catch let error as SyscallError {
            throw RuntimeError.system(error, stage: "create root \(root)")
        }
    }
}
