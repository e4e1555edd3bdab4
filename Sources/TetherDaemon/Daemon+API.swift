#if canImport(Glibc)
import Glibc
#endif
import OCISpec
import TTRPC
import TetherAPI
import TetherSystem

/// The `tether.daemon.v1.Daemon` service, and the Events service the shims publish to.
extension Daemon {
    func registerAPI() {
        server.register(DaemonService.run) { [unowned self] request, _, reply in
            self.run(request) { result in reply.complete { try result.get() } }
        }
        server.register(DaemonService.create, sync: { [unowned self] request in Daemon.runResponse(try self.create(request, write: .synced)) })
        server.register(DaemonService.start) { [unowned self] request, _, reply in
            do {
                self.start(try self.resolve(request.id)) { result in reply.complete { Daemon.runResponse(try result.get()) } }
            } catch {
                reply.fail(error)
            }
        }
        server.register(DaemonService.restart) { [unowned self] request, _, reply in
            do {
                let id = try self.resolve(request.id).id
                try self.stop(try self.resolve(id), grace: request.timeoutSeconds == 0 ? 10 : request.timeoutSeconds) { [unowned self] stopped in
                    if case .failure(let error) = stopped { return reply.fail(error) }
                    guard let record = self.records[id] else { return reply.fail(TTRPCStatus(.notFound, "no such container: \(request.id)")) }
                    self.start(record) { result in reply.complete { Daemon.runResponse(try result.get()) } }
                }
            } catch {
                reply.fail(error)
            }
        }
        server.register(DaemonService.events) { [unowned self] request, _, reply in
            self.events.poll(request, reply)
        }
        server.register(DaemonService.list) { [unowned self] request, _, reply in
            let containers = self.records.values
                .filter { request.all || $0.status == .running }
                .sorted { $0.createdAt > $1.createdAt }
                .map(Daemon.info)
            reply.succeed(.with { $0.containers = containers })
        }
        server.register(DaemonService.inspect, sync: { [unowned self] request in Daemon.info(try self.resolve(request.id)) })
        server.register(DaemonService.kill) { [unowned self] request, _, reply in
            do {
                let id = try self.resolve(request.id).id
                try self.signal(try self.resolve(id), request.signal == 0 ? UInt32(SIGKILL) : request.signal) { [unowned self] result in
                    if case .success = result, var record = self.records[id] { self.markManuallyStopped(&record) }
                    reply.complete { try result.get() }
                }
            } catch {
                reply.fail(error)
            }
        }
        server.register(DaemonService.wait) { [unowned self] request, _, reply in
            do {
                let record = try self.resolve(request.id)
                if record.status == .exited {
                    reply.succeed(.with { $0.exitCode = record.exitCode })
                } else {
                    self.exitWaiters[record.id, default: []].append { code in reply.succeed(.with { $0.exitCode = code }) }
                }
            } catch {
                reply.fail(error)
            }
        }
        server.register(DaemonService.stop) { [unowned self] request, _, reply in
            do {
                try self.stop(try self.resolve(request.id), grace: request.timeoutSeconds == 0 ? 10 : request.timeoutSeconds) { result in
                    reply.complete { let code = try result.get(); return .with { $0.exitCode = code } }
                }
            } catch {
                reply.fail(error)
            }
        }
        server.register(DaemonService.remove) { [unowned self] request, _, reply in
            do {
                self.removeContainer(try self.resolve(request.id).id, force: request.force) { result in
                    reply.complete { try result.get(); return Google_Protobuf_Empty() }
                }
            } catch {
                reply.fail(error)
            }
        }
        server.register(DaemonService.prune) { [unowned self] _, _, reply in
            let stopped = self.records.values.filter { $0.status != .running }.map(\.id)
            for id in stopped { self.removeContainer(id, force: false) { _ in } }
            reply.succeed(.with { $0.removed = stopped })
        }
        // Shims publish task events here (TTRPC_ADDRESS is this socket); an exit event settles a container
        // even when its Wait connection was lost, and an OOM event is passed on to `events`.
        server.register(EventsService.forward) { [unowned self] request, _, reply in
            reply.succeed(Google_Protobuf_Empty())
            if request.envelope.event.holds(Containerd_Events_TaskExit.self),
               let exit = try? request.envelope.event.unpack(Containerd_Events_TaskExit.self),
               exit.id == exit.containerID || exit.id.isEmpty,
               // Not the exit of a task this container had before a restart.
               let record = self.records[exit.containerID], exit.pid == 0 || exit.pid == record.pid {
                self.exited(exit.containerID, code: Int32(bitPattern: exit.exitStatus), at: exit.exitedAt)
            }
            if request.envelope.topic == Tether_Daemon_V1_Event.logDroppedTopic,
               let report = try? request.envelope.event.unpack(Tether_Daemon_V1_Event.self),
               report.type == Tether_Daemon_V1_Event.logDroppedType {
                self.logDropped(report.id, total: report.logDroppedBytes)
            }
            if request.envelope.event.holds(Containerd_Events_TaskOOM.self),
               let oom = try? request.envelope.event.unpack(Containerd_Events_TaskOOM.self), let record = self.records[oom.containerID] {
                Daemon.log.warning("container ran out of memory: OOM kill", metadata: Daemon.fields(record))
                self.events.publish("oom", record)
            }
        }
    }

    /// Create and Start in one; a run that fails leaves nothing: no record, no shim (`abandonLaunch`), no directory.
    func run(_ request: Tether_Daemon_V1_RunRequest, completion: @escaping (Result<Tether_Daemon_V1_RunResponse, Error>) -> Void) {
        let record: ContainerRecord
        do {
            record = try create(request, write: .whenStarted)
        } catch {
            return completion(.failure(error))
        }
        launch(record, command: "run") { [weak self] result in
            switch result {
            case .success(let running):
                completion(.success(Daemon.runResponse(running)))
            case .failure(let error):
                self?.removeContainer(record.id, force: true) { _ in }
                completion(.failure(error))
            }
        }
    }

    /// When a new record is first written.
    enum FirstWrite {
        /// Now, fsynced (`create`: the container must outlive even a machine crash).
        case synced
        /// By `launch`, once the task runs (`run`: the shim starts sooner). A tetherd killed before that leaves
        /// directories without a record, which its restart removes with their shim.
        case whenStarted
    }

    /// A new record (status created) after every setting was checked.
    func create(_ request: Tether_Daemon_V1_RunRequest, write: FirstWrite) throws -> ContainerRecord {
        guard !request.args.isEmpty else { throw TTRPCStatus(.invalidArgument, "a command is required") }
        try Daemon.validate(request)
        guard FileIO.isDirectory(request.rootfs) else {
            throw TTRPCStatus(.invalidArgument, "ROOTFS \(request.rootfs): not a directory")
        }
        if !request.name.isEmpty, records.values.contains(where: { $0.name == request.name }) {
            throw TTRPCStatus(.alreadyExists, "the container name \"\(request.name)\" is already in use")
        }
        // A run's container gets the id of the spare shim started for it (Daemon+SpareShim).
        let id = write == .whenStarted ? spareShim?.id ?? Daemon.randomID() : Daemon.randomID()
        var record = try Daemon.record(request, id: id)
        if let reference = record.settings.pidNamespaceContainer { _ = try resolve(reference) }
        record.createdAt = Daemon.now()
        record.bundle = bundleDirectory(id)
        record.logPath = containerDirectory(id) + "/container.log"
        switch write {
        case .synced:
            try saveDurably(record)
            Daemon.crashPoint("create:after-record")
        case .whenStarted:
            records[id] = record
        }
        events.publish("create", record)
        return record
    }

    /// The record a request asks for, before it has a bundle, a log or a creation time: every field of the request
    /// (but `detach`, which only tetherctl acts on) lands in the record or its settings (TetherDaemonTests'
    /// request-to-config.json test covers each one).
    static func record(_ request: Tether_Daemon_V1_RunRequest, id: String) throws -> ContainerRecord {
        guard let restart = RestartPolicy.parse(request.restart) else {
            throw TTRPCStatus(.invalidArgument, "--restart \(request.restart): expected no, on-failure[:N] or always")
        }
        var record = ContainerRecord(
            id: id, name: request.name.isEmpty ? "c-" + String(id.prefix(8)) : request.name, rootfs: request.rootfs,
            args: request.args, env: request.env, cwd: request.cwd, hostname: request.hostname,
            readOnly: request.readOnly, network: request.network.isEmpty ? "none" : request.network,
            remove: request.remove, restart: restart)
        record.settings = try Daemon.settings(request)
        return record
    }

    static func settings(_ request: Tether_Daemon_V1_RunRequest) throws -> ContainerSettings {
        var settings = ContainerSettings()
        settings.tty = request.tty
        settings.openStdin = request.openStdin
        settings.user = request.user
        settings.pid = request.pid
        settings.memoryBytes = request.memoryBytes
        settings.nanoCPUs = request.nanoCpus
        settings.pidsLimit = request.pidsLimit
        settings.privileged = request.privileged
        settings.capAdd = request.capAdd
        settings.capDrop = request.capDrop
        settings.securityOptions = request.securityOpt
        settings.consoleSize = consoleSize(request.hasConsoleSize ? request.consoleSize : nil)
        let logOptions = try LogOptions.parse(request.logOpt)
        settings.logOptions = logOptions.maxSize > 0 ? logOptions : nil
        guard settings.pid.isEmpty || settings.pid == "host" || settings.pidNamespaceContainer?.isEmpty == false else {
            throw TTRPCStatus(.invalidArgument, "--pid \(settings.pid): expected host or container:NAME")
        }
        guard settings.memoryBytes >= 0, settings.nanoCPUs >= 0, settings.pidsLimit >= 0 else {
            throw TTRPCStatus(.invalidArgument, "--memory, --cpus and --pids-limit must not be negative")
        }
        _ = try BundleWriter.processUser(settings.user)
        try SecurityProfile.validate(settings)
        return settings
    }

    /// A client's terminal size as the OCI process's; none when it has no rows or columns.
    static func consoleSize(_ size: Tether_Daemon_V1_ConsoleSize?) -> OCISpec.Process.ConsoleSize? {
        guard let size, size.height > 0, size.width > 0 else { return nil }
        return .init(height: size.height, width: size.width)
    }

    static func runResponse(_ record: ContainerRecord) -> Tether_Daemon_V1_RunResponse {
        .with {
            $0.id = record.id
            $0.pid = record.pid
            $0.logPath = record.logPath
            $0.stdinPath = record.settings.openStdin ? BundleWriter.stdinPath(bundle: record.bundle) : ""
        }
    }

    /// Sends `signal` to the container's init through its shim; `completion` runs on the loop.
    func signal(_ record: ContainerRecord, _ signal: UInt32, completion: @escaping (Result<Google_Protobuf_Empty, Error>) -> Void) throws {
        guard record.status == .running else { throw TTRPCStatus(.failedPrecondition, "container \(record.name) is not running") }
        callShim(record, TaskService.kill, Containerd_Task_V2_KillRequest.with { $0.id = record.id; $0.signal = signal }) {
            (result: Result<Google_Protobuf_Empty, TTRPCStatus>) in completion(result.mapError { $0 })
        }
    }

    static func info(_ record: ContainerRecord) -> Tether_Daemon_V1_ContainerInfo {
        .with {
            $0.id = record.id
            $0.name = record.name
            $0.rootfs = record.rootfs
            $0.args = record.args
            $0.status = record.status.rawValue
            $0.pid = record.status == .running ? record.pid : 0
            $0.exitCode = record.exitCode
            $0.createdAtNs = record.createdAt
            $0.startedAtNs = record.startedAt
            $0.finishedAtNs = record.finishedAt
            $0.logPath = record.logPath
            $0.shimAddress = record.shimAddress
            $0.bundle = record.bundle
            $0.restartCount = record.restartCount
            $0.restart = record.restart.description
            $0.tty = record.settings.tty
            $0.stdinPath = record.settings.openStdin ? BundleWriter.stdinPath(bundle: record.bundle) : ""
            $0.error = record.error ?? ""
            $0.logDroppedBytes = record.logDroppedBytes ?? 0
        }
    }

    /// A shim's report of the bytes its container's log could not take (Shim+LogDrops): kept for `inspect`
    /// (`LogDroppedBytes`), and said once in the events (`log-dropped`) when the first bytes are lost.
    func logDropped(_ id: String, total: UInt64) {
        guard var record = records[id], record.status != .created else { return }
        let isFirst = (record.logDroppedBytes ?? 0) == 0 && total > 0
        record.logDroppedBytes = total
        if isFirst || record.status != .running {
            save(record)
        } else {
            records[id] = record
        }
        if isFirst { events.publish(Tether_Daemon_V1_Event.logDroppedType, record, logDroppedBytes: total) }
    }

    /// 32 hex digits from two 64-bit draws (two getrandom calls, not sixteen).
    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let hex = String(generator.next(), radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}
