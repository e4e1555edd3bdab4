#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import FoundationEssentials
import Logging
import TTRPC
import TetherAPI
import TetherSystem

/// tetherd: a single-threaded daemon on one epoll loop. It spawns one tether-shim per container through the
/// shim's start contract, talks to shims only over ttrpc (containerd.task.v2.Task) on loop clients with deadlines
/// (Daemon+ShimCalls: it never waits for a shim), watches each shim's process (Daemon+ShimLoss), keeps one record
/// per container on disk, and on start reconnects to every shim that is still there. It never forks containers.
public final class Daemon {
    public struct Configuration: Sendable {
        public var root: String
        public var state: String
        public var socket: String
        public var shimBinary: String

        public init(root: String = "/var/lib/tether", state: String = "/run/tether", socket: String? = nil, shimBinary: String) {
            self.root = root
            self.state = state
            self.socket = socket ?? state + "/tetherd.sock"
            self.shimBinary = shimBinary
        }
    }

    static let namespace = "tether"
    let configuration: Configuration
    let loop: EventLoop
    let server: TTRPCServer
    var records: [String: ContainerRecord] = [:]
    /// What runs when a container exits (answers to Wait, Stop and Restart), by container id.
    var exitWaiters: [String: [(Int32) -> Void]] = [:]
    /// Task.Wait calls in flight to each running container's shim, on the shim's shared connection.
    var shimWaits: [String: ShimWait] = [:]
    /// Containers whose record is gone and whose task, shim and directories are being removed (`finishRemoval`).
    var removalsUnderWay: Set<String> = []
    /// SIGTERM arrived: the loop stops once `removalsUnderWay` is empty (or the grace ends).
    var isStopping = false
    static let stopGraceMilliseconds: UInt64 = 5_000

    /// A Task.Wait in flight: given up with `cancel` (the connection stays, the other calls on it go on).
    struct ShimWait {
        let client: TTRPCLoopClient
        let call: TTRPCLoopClient.CallID

        func cancel() { client.cancel(call) }
    }
    /// Exec processes, by exec id, kept a minute after they exit so that a late WaitExec gets the code.
    var execSessions: [String: ExecSession] = [:]
    let events: EventJournal
    /// The read scratch of every loop client to a shim (one per running container holds a Wait): one 64 KiB
    /// buffer instead of one each.
    let shimReads = TTRPCReadBuffer()
    /// The environment every shim is spawned with (ShimLauncher).
    let shimEnvironment: [String]
    /// The shim waiting for the next `run` (Daemon+SpareShim).
    var spareShim: SpareShim?
    /// tetherd's loop connection to each shim, by address (Daemon+ShimCalls).
    var shimConnections: [String: TTRPCLoopClient] = [:]
    /// The process of each shim tetherd spawned, by address: its death is noticed at once (Daemon+ShimLoss).
    var shimProcesses: [String: ProcessExitWatch] = [:]
    /// `tether-shim delete` runs cleaning up after lost shims, by container id (Daemon+ShimLoss).
    var shimCleanups: [String: ProcessExitWatch] = [:]
    /// SIGTERM and SIGINT: tetherd exits, and its spare shim with it.
    let terminationSignals: SignalFD

    public init(_ configuration: Configuration) throws {
        self.configuration = configuration
        for (flag, path) in [("--root", configuration.root), ("--state", configuration.state)] where !path.hasPrefix("/") {
            throw TTRPCStatus(.invalidArgument, "\(flag) \(path): must be an absolute path")
        }
        if let problem = ShimLauncher.socketPathProblem(state: configuration.state) { throw TTRPCStatus(.invalidArgument, problem) }
        try FileIO.makeDirectories(configuration.root + "/containers", mode: 0o700)
        try FileIO.makeDirectories(configuration.state + "/bundles", mode: 0o700)
        _ = chmod(configuration.state, 0o700)
        // Shims are tetherd's children (ShimLauncher): the kernel reaps them when they exit. They inherit nothing
        // but their stdio and listener: what tetherd opens is close-on-exec, and so becomes what it inherited.
        _ = Glibc.signal(SIGCHLD, SIG_IGN)
        // A subreaper: what a shim that died leaves (its container's processes, killed by `tether-shim delete`) is
        // reparented to tetherd, which the kernel reaps for (SIGCHLD ignored), rather than to a PID 1 that may not.
        _ = tether_set_child_subreaper(1)
        _ = tether_cloexec_from(3)
        try SignalFD.block([SIGTERM, SIGINT])
        terminationSignals = try SignalFD([SIGTERM, SIGINT])
        loop = try EventLoop()
        let listener = try UnixSocket.listen(path: configuration.socket, mode: 0o600)
        server = TTRPCServer(loop: loop, listener: listener)
        events = EventJournal(loop: loop)
        shimEnvironment = ShimLauncher.environment(daemonAddress: configuration.socket)
        registerAPI()
        registerExecAPI()
        try loop.register(terminationSignals.fd, .readable) { [weak self] _ in self?.terminate() }
        reconnect()
        try FileIO.makeDirectories(spareDirectory, mode: 0o700)
        shutDownLeftSpareShims()
        loop.schedule(after: 0) { [weak self] in self?.prepareSpareShim() }
        Daemon.log.info("tetherd started", metadata: ["root": "\(configuration.root)", "state": "\(configuration.state)",
                                                      "socket": "\(configuration.socket)", "containers": "\(records.count)"])
    }

    public func run() throws { try loop.run() }

    /// SIGTERM or SIGINT: the spare shim (no container) exits with tetherd; the shims of containers stay, as they do
    /// when tetherd is killed, and a restarted tetherd reconnects to them.
    /// Removals already answered finish first (their task deleted, the rootfs unmounted, the shim gone), within
    /// `stopGraceMilliseconds`; what is still left then, a restarted tetherd finishes (`sweepRemoved`).
    func terminate() {
        let signals = terminationSignals.drain()
        Daemon.log.info("tetherd stopping", metadata: ["signal": "\(signals.contains(SIGINT) ? "SIGINT" : "SIGTERM")"])
        retireSpareShim()
        server.stopAccepting()
        guard !removalsUnderWay.isEmpty else { return loop.stop() }
        isStopping = true
        loop.schedule(after: Daemon.stopGraceMilliseconds) { [weak self] in self?.loop.stop() }
    }

    func recordPath(_ id: String) -> String { configuration.root + "/containers/\(id)/record.json" }
    func containerDirectory(_ id: String) -> String { configuration.root + "/containers/\(id)" }
    func bundleDirectory(_ id: String) -> String { configuration.state + "/bundles/\(id)" }

    /// Finds a container by id, name or unique id prefix.
    func resolve(_ reference: String) throws -> ContainerRecord {
        if let record = records[reference] { return record }
        if let record = records.values.first(where: { $0.name == reference }) { return record }
        let matches = records.values.filter { $0.id.hasPrefix(reference) }
        if matches.count == 1, let record = matches.first { return record }
        if matches.count > 1 { throw TTRPCStatus(.invalidArgument, "container reference \(PrintableText.quoted(reference)) is ambiguous") }
        throw TTRPCStatus(.notFound, "no such container: \(PrintableText.escaped(reference))")
    }

    static func now() -> Int64 {
        let (seconds, nanoseconds) = Clock.realtime()
        return seconds * 1_000_000_000 + Int64(nanoseconds)
    }

    // MARK: Reconnect

    /// Loads every record; for containers that were running, holds a Wait on the shim again (its reply is the exit,
    /// at once for a task that stopped meanwhile) or, when the shim is gone, cleans up after it (`shimLost`: the
    /// exit it recorded in the bundle, else 137 "shim exited unexpectedly").
    func reconnect() {
        guard let ids = try? FileIO.listDirectory(configuration.root + "/containers") else { return }
        for id in ids {
            guard FileIO.exists(recordPath(id)) else {
                sweepRemoved(id)
                continue
            }
            let record: ContainerRecord
            do {
                guard let loaded = try ContainerRecord.load(recordPath(id)) else { continue }
                record = loaded
            } catch {
                Daemon.log.error("container record not loaded", metadata: ["id": "\(id)", "error": "\(error)"])
                continue
            }
            records[id] = record
            if record.status == .running {
                watch(id)
                if shimWaits[id] != nil {
                    Daemon.log.info("reconnected to the shim of a running container", metadata: Daemon.fields(record, ["shim": "\(record.shimAddress)"]))
                }
            } else {
                adoptUnrecordedTask(id)
                // An exit recorded by a tetherd killed before its restart policy fired (the backoff): the policy
                // applies now, as docker restarts such containers when the daemon starts.
                if record.status == .exited && !record.isManuallyStopped
                    && record.restart.shouldRestart(exitCode: record.exitCode, restarts: record.restartCount) {
                    Daemon.log.info("restart policy applies to a container that exited before tetherd's restart",
                                    metadata: Daemon.fields(record, ["exitCode": "\(record.exitCode)"]))
                    loop.schedule(after: RestartPolicy.backoff(restarts: record.restartCount)) { [weak self] in
                        self?.restartByPolicy(id)
                    }
                }
            }
        }
        // A bundle without a record: a run or start that tetherd did not live to record (its directory in
        // `containers/` may not exist yet).
        for id in (try? FileIO.listDirectory(configuration.state + "/bundles")) ?? [] where records[id] == nil && !ids.contains(id) {
            sweepRemoved(id)
        }
    }

    /// A container recorded as created or exited whose shim runs a task tetherd did not live to record (killed
    /// between a start's Start and its record): a running task is adopted (the record says running, and its exit is
    /// watched); a task that was created but not started is deleted and its shim retired, so the container is
    /// as recorded. A shim that does not answer is left to the next start.
    func adoptUnrecordedTask(_ id: String) {
        guard var record = records[id] else { return }
        if record.shimAddress.isEmpty, let address = try? FileIO.readText(record.bundle + "/address") {
            record.shimAddress = address.trimmedWhitespace
        }
        guard !record.shimAddress.isEmpty, Daemon.answers(record.shimAddress) else { return }
        callShim(record, TaskService.state, Containerd_Task_V2_StateRequest.with { $0.id = id }) {
            [weak self] (result: Result<Containerd_Task_V2_StateResponse, TTRPCStatus>) in
            guard let self, var current = self.records[id], current.status == record.status else { return }
            let state = try? result.get()
            switch state?.status {
            case .running?:
                Daemon.log.info("adopted a task that started before tetherd's restart", metadata: Daemon.fields(current, ["shim": "\(record.shimAddress)"]))
                current.shimAddress = record.shimAddress
                current.status = .running
                current.pid = state?.pid ?? 0
                current.startedAt = Daemon.now()
                current.error = nil
                self.save(current)
                self.events.publish("start", current)
                self.watch(id)
            case .stopped? where current.status == .created:
                current.shimAddress = record.shimAddress
                self.settleExit(&current, code: Int32(bitPattern: state?.exitStatus ?? 0), at: state?.exitedAt)
                self.save(current)
            case .created?, .unknown?, nil:
                // Created but not started, or no task at all: the shim is of no use to the record.
                guard current.shimAddress.isEmpty || current.shimAddress == record.shimAddress else { return }
                current.shimAddress = ""
                self.records[id] = current
                self.retireShim(record)
            default:
                break  // stopped (an exited record's own task), paused: as recorded
            }
        }
    }

    /// A container removed while tetherd was finishing its removal (`finishRemoval`): its shim, if still there
    /// (the address in its bundle), deletes the task and exits; then its directories go.
    func sweepRemoved(_ id: String) {
        var record = ContainerRecord(id: id, name: "", rootfs: "", args: [], env: [], cwd: "", hostname: "",
                                     readOnly: false, network: "", remove: true, restart: .no)
        record.bundle = bundleDirectory(id)
        record.shimAddress = ((try? FileIO.readText(record.bundle + "/address")) ?? "").trimmedWhitespace
        if !record.shimAddress.isEmpty && !Daemon.answers(record.shimAddress) { record.shimAddress = "" }
        Daemon.log.info("finishing a removal that a previous tetherd left half done", metadata: ["id": "\(id)"])
        finishRemoval(record, killFirst: true)
    }

    /// The init's exit status the shim wrote to `<bundle>/exit-status` (JSON with a "status" field).
    static func durableExit(bundle: String) -> Int32? {
        guard let bytes = try? FileIO.readFile(bundle + "/exit-status"),
              let object = try? JSONDecoder().decode([String: Int64].self, from: Data(bytes)),
              let status = object["status"] else { return nil }
        return Int32(truncatingIfNeeded: status)
    }

    // MARK: Lifecycle

    /// Starts (or restarts) a container's task: shim (started first: it runs while the bundle is written), bundle,
    /// stdio FIFOs, then Create and Start on the loop; then watches for its exit. `completion` gets the running
    /// record (on disk: `saveDurably`), or the error; a launch that fails leaves no shim and no task behind
    /// (`abandonLaunch`). `command` names its crash points (`run` or `start`, Daemon+CrashPoints).
    func launch(_ record: ContainerRecord, command: String = "start", completion: @escaping (Result<ContainerRecord, Error>) -> Void) {
        var record = record
        let id = record.id
        let directory = containerDirectory(id)
        let settings = record.settings
        record.bundle = bundleDirectory(id)
        record.logPath = directory + "/container.log"
        record.error = nil
        record.logDroppedBytes = nil
        let create: Containerd_Task_V2_CreateTaskRequest
        do {
            let pidNamespacePath = try pidNamespacePath(for: record)
            try DurableFile.makeDirectory(record.bundle, mode: 0o711)
            try DurableFile.makeDirectory(record.bundle + "/rootfs", mode: 0o711)
            if record.shimAddress.isEmpty, let spare = takeSpareShim(for: id, bundle: record.bundle) {
                record.shimAddress = spare
            }
            if record.shimAddress.isEmpty || !shimIsAlive(record.shimAddress) {
                do {
                    let launched = try ShimLauncher.launch(
                        binary: configuration.shimBinary, state: configuration.state, namespace: Daemon.namespace, id: id,
                        daemonAddress: configuration.socket, bundle: record.bundle, environment: shimEnvironment)
                    record.shimAddress = launched.address
                    watchShimProcess(launched)
                } catch {
                    throw TTRPCStatus(.unknown, "start shim: \(error)")
                }
            }
            // From here the record knows its shim: a removal while the launch is under way finds it.
            records[id]?.shimAddress = record.shimAddress
            try DurableFile.makeDirectory(directory, mode: 0o755)
            try DurableFile.makeDirectory(directory + "/upper", mode: 0o755)
            try DurableFile.makeDirectory(directory + "/work", mode: 0o700)
            try BundleWriter.write(record, to: record.bundle, pidNamespacePath: pidNamespacePath)
            let stdin = settings.openStdin ? BundleWriter.stdinPath(bundle: record.bundle) : ""
            if settings.openStdin {
                do { try BundleWriter.makeFIFO(stdin) } catch let error as SyscallError { throw DurableFile.status(error) }
            }
            let overlay = Containerd_Types_Mount.with {
                $0.type = "overlay"
                $0.source = "overlay"
                $0.options = ["lowerdir=\(record.rootfs)", "upperdir=\(directory)/upper", "workdir=\(directory)/work"]
            }
            // The shim appends what the process writes (its pipes, or its pty) to the log and rotates it: the
            // process never holds the log itself, so it cannot truncate or rewrite what was logged.
            let log = "file://" + record.logPath + (settings.logOptions?.uriQuery ?? "")
            let bundle = record.bundle
            create = Containerd_Task_V2_CreateTaskRequest.with {
                $0.id = id
                $0.bundle = bundle
                $0.rootfs = [overlay]
                $0.terminal = settings.tty
                $0.stdin = stdin
                $0.stdout = log
                $0.stderr = settings.tty ? "" : log
            }
        } catch {
            abandonLaunch(record, error, completion: completion)
            return
        }
        Daemon.crashPoint("\(command):after-bundle")
        callShim(record, TaskService.create, create, timeout: Daemon.shimLaunchTimeout) {
            [weak self] (result: Result<Containerd_Task_V2_CreateTaskResponse, TTRPCStatus>) in
            guard let self else { return }
            let created: Containerd_Task_V2_CreateTaskResponse
            switch result {
            case .success(let response): created = response
            case .failure(let error): return self.abandonLaunch(record, error, completion: completion)
            }
            Daemon.crashPoint("\(command):after-task-created")
            self.callShim(record, TaskService.start, Containerd_Task_V2_StartRequest.with { $0.id = id }, timeout: Daemon.shimLaunchTimeout) {
                [weak self] (result: Result<Containerd_Task_V2_StartResponse, TTRPCStatus>) in
                guard let self else { return }
                if case .failure(let error) = result { return self.abandonLaunch(record, error, completion: completion) }
                guard self.records[id] != nil else {
                    // Removed while it started: its task and shim go too.
                    return self.abandonLaunch(record, TTRPCStatus(.notFound, "container \(record.name) was removed while it started"),
                                              completion: completion)
                }
                Daemon.crashPoint("\(command):after-task-started")
                record.pid = created.pid
                record.status = .running
                record.startedAt = Daemon.now()
                // Durable before the reply gives the id out: a container that runs has a record that outlives
                // tetherd and the machine; one whose record cannot be written does not run.
                do {
                    try self.saveDurably(record)
                } catch {
                    return self.abandonLaunch(record, error, completion: completion)
                }
                Daemon.crashPoint("\(command):after-record")
                self.events.publish("start", record)
                self.watch(id)
                completion(.success(record))
            }
        }
    }

    /// A launch that failed: its shim is of no use to the container (it may hold a half-created or running task),
    /// so the task is killed and deleted (which unmounts its rootfs) and the shim exits (`retireShim`); the record
    /// keeps no address, and the next start gets a new shim. `completion` gets the error once that is done, so a
    /// failed `run` answers with nothing of its task left.
    func abandonLaunch(_ record: ContainerRecord, _ error: Error, completion: @escaping (Result<ContainerRecord, Error>) -> Void) {
        let failure = (error as? SyscallError).map(DurableFile.status) ?? error
        Daemon.log.warning("container failed to start", metadata: Daemon.fields(record, ["error": "\(failure)"]))
        guard !record.shimAddress.isEmpty else { return completion(.failure(failure)) }
        if records[record.id]?.shimAddress == record.shimAddress { records[record.id]?.shimAddress = "" }
        retireShim(record) { completion(.failure(failure)) }
    }

    /// `--pid container:NAME`: the namespace of NAME's init, which must be running.
    func pidNamespacePath(for record: ContainerRecord) throws -> String? {
        guard let reference = record.settings.pidNamespaceContainer else { return nil }
        let target = try resolve(reference)
        guard target.status == .running, target.pid > 0 else {
            throw TTRPCStatus(.failedPrecondition, "container \(reference) is not running (--pid container:\(reference))")
        }
        return "/proc/\(target.pid)/ns/pid"
    }

    static func answers(_ address: String) -> Bool {
        guard let fd = try? UnixSocket.connect(path: TTRPCClient.socketPath(fromAddress: address)) else { return false }
        FileIO.close(fd)
        return true
    }

    /// Holds a Task.Wait on the container's shim; its reply is the exit. A shim that cannot be reached, or whose
    /// connection closes, is lost (`shimLost`), unless its process still runs.
    func watch(_ id: String) {
        guard let record = records[id], shimWaits[id] == nil else { return }
        // On the connection every other call to this shim uses (one per shim, not two).
        guard let client = try? shimConnection(record.shimAddress) else {
            shimLost(id)
            return
        }
        var token: TTRPCLoopClient.CallID?
        token = client.call(TaskService.wait, .with { $0.id = id }) { [weak self] result in
            guard let self else { return }
            if let current = self.shimWaits[id] {
                // A later watch's Wait.
                guard current.client === client, current.call == token else { return }
                self.shimWaits.removeValue(forKey: id)
            } else if token != nil {
                return  // given up (cancelled) meanwhile
            }
            switch result {
            case .success(let response):
                self.exited(id, code: Int32(bitPattern: response.exitStatus), at: response.exitedAt)
            case .failure:
                if let current = self.records[id], current.status == .running, self.shimProcesses[current.shimAddress]?.isRunning == true {
                    self.loop.schedule(after: 500) { [weak self] in self?.watch(id) }
                } else {
                    self.shimLost(id)
                }
            }
        }
        // nil: the call failed at once (the connection had closed); its completion, scheduled, handles that.
        if let token { shimWaits[id] = ShimWait(client: client, call: token) }
    }

    /// Records an exit (after the last of a tty's output is in the log), answers waiters, then applies --rm or
    /// the restart policy unless a waiter (restart) started the container again.
    func exited(_ id: String, code: Int32, at time: Google_Protobuf_Timestamp?) {
        guard var record = records[id], record.status != .exited else { return }
        settleExit(&record, code: code, at: time)
        // Waiters are answered first (a Wait is on `run`'s path), the record is written right after: a tetherd
        // killed in between learns the exit again from the shim on its restart.
        for waiter in exitWaiters.removeValue(forKey: id) ?? [] { waiter(code) }
        // A waiter (Restart) may have started it again, which wrote its record.
        guard let current = records[id], current.status == .exited else { return }
        if !record.remove { save(current) }
        if record.remove {
            removeContainer(id, force: true) { _ in }
        } else if !record.isManuallyStopped && record.restart.shouldRestart(exitCode: code, restarts: record.restartCount) {
            let delay = RestartPolicy.backoff(restarts: record.restartCount)
            Daemon.log.debug("restart scheduled", metadata: Daemon.fields(record, ["exitCode": "\(code)", "delayMs": "\(delay)"]))
            loop.schedule(after: delay) { [weak self] in self?.restartByPolicy(id) }
        }
    }

    /// The exit in the record (after the last of a tty's output is in the log), and its `die` event.
    func settleExit(_ record: inout ContainerRecord, code: Int32, at time: Google_Protobuf_Timestamp?) {
        record.status = .exited
        record.exitCode = code
        record.finishedAt = time.map { $0.seconds * 1_000_000_000 + Int64($0.nanos) } ?? Daemon.now()
        records[record.id] = record
        events.publish("die", record, exitCode: code)
    }

    /// A backoff's end: the container starts again unless it was stopped by hand (or started) meanwhile.
    func restartByPolicy(_ id: String) {
        guard var record = records[id], record.status == .exited, !record.isManuallyStopped else { return }
        record.restartCount += 1
        Daemon.log.info("restarting by the restart policy", metadata: Daemon.fields(record, [
            "exitCode": "\(record.exitCode)", "restartCount": "\(record.restartCount)"]))
        start(record) { [weak self] result in
            guard let self, case .failure(let error) = result, var current = self.records[id] else { return }
            Daemon.log.error("restart by the restart policy failed", metadata: Daemon.fields(record, ["error": "\(error)"]))
            current.restartCount = record.restartCount
            self.save(current)
        }
    }

    /// Starts a created or exited container; a running one is left alone. An exited container's task is
    /// deleted first and the next one is created in the same shim (a new shim if that one is gone). A start
    /// gives the restart policy back to a container stopped by hand.
    func start(_ record: ContainerRecord, command: String = "start", completion: @escaping (Result<ContainerRecord, Error>) -> Void) {
        var record = record
        record.manuallyStopped = nil
        switch record.status {
        case .running:
            completion(.success(record))
        case .exited where !record.shimAddress.isEmpty:
            let id = record.id
            deleteTask(record, shutdown: false) { [weak self] in
                guard let self else { return }
                // Removed while its last task was deleted (rm -f during a restart's backoff): nothing is launched,
                // or its new rootfs mount and shim would outlive the removal.
                guard self.records[id] != nil else {
                    return completion(.failure(TTRPCStatus(.notFound, "container \(record.name) was removed while it restarted")))
                }
                self.launch(record, command: command, completion: completion)
            }
        default:
            launch(record, command: command, completion: completion)
        }
    }

    /// A stop or kill asked for by a user (as docker): the restart policy is off until the container is started
    /// again, so that its exit, or a restart already waiting out its backoff, does not bring it back.
    func markManuallyStopped(_ record: inout ContainerRecord) {
        guard !record.isManuallyStopped else { return }
        record.manuallyStopped = true
        save(record)
    }

    /// SIGTERM, then SIGKILL after `grace` seconds; `completion` gets the exit code once it exited (or the error of
    /// the SIGTERM). The restart policy is off from now on (Restart starts the container again itself).
    func stop(_ record: ContainerRecord, grace: UInt32, completion: @escaping (Result<Int32, Error>) -> Void) throws {
        var record = record
        markManuallyStopped(&record)
        Daemon.crashPoint("stop:after-manual-stop")
        guard record.status == .running else {
            completion(.success(record.exitCode))
            return
        }
        let id = record.id
        try signal(record, UInt32(SIGTERM)) { [weak self] result in
            guard let self else { return }
            if case .failure(let error) = result { return completion(.failure(error)) }
            Daemon.crashPoint("stop:after-signal")
            guard let current = self.records[id], current.status == .running else {
                return completion(.success(self.records[id]?.exitCode ?? record.exitCode))
            }
            self.exitWaiters[id, default: []].append { code in
                Daemon.crashPoint("stop:after-exit")
                completion(.success(code))
            }
            self.loop.schedule(after: UInt64(grace) * 1000) { [weak self] in
                guard let self, let current = self.records[id], current.status == .running else { return }
                try? self.signal(current, UInt32(SIGKILL)) { _ in }
            }
        }
    }

    /// Deletes the task in the shim (which unmounts the rootfs) and, with `shutdown`, asks the shim to exit; then
    /// `then` runs (whatever the shim answered, or at the calls' deadline).
    func deleteTask(_ record: ContainerRecord, shutdown: Bool = true, then: @escaping () -> Void = {}) {
        guard !record.shimAddress.isEmpty else { return then() }
        callShim(record, TaskService.delete, Containerd_Task_V2_DeleteRequest.with { $0.id = record.id }) {
            [weak self] (_: Result<Containerd_Task_V2_DeleteResponse, TTRPCStatus>) in
            guard let self, shutdown else { return then() }
            self.callShim(record, TaskService.shutdown, Containerd_Task_V2_ShutdownRequest.with { $0.id = record.id }) {
                [weak self] (_: Result<Google_Protobuf_Empty, TTRPCStatus>) in
                self?.dropShimConnection(record.shimAddress)
                then()
            }
        }
    }

    /// Removes a container (`force`: a running one is killed first, and dies, as docker, before it is destroyed);
    /// `completion` runs once the record is gone, or with the error.
    func removeContainer(_ id: String, force: Bool, completion: @escaping (Result<Void, Error>) -> Void) {
        guard let record = records[id] else { return completion(.failure(TTRPCStatus(.notFound, "no such container: \(id)"))) }
        guard record.status == .running else {
            destroy(record)
            return completion(.success(()))
        }
        guard force else {
            return completion(.failure(TTRPCStatus(.failedPrecondition, "container \(record.name) is running: stop it first or use rm -f")))
        }
        callShim(record, TaskService.kill, Containerd_Task_V2_KillRequest.with { $0.id = id; $0.signal = UInt32(SIGKILL); $0.all = true }) {
            [weak self] (result: Result<Google_Protobuf_Empty, TTRPCStatus>) in
            guard let self else { return }
            if case .failure(let error) = result, error.code != .notFound { return completion(.failure(error)) }
            Daemon.crashPoint("rm:after-kill")
            self.callShim(record, TaskService.wait, Containerd_Task_V2_WaitRequest.with { $0.id = id }) {
                [weak self] (result: Result<Containerd_Task_V2_WaitResponse, TTRPCStatus>) in
                guard let self, var current = self.records[id] else { return completion(.success(())) }
                if current.status == .running {
                    let exit = try? result.get()
                    self.settleExit(&current, code: exit.map { Int32(bitPattern: $0.exitStatus) } ?? 128 + SIGKILL, at: exit?.exitedAt)
                }
                Daemon.crashPoint("rm:after-exit")
                self.destroy(current)
                completion(.success(()))
            }
        }
    }

    /// The removal of a container that is not running: the record goes now, from here no one sees the container
    /// (ps, a restarted tetherd). The task's deletion in the shim (runtime delete, rootfs unmount), the
    /// shim's shutdown and the directories (an rmdir on a busy ext4 is slow, and a container has six) follow once
    /// the reply is out; a tetherd killed before that finishes it on its next start (`sweepRemoved`).
    func destroy(_ record: ContainerRecord) {
        let id = record.id
        shimWaits.removeValue(forKey: id)?.cancel()
        _ = unlink(recordPath(id))
        Daemon.crashPoint("rm:after-record-removed")
        records.removeValue(forKey: id)
        loop.schedule(after: 0) { [weak self] in self?.finishRemoval(record) }
        events.publish("destroy", record)
        for waiter in exitWaiters.removeValue(forKey: id) ?? [] { waiter(record.exitCode) }
    }

    /// What is left of a removed container (its record is gone): the task (deleted; with `killFirst`, killed and
    /// waited for first: a container without a record, whose task may run) and the shim (Shutdown), on the loop:
    /// the loop serves other calls while the shim deletes; then the rootfs mount, the bundle and the container's
    /// directory.
    func finishRemoval(_ record: ContainerRecord, killFirst: Bool = false) {
        let id = record.id
        removalsUnderWay.insert(id)
        let deleteTask = { [weak self] (then: @escaping () -> Void) in
            guard let self else { return then() }
            if killFirst { self.tearDownTask(record, then: then) } else { self.deleteTask(record, shutdown: false, then: then) }
        }
        deleteTask { [weak self] in
            Daemon.crashPoint("rm:after-task-deleted")
            self?.shutDownShim(record) { [weak self] in
                Daemon.crashPoint("rm:after-shim-shutdown")
                _ = umount2(record.bundle + "/rootfs", Int32(MNT_DETACH))
                try? FileIO.removeTree(record.bundle)
                guard let self else { return }
                try? FileIO.removeTree(self.containerDirectory(id))
                self.removalsUnderWay.remove(id)
                if self.isStopping && self.removalsUnderWay.isEmpty { self.loop.stop() }
            }
        }
    }

    /// Kills whatever of the container's task still runs (SIGKILL to all its processes), waits for its exit, and
    /// deletes it in the shim (runtime delete, rootfs unmount); `then` runs whatever the shim answered (a task
    /// already gone is NotFound), or at the calls' deadlines.
    func tearDownTask(_ record: ContainerRecord, then: @escaping () -> Void) {
        guard !record.shimAddress.isEmpty else { return then() }
        let id = record.id
        callShim(record, TaskService.kill, Containerd_Task_V2_KillRequest.with { $0.id = id; $0.signal = UInt32(SIGKILL); $0.all = true }) {
            [weak self] (_: Result<Google_Protobuf_Empty, TTRPCStatus>) in
            guard let self else { return then() }
            // Waited for whatever the kill answered (NotFound also means "process already finished"): an exit not
            // yet settled in the shim makes it refuse the Delete. Without a task, Wait and Delete are NotFound.
            self.callShim(record, TaskService.wait, Containerd_Task_V2_WaitRequest.with { $0.id = id }) {
                [weak self] (_: Result<Containerd_Task_V2_WaitResponse, TTRPCStatus>) in
                guard let self else { return then() }
                self.deleteTask(record, shutdown: false, then: then)
            }
        }
    }

    /// Asks the shim to exit (Shutdown: a shim without tasks exits) and forgets the connection; then `then`.
    func shutDownShim(_ record: ContainerRecord, then: @escaping () -> Void) {
        guard !record.shimAddress.isEmpty else { return then() }
        callShim(record, TaskService.shutdown, Containerd_Task_V2_ShutdownRequest.with { $0.id = record.id }) {
            [weak self] (_: Result<Google_Protobuf_Empty, TTRPCStatus>) in
            self?.dropShimConnection(record.shimAddress)
            then()
        }
    }
}
