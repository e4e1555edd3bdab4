import Foundation
import TetherAPI
import TetherSystem
import Testing
import TTRPC
import TetherTestSupport

/// Our TTRPC against Debian's containerd-shim-runc-v2 (containerd 1.6.20, ttrpc v1.1.1): our client drives the
/// Go shim through its `start` contract and Task API, and our server receives the shim's event Forward calls
/// on $TTRPC_ADDRESS. Proof that our bytes are containerd's bytes, both ways.
@Suite("TTRPC interop with containerd-shim-runc-v2", .serialized)
struct TTRPCInteropTests {
    static let shim = "/usr/bin/containerd-shim-runc-v2"
    static var canRunShim: Bool { TestEnvironment.isRoot && TestEnvironment.hasCommand(shim) }
    static var canRunContainer: Bool { canRunShim && TestEnvironment.hasRootfs && TestEnvironment.hasCommand("/usr/sbin/runc") }

    /// A bundle directory named after the container id (the shim's `delete` derives the bundle from it),
    /// the `log` fifo containerd would create and keep open, and a fake events server on $TTRPC_ADDRESS.
    final class ShimFixture {
        let id = uniqueID("ttrpc")
        let namespace = "tetherttrpc"
        let directory: TemporaryDirectory
        let bundle: String
        let events: ServerLoop
        private var logFD: Int32 = -1
        private(set) var socketPath: String?
        let received = Envelopes()

        final class Envelopes: @unchecked Sendable {
            private let lock = NSLock()
            private var list: [(namespaceHeader: String?, envelope: EventEnvelope)] = []
            func add(_ header: String?, _ envelope: EventEnvelope) { lock.withLock { list.append((header, envelope)) } }
            var all: [(namespaceHeader: String?, envelope: EventEnvelope)] { lock.withLock { list } }
        }

        init(configure: (inout [String: Any]) -> Void = { _ in }, args: [String] = ["sleep", "30"]) throws {
            directory = try TemporaryDirectory("tether-ttrpc")
            bundle = directory.path + "/" + id
            try BundleFixture.write(to: bundle, args: args, configure: configure)
            guard mkfifo(bundle + "/log", 0o600) == 0 else { throw SyscallError.current("mkfifo log") }
            logFD = open(bundle + "/log", O_RDWR | O_NONBLOCK | O_CLOEXEC)
            let received = self.received
            events = try ServerLoop(path: directory.path + "/events.sock") { server in
                server.register(EventsService.forward) { request, context, responder in
                    received.add(context.containerdNamespace, request.envelope)
                    responder.succeed(Google_Protobuf_Empty())
                }
            }
        }

        deinit {
            if logFD >= 0 { close(logFD) }
            if let socketPath { unlink(socketPath) }
            rmdir("/run/containerd/runc/" + namespace)  // the runc shim's root for our namespace, if empty
        }

        var environment: [String: String] {
            var env = ProcessInfo.processInfo.environment
            env["TTRPC_ADDRESS"] = events.path
            env["GOMAXPROCS"] = "2"
            return env
        }

        var grpcAddress: String { directory.path + "/containerd.sock" }

        /// `<shim> -namespace NS -address ADDR -publish-binary BIN -id ID start`, in the bundle, as containerd runs it.
        func start() throws -> String {
            let result = try runShim(["-namespace", namespace, "-address", grpcAddress, "-publish-binary", "/usr/bin/containerd",
                                      "-id", id, "start"])
            #expect(result.status == 0, "\(result)")
            let address = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(address.hasPrefix("unix:///run/containerd/s/"), "\(result)")
            let path = String(address.dropFirst("unix://".count))
            socketPath = path
            #expect((try? String(contentsOfFile: bundle + "/address", encoding: .utf8)) == address)
            return path
        }

        /// `<shim> ... -bundle DIR delete`: prints a binary DeleteResponse.
        func delete() throws -> (CommandResult, Containerd_Task_V2_DeleteResponse?) {
            let result = try runShim(["-namespace", namespace, "-address", grpcAddress, "-publish-binary", "/usr/bin/containerd",
                                      "-id", id, "-bundle", bundle, "delete"], captureBinary: true)
            return (result.0, try? Containerd_Task_V2_DeleteResponse(serializedBytes: Array(result.1)))
        }

        private func runShim(_ arguments: [String]) throws -> CommandResult {
            try runShim(arguments, captureBinary: false).0
        }

        private func runShim(_ arguments: [String], captureBinary: Bool) throws -> (CommandResult, [UInt8]) {
            try TTRPCInteropTests.spawnAndWait([TTRPCInteropTests.shim] + arguments, directory: bundle, environment: environment)
        }

        /// Waits until the shim daemon is gone (or a zombie nobody reaps).
        func waitForExit(_ pid: Int32) -> Bool {
            for _ in 0..<500 {
                if kill(pid, 0) != 0 { return true }
                if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                   let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "Z" { return true }
                usleep(10_000)
            }
            return false
        }
    }

    @Test(.enabled(if: canRunShim, "needs root and /usr/bin/containerd-shim-runc-v2"))
    func connectStateShutdownAgainstTheGoShim() throws {
        let fixture = try ShimFixture()
        let path = try fixture.start()
        let task = try TaskClient(path: path, timeout: .seconds(10))
        defer { task.close() }

        var connect = Containerd_Task_V2_ConnectRequest()
        connect.id = fixture.id
        let connected = try task.call(TaskService.connect, connect)
        #expect(connected.shimPid > 0)
        #expect(connected.taskPid == 0)  // nothing created yet

        // State of a task that was never created: the shim's own NOT_FOUND, decoded from its status.
        var state = Containerd_Task_V2_StateRequest()
        state.id = fixture.id
        #expect(throws: TTRPCStatus.self) { _ = try task.call(TaskService.state, state) }
        do {
            _ = try task.call(TaskService.state, state)
        } catch let status as TTRPCStatus {
            #expect(status.code == .notFound)
            #expect(status.message.contains("not found"))
        }
        // An unknown method: the Go server's UNIMPLEMENTED, on the same connection.
        #expect(throws: TTRPCStatus(.unimplemented, "method Teleport")) {
            let teleport = TTRPCMethod<Containerd_Task_V2_ConnectRequest, Google_Protobuf_Empty>(service: TaskService.name, method: "Teleport")
            try task.connection.call(teleport, connect, timeout: .seconds(5))
        }
        #expect(try task.call(TaskService.connect, connect).shimPid == connected.shimPid)

        var shutdown = Containerd_Task_V2_ShutdownRequest()
        shutdown.id = fixture.id
        do {
            try task.call(TaskService.shutdown, shutdown)
        } catch let status as TTRPCStatus where status == .closed {
            // The shim may exit before its reply is read; containerd ignores ErrClosed here too.
        }
        #expect(fixture.waitForExit(Int32(connected.shimPid)))
        #expect(!FileManager.default.fileExists(atPath: path), "the shim removes its socket on exit")

        // `delete` as containerd runs it after every shutdown. With no task ever created, the 1.6.20 runc shim
        // fails on the missing `<bundle>/runtime` file (written by Create); that is its behaviour, not ours.
        let (result, response) = try fixture.delete()
        if result.status == 0 {
            #expect(response?.exitStatus == 137)
        } else {
            #expect(result.stderr.contains("runtime: no such file"), "\(result)")
        }
    }

    @Test(.enabled(if: canRunContainer, "needs root, the shim, runc and the busybox rootfs (make rootfs)"))
    func fullTaskLifecycleAndEventsAgainstTheGoShim() throws {
        let fixture = try ShimFixture()
        let path = try fixture.start()
        let task = try TaskClient(path: path, timeout: .seconds(30))
        defer { task.close() }
        var cleanedUp = false
        defer {
            if !cleanedUp { _ = try? fixture.delete() }
        }

        var create = Containerd_Task_V2_CreateTaskRequest()
        create.id = fixture.id
        create.bundle = fixture.bundle
        let created = try task.call(TaskService.create, create)
        #expect(created.pid > 0)

        var connect = Containerd_Task_V2_ConnectRequest()
        connect.id = fixture.id
        let connected = try task.call(TaskService.connect, connect)
        #expect(connected.taskPid == created.pid)

        var state = Containerd_Task_V2_StateRequest()
        state.id = fixture.id
        var current = try task.call(TaskService.state, state, timeout: .seconds(2))
        #expect(current.status == .created)
        #expect(current.pid == created.pid)
        #expect(current.bundle == fixture.bundle)

        var start = Containerd_Task_V2_StartRequest()
        start.id = fixture.id
        #expect(try task.call(TaskService.start, start).pid == created.pid)
        current = try task.call(TaskService.state, state, timeout: .seconds(2))
        #expect(current.status == .running)

        var pids = Containerd_Task_V2_PidsRequest()
        pids.id = fixture.id
        #expect(try task.call(TaskService.pids, pids).processes.map(\.pid).contains(created.pid))

        // Wait blocks on its own connection while Kill goes through on ours: out-of-order replies from Go.
        let waiter = try TaskClient(path: path)
        let waitID = fixture.id
        let wait = Self.detachedResult { () -> UInt32 in
            var request = Containerd_Task_V2_WaitRequest()
            request.id = waitID
            return try waiter.call(TaskService.wait, request).exitStatus
        }
        var kill = Containerd_Task_V2_KillRequest()
        kill.id = fixture.id
        kill.signal = UInt32(SIGKILL)
        try task.call(TaskService.kill, kill)
        #expect(try wait.get(timeout: 30) == 137)
        waiter.close()

        current = try task.call(TaskService.state, state, timeout: .seconds(2))
        #expect(current.status == .stopped)
        #expect(current.exitStatus == 137)

        var delete = Containerd_Task_V2_DeleteRequest()
        delete.id = fixture.id
        let deleted = try task.call(TaskService.delete, delete)
        #expect(deleted.exitStatus == 137 && deleted.pid == created.pid)

        var shutdown = Containerd_Task_V2_ShutdownRequest()
        shutdown.id = fixture.id
        do {
            try task.call(TaskService.shutdown, shutdown)
        } catch let status as TTRPCStatus where status == .closed {}
        #expect(fixture.waitForExit(Int32(connected.shimPid)))
        let (result, _) = try fixture.delete()
        cleanedUp = true
        #expect(result.status == 0, "\(result)")

        // The Go shim's publisher called Forward on our server with containerd's envelope.
        let topics = fixture.received.all.map(\.envelope.topic)
        for topic in ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"] {
            #expect(topics.contains(topic), "got \(topics)")
        }
        for (header, envelope) in fixture.received.all {
            #expect(header == fixture.namespace)
            #expect(envelope.namespace == fixture.namespace)
            #expect(envelope.timestamp.seconds > 0)
        }
        if let exit = fixture.received.all.first(where: { $0.envelope.topic == "/tasks/exit" })?.envelope {
            #expect(exit.event.typeURL == "containerd.events.TaskExit")
            let event = try exit.event.unpack(Containerd_Events_TaskExit.self)
            #expect(event.containerID == fixture.id && event.id == fixture.id)
            #expect(event.exitStatus == 137 && event.pid == created.pid)
        }
    }
}

extension TTRPCInteropTests {
/// A TTRPCServer on its own EventLoop thread (the integration tests' copy of the unit tests' helper).
final class ServerLoop: @unchecked Sendable {
    let path: String
    private let loop: EventLoop
    private let server: TTRPCServer
    private let stopFlag = StopFlag()
    private let finished = DispatchSemaphore(value: 0)

    final class StopFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }

    init(path: String, _ configure: (TTRPCServer) -> Void) throws {
        self.path = path
        loop = try EventLoop()
        server = TTRPCServer(loop: loop, listener: try UnixSocket.listen(path: path))
        configure(server)
        let box = LoopBox(loop: loop, server: server)
        let flag = stopFlag, finished = self.finished
        Thread.detachNewThread {
            while !flag.isSet { try? box.loop.runOnce(maximumWait: 20) }
            box.server.shutdown()
            finished.signal()
        }
    }

    private struct LoopBox: @unchecked Sendable {
        let loop: EventLoop
        let server: TTRPCServer
    }

    deinit {
        stopFlag.set()
        finished.wait()
        unlink(path)
    }
}

/// Runs `argv` in `directory` with only fds 0-2 (bash closes the rest before exec), stdout and stderr to
/// pipes, and waits for that pid alone. Foundation's `Process` cannot be used for the shim's `start`: the
/// daemon it spawns would inherit Process's exit-monitoring socket and `waitUntilExit` would hang for as long
/// as the daemon lives (as would any other test's Process whose socket leaked into it).
static func spawnAndWait(_ argv: [String], directory: String, environment: [String: String]) throws -> (CommandResult, [UInt8]) {
    let script = #"for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-" 2>/dev/null; done; cd "$1" && shift && exec "$@""#
    let arguments = ["/bin/bash", "-c", script, "bash", directory] + argv
    let (outRead, outWrite) = try FileIO.pipe()
    let (errRead, errWrite) = try FileIO.pipe()
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, outWrite, 1)
    posix_spawn_file_actions_adddup2(&actions, errWrite, 2)
    let cArguments = arguments.map { strdup($0) } + [nil]
    let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for pointer in cArguments { free(pointer) }
        for pointer in cEnvironment { free(pointer) }
    }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, "/bin/bash", &actions, nil, cArguments, cEnvironment)
    FileIO.close(outWrite)
    FileIO.close(errWrite)
    defer {
        FileIO.close(outRead)
        FileIO.close(errRead)
    }
    guard rc == 0 else { throw SyscallError("posix_spawn /bin/bash", errno: rc) }
    let stderrReader = detachedResult { try FileIO.readAll(errRead) }
    let stdout = try FileIO.readAll(outRead)
    let stderr = (try? stderrReader.get(timeout: 60)) ?? []
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exitStatus = ProcessSupport.exitStatus(fromWaitStatus: status)
    return (CommandResult(status: exitStatus, stdout: String(decoding: stdout, as: UTF8.self),
                          stderr: String(decoding: stderr, as: UTF8.self)), stdout)
}

/// Runs `body` on a new thread; `get` waits for its result.
static func detachedResult<T: Sendable>(_ body: @escaping @Sendable () throws -> T) -> DetachedResult<T> {
    let result = DetachedResult<T>()
    Thread.detachNewThread { result.set(Result { try body() }) }
    return result
}

final class DetachedResult<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var value: Result<T, Error>?

    func set(_ result: Result<T, Error>) {
        lock.withLock { value = result }
        done.signal()
    }

    func get(timeout: Double) throws -> T {
        guard done.wait(timeout: .now() + timeout) == .success else { throw TTRPCStatus(.deadlineExceeded, "thread timed out") }
        guard let value = lock.withLock({ value }) else { throw TTRPCStatus(.internal, "no result") }
        return try value.get()
    }
}
}
