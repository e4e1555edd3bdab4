#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging
import OCISpec
import TTRPC
import TetherAPI
import TetherRuntime
import TetherSystem

/// containerd.task.v2.Task over ttrpc, with the error statuses containerd's runc shim returns.
extension Shim {
    func registerTaskService() {
        server.register(TaskService.create, sync: { [unowned self] request in
            do {
                return try self.create(request)
            } catch {
                shimLog.error("create failed", metadata: ["id": "\(request.id)", "error": "\(error)"])
                throw error
            }
        })
        server.register(TaskService.start, sync: { [unowned self] request in try self.start(request) })
        server.register(TaskService.state, sync: { [unowned self] request in try self.state(request) })
        server.register(TaskService.kill, sync: { [unowned self] request in try self.kill(request) })
        server.register(TaskService.wait) { [unowned self] request, _, reply in
            do {
                let process = try self.lookup(request.id, request.execID).1
                if process.hasExited && !(process.isInit && self.containers[request.id]?.initExitPending == true) {
                    reply.succeed(process.waitResponse)
                } else {
                    process.waiters.append(reply)
                }
            } catch {
                reply.fail(error)
            }
        }
        server.register(TaskService.delete, sync: { [unowned self] request in try self.delete(request) })
        server.register(TaskService.pids, sync: { [unowned self] request in try self.pids(request) })
        server.register(TaskService.resizePty, sync: { [unowned self] request in
            let process = try self.lookup(request.id, request.execID).1
            do {
                try process.stdio.resize(width: request.width, height: request.height)
            } catch {
                throw TTRPCStatus(.failedPrecondition, "\(error)")
            }
            return Google_Protobuf_Empty()
        })
        server.register(TaskService.closeIO, sync: { [unowned self] request in
            let process = try self.lookup(request.id, request.execID).1
            if request.stdin { process.stdio.closeStdin() }
            return Google_Protobuf_Empty()
        })
        server.register(TaskService.connect) { [unowned self] request, _, reply in
            var response = Containerd_Task_V2_ConnectResponse()
            response.shimPid = UInt32(getpid())
            response.version = ShimVersion.current
            if let container = self.containers[request.id] { response.taskPid = UInt32(container.initProcess.pid) }
            reply.succeed(response)
        }
        server.register(TaskService.shutdown) { [unowned self] request, _, reply in
            reply.succeed(Google_Protobuf_Empty())
            if request.now || self.containers.isEmpty { self.exitSoon() }
        }
        server.register(TaskService.exec, sync: { [unowned self] request in try self.exec(request) })
        registerFreezerService()
    }

    func lookup(_ id: String, _ execID: String) throws -> (ContainerTask, ManagedProcess) {
        guard let container = containers[id] else { throw TTRPCStatus(.notFound, "container \(id): not found") }
        guard let process = container.process(execID) else {
            throw TTRPCStatus(.notFound, "process \(execID) of container \(id): not found")
        }
        return (container, process)
    }

    static func status(_ error: any Error) -> TTRPCStatus {
        if let status = error as? TTRPCStatus { return status }
        if let error = error as? RuntimeError {
            let code: TTRPCStatusCode = switch error.code {
            case .notFound: .notFound
            case .alreadyExists: .alreadyExists
            case .invalidState: .failedPrecondition
            case .invalidArgument, .invalidConfig: .invalidArgument
            case .unsupported: .unimplemented
            default: .unknown
            }
            return TTRPCStatus(code, error.description)
        }
        return TTRPCStatus(.unknown, "\(error)")
    }

    // MARK: Create / Start

    func create(_ request: Containerd_Task_V2_CreateTaskRequest) throws -> Containerd_Task_V2_CreateTaskResponse {
        guard !request.id.isEmpty else { throw TTRPCStatus(.invalidArgument, "id: must not be empty") }
        guard containers[request.id] == nil else { throw TTRPCStatus(.alreadyExists, "container \(request.id): already exists") }
        let bundle = request.bundle.isEmpty ? ShimStart.currentDirectory() : request.bundle
        guard FileIO.exists(bundle + "/config.json") else {
            throw TTRPCStatus(.invalidArgument, "bundle: \(bundle)/config.json does not exist")
        }
        // Rootless: the init mounts the rootfs (an overlay) in its own user and mount namespaces, where the kernel
        // lets the user; it goes away with them.
        let initMounts = runtime.rootless ? request.rootfs.map { Mount(destination: "/", type: $0.type, source: $0.source, options: $0.options) } : []
        let mounted = runtime.rootless ? false : try RootfsMounts.mount(request.rootfs, at: bundle + "/rootfs")
        let stdio: ProcessStdio
        do {
            stdio = try ProcessStdio(loop: loop, stdin: request.stdin, stdout: request.stdout, stderr: request.stderr,
                                     terminal: request.terminal, containerID: request.id, namespace: flags.namespace)
        } catch {
            if mounted { RootfsMounts.unmount(bundle + "/rootfs") }
            throw TTRPCStatus(.invalidArgument, "stdio: \(error)")
        }
        let io = ProcessIO(stdin: stdio.childStdin, stdout: stdio.childStdout, stderr: stdio.childStderr,
                           consoleSocket: stdio.consoleSocketForChild)
        let pid: Int32
        let memoryCgroup: MemoryCgroup?
        do {
            // The runtime's work (config.json, cgroups, seccomp, the clone) runs in a one-off child: none of it
            // stays resident here. The init is re-parented to the shim when that child exits.
            let runtime = self.runtime
            let created = try OneOffChild.run("create") {
                var options = CreateOptions(bundle: bundle, io: io)
                options.rootfsMounts = initMounts
                let pid = try runtime.create(id: request.id, options: options).pid
                let memory = (try? runtime.memoryCgroup(id: request.id)).map { MemoryCgroup(directory: $0.directory, isV2: $0.isV2) }
                return OneOffChild.bytes(of: pid) + MemoryCgroup.encode(memory)
            }
            pid = OneOffChild.int32(created.prefix(4))
            memoryCgroup = MemoryCgroup.decode(created.dropFirst(4))
            try stdio.childStarted()
        } catch {
            stdio.closeAll()
            try? runtime.delete(id: request.id, force: true)
            if mounted { RootfsMounts.unmount(bundle + "/rootfs") }
            throw Shim.status(error)
        }
        let process = ManagedProcess(execID: "", stdio: stdio)
        process.pid = pid
        let container = ContainerTask(id: request.id, bundle: bundle, rootfsMounted: mounted, initProcess: process,
                                      ownsPidNamespace: ProcessSupport.isPidNamespaceInit(pid))
        containers[request.id] = container
        try? FileIO.writeAtomically(bundle + "/init.pid", Array(String(pid).utf8), sync: false)
        _ = unlink(ExitRecord.path(bundle: bundle))
        events.publish(Containerd_Events_TaskCreate.with {
            $0.containerID = request.id
            $0.bundle = bundle
            $0.rootfs = request.rootfs
            $0.io = Containerd_Events_TaskIO.with {
                $0.stdin = request.stdin
                $0.stdout = request.stdout
                $0.stderr = request.stderr
                $0.terminal = request.terminal
            }
            $0.pid = UInt32(pid)
        })
        let containerID = request.id
        do {
            guard let memoryCgroup else { throw TTRPCStatus(.unimplemented, "no memory cgroup for the container") }
            let notifier = try OOMNotifier(memoryDirectory: memoryCgroup.directory, isV2: memoryCgroup.isV2)
            try oom.watch(id: containerID, notifier: notifier) { [weak self] in
                shimLog.warning("container ran out of memory: OOM kill", metadata: ["id": "\(containerID)"])
                self?.events.publish(Containerd_Events_TaskOOM.with { $0.containerID = containerID })
            }
        } catch {
            shimLog.warning("no OOM events for the container", metadata: ["id": "\(containerID)", "error": "\(error)"])
        }
        claimEarlyExit(container, process)
        return Containerd_Task_V2_CreateTaskResponse.with { $0.pid = UInt32(pid) }
    }

    func start(_ request: Containerd_Task_V2_StartRequest) throws -> Containerd_Task_V2_StartResponse {
        let (container, process) = try lookup(request.id, request.execID)
        guard process.status == .created else {
            throw TTRPCStatus(.failedPrecondition, "process \(request.execID.isEmpty ? request.id : request.execID): cannot start a \(Shim.name(process.status)) process")
        }
        if process.isInit {
            let runtime = self.runtime, id = container.id
            _ = try OneOffChild.run("start") {
                try runtime.start(id: id)
                return []
            }
            if process.status == .created { process.status = .running }
            events.publish(Containerd_Events_TaskStart.with {
                $0.containerID = container.id
                $0.pid = UInt32(process.pid)
            })
        } else {
            try startExec(container, process)
        }
        return Containerd_Task_V2_StartResponse.with { $0.pid = UInt32(process.pid) }
    }

    static func name(_ status: TaskStatus) -> String {
        switch status {
        case .created: "created"
        case .running: "running"
        case .stopped: "stopped"
        case .paused: "paused"
        case .pausing: "pausing"
        default: "unknown"
        }
    }

    // MARK: State / Kill / Delete / Pids

    func state(_ request: Containerd_Task_V2_StateRequest) throws -> Containerd_Task_V2_StateResponse {
        let (container, process) = try lookup(request.id, request.execID)
        return Containerd_Task_V2_StateResponse.with {
            $0.id = process.isInit ? container.id : process.execID
            $0.bundle = container.bundle
            $0.pid = UInt32(process.pid)
            $0.status = process.status
            $0.stdin = process.stdio.stdinPath
            $0.stdout = process.stdio.stdoutPath
            $0.stderr = process.stdio.stderrPath
            $0.terminal = process.stdio.terminal
            $0.exitStatus = process.exitStatus
            if let exitedAt = process.exitedAt { $0.exitedAt = exitedAt }
            $0.execID = process.execID
        }
    }

    func kill(_ request: Containerd_Task_V2_KillRequest) throws -> Google_Protobuf_Empty {
        let (container, process) = try lookup(request.id, request.execID)
        let signal = Int32(request.signal)
        guard signal > 0 && signal < 65 else { throw TTRPCStatus(.invalidArgument, "signal: invalid signal \(request.signal)") }
        if process.isInit {
            if process.hasExited && !request.all { throw TTRPCStatus(.notFound, "process already finished") }
            do {
                try runtime.kill(id: container.id, signal: signal, all: request.all)
            } catch {
                if process.hasExited { return Google_Protobuf_Empty() }
                throw Shim.status(error)
            }
        } else {
            guard !process.hasExited, process.pid > 0 else { throw TTRPCStatus(.notFound, "process already finished") }
            if Glibc.kill(process.pid, signal) != 0 { throw TTRPCStatus(.notFound, "process already finished") }
        }
        return Google_Protobuf_Empty()
    }

    func delete(_ request: Containerd_Task_V2_DeleteRequest) throws -> Containerd_Task_V2_DeleteResponse {
        let (container, process) = try lookup(request.id, request.execID)
        if !process.isInit {
            guard process.status != .running else {
                throw TTRPCStatus(.failedPrecondition, "cannot delete a running exec process \(process.execID)")
            }
            container.execs.removeValue(forKey: process.execID)
            pendingExecSpecs.removeValue(forKey: ExecKey(container: container.id, exec: process.execID))
            process.stdio.closeAll()
            return Containerd_Task_V2_DeleteResponse.with {
                $0.pid = UInt32(process.pid)
                $0.exitStatus = process.exitStatus
                if let exitedAt = process.exitedAt { $0.exitedAt = exitedAt }
            }
        }
        switch process.status {
        case .running, .paused, .pausing:
            throw TTRPCStatus(.failedPrecondition, "cannot delete a running task \(container.id)")
        case .created:
            // Never started: kill the waiting init; its exit is recorded as 137.
            try? runtime.delete(id: container.id, force: true)
            let now = Google_Protobuf_Timestamp.now()
            process.markExited(status: 128 + UInt32(SIGKILL), at: now)
        default:
            break
        }
        for exec in container.execs.values where !exec.hasExited && exec.pid > 0 { _ = Glibc.kill(exec.pid, SIGKILL) }
        do {
            try runtime.delete(id: container.id, force: true)
        } catch let error as RuntimeError where error.code == .notFound {
            // Already gone.
        } catch {
            throw Shim.status(error)
        }
        if container.rootfsMounted, let releaser = RootfsRelease.unmount(container.bundle + "/rootfs") {
            rootfsReleasers.insert(releaser)
        }
        process.stdio.closeAll()
        containers.removeValue(forKey: container.id)
        shimLog.info("task deleted", metadata: ["id": "\(container.id)", "status": "\(process.exitStatus)"])
        oom.stop(id: container.id)
        let exitedAt = process.exitedAt ?? .now()
        events.publish(Containerd_Events_TaskDelete.with {
            $0.containerID = container.id
            $0.pid = UInt32(process.pid)
            $0.exitStatus = process.exitStatus
            $0.exitedAt = exitedAt
            $0.id = container.id
        })
        return Containerd_Task_V2_DeleteResponse.with {
            $0.pid = UInt32(process.pid)
            $0.exitStatus = process.exitStatus
            $0.exitedAt = exitedAt
        }
    }

    func pids(_ request: Containerd_Task_V2_PidsRequest) throws -> Containerd_Task_V2_PidsResponse {
        let (container, process) = try lookup(request.id, "")
        guard !process.hasExited else { return Containerd_Task_V2_PidsResponse() }
        // The container's cgroup, as runc's `ps` and containerd's runc shim: under `--pid host` the init's pid
        // namespace is the host's, and every process of the host would be listed.
        let pids: [Int32]
        do {
            pids = try runtime.processes(id: container.id).sorted()
        } catch {
            throw Shim.status(error)
        }
        return Containerd_Task_V2_PidsResponse.with {
            $0.processes = pids.map { pid in
                Containerd_V1_Types_ProcessInfo.with { info in
                    info.pid = UInt32(pid)
                    if let exec = container.execs.values.first(where: { $0.pid == pid && !$0.hasExited }),
                       let any = try? Google_Protobuf_Any(containerd: RuncProcessDetails.with { $0.execID = exec.execID }) {
                        info.info = any
                    }
                }
            }
        }
    }
}

public enum ShimVersion {
    public static let current = "tether-shim 0.1.0"
}
