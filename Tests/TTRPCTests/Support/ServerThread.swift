import Foundation
import Synchronization
import TetherAPI
import TetherSystem
import TetherTestSupport
@testable import TTRPC

/// An EventLoop running on its own thread. Work for the loop thread goes through `post`, which wakes the
/// loop with a pipe write. Everything the thread touches lives here, not in `ServerThread`, so that
/// `ServerThread.deinit` can stop the loop.
final class LoopThread: @unchecked Sendable {
    let loop: EventLoop
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let lock = NSLock()
    private var queue: [() -> Void] = []
    private let finished = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    /// The loop thread (pthread_self), once it runs.
    private let loopThreadID = Atomic<UInt>(0)
    private var started = false

    init() throws {
        loop = try EventLoop()
        (wakeRead, wakeWrite) = try FileIO.pipe()
        try FileIO.setNonblocking(wakeRead)
        try loop.register(wakeRead, .readable) { [unowned self] _ in self.drain() }
    }

    deinit {
        FileIO.close(wakeRead)
        FileIO.close(wakeWrite)
    }

    func start() {
        started = true
        let thread = Thread { [self] in
            self.loopThreadID.store(UInt(pthread_self()), ordering: .releasing)
            while !self.stopping.load(ordering: .acquiring) { try? self.loop.runOnce(maximumWait: 1000) }
            self.finished.signal()
        }
        thread.start()
    }

    func post(_ action: @escaping () -> Void) {
        lock.withLock { queue.append(action) }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    /// Runs `action` on the loop thread and waits for its result.
    func sync<T>(_ action: @escaping () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = Box<T>()
        post {
            box.set(action())
            done.signal()
        }
        done.wait()
        guard let value = box.value else { fatalError("loop action produced no value") }
        return value
    }

    /// Runs `last` on the loop, then ends the thread and waits for it. Called on the loop thread itself (the last
    /// reference to a ServerThread was a closure the loop just ran), it cannot wait for itself: it runs `last` and
    /// lets the thread end after the current turn.
    func stop(_ last: @escaping () -> Void = {}) {
        guard started else { return }
        started = false
        if loopThreadID.load(ordering: .acquiring) == UInt(pthread_self()) {
            last()
            stopping.store(true, ordering: .releasing)
            return
        }
        post {
            last()
            self.stopping.store(true, ordering: .releasing)
        }
        finished.wait()
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
        let actions = lock.withLock { () -> [() -> Void] in
            let actions = queue
            queue.removeAll()
            return actions
        }
        for action in actions { action() }
    }
}

/// A TTRPCServer on its own loop thread, listening on a fresh socket in a temporary directory.
final class ServerThread: @unchecked Sendable {
    let thread: LoopThread
    let server: TTRPCServer
    let directory: TemporaryDirectory
    let path: String
    /// Objects kept alive as long as the server (handler state).
    var attachments: [AnyObject] = []

    init(_ configure: (TTRPCServer) -> Void = { _ in }) throws {
        directory = try TemporaryDirectory("ttrpc-test")
        path = directory.path + "/ttrpc.sock"
        thread = try LoopThread()
        let listener = try UnixSocket.listen(path: path)
        server = TTRPCServer(loop: thread.loop, listener: listener)
        configure(server)
        thread.start()
    }

    deinit {
        stop()
    }

    func onLoop(_ action: @escaping () -> Void) { thread.post(action) }

    func sync<T>(_ action: @escaping () -> T) -> T { thread.sync(action) }

    func stop() {
        thread.stop { [server] in server.shutdown() }
    }
}

/// Runs `body` on a new thread; `wait()` returns its result.
final class Background<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Box<Result<T, Error>>()

    init(_ body: @escaping @Sendable () throws -> T) {
        let thread = Thread { [result, done] in
            result.set(Result { try body() })
            done.signal()
        }
        thread.start()
    }

    var isFinished: Bool { result.value != nil }

    func wait(timeout: Double = 30) throws -> T {
        guard done.wait(timeout: .now() + timeout) == .success else { throw TTRPCStatus(.deadlineExceeded, "background work timed out") }
        done.signal()
        guard let outcome = result.value else { throw TTRPCStatus(.internal, "no result") }
        return try outcome.get()
    }
}

/// A value handed between threads under a lock.
final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?

    init(_ value: T? = nil) { stored = value }

    var value: T? { lock.withLock { stored } }

    func set(_ value: T) { lock.withLock { stored = value } }

    func update(_ body: (inout T?) -> Void) { lock.withLock { body(&stored) } }
}

/// The test service: Task methods with simple behaviour.
/// * Connect: answers at once with shim_pid = getpid(), task_pid = 42, version = metadata "v" if present.
/// * State: answers at once with id echoed.
/// * Wait: held until a Kill arrives; then answered with exit_status = the Kill's signal.
/// * Pids: never answered (deadline tests).
/// * Shutdown: answers, then shuts the server down.
final class TestTaskService {
    var waiters: [TTRPCResponder<Containerd_Task_V2_WaitResponse>] = []
    var cancelledWaits = 0

    func install(on server: TTRPCServer) {
        server.register(TaskService.connect) { _, context, responder in
            var response = Containerd_Task_V2_ConnectResponse()
            response.shimPid = UInt32(getpid())
            response.taskPid = 42
            response.version = context.metadataValue("v") ?? ""
            responder.succeed(response)
        }
        server.register(TaskService.state, sync: { request in
            var response = Containerd_Task_V2_StateResponse()
            response.id = request.id
            response.execID = request.execID
            response.status = .running
            return response
        })
        server.register(TaskService.wait) { [unowned self] _, _, responder in
            responder.onCancel = { [unowned self] in self.cancelledWaits += 1 }
            self.waiters.append(responder)
        }
        server.register(TaskService.kill) { [unowned self] request, _, responder in
            let waiters = self.waiters
            self.waiters.removeAll()
            for waiter in waiters {
                var response = Containerd_Task_V2_WaitResponse()
                response.exitStatus = 128 + request.signal
                waiter.succeed(response)
            }
            responder.succeed(Google_Protobuf_Empty())
        }
        server.register(TaskService.pids) { _, _, _ in }  // never answers
        server.register(TaskService.delete, sync: { _ in
            throw TTRPCStatus(.notFound, "process already finished: not found")
        })
        server.register(TaskService.shutdown) { [unowned server] _, _, responder in
            responder.succeed(Google_Protobuf_Empty())
            server.shutdown()
        }
    }
}

func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var digits = text.filter { !$0.isWhitespace }[...]
    while digits.count >= 2 {
        bytes.append(UInt8(digits.prefix(2), radix: 16) ?? 0)
        digits = digits.dropFirst(2)
    }
    return bytes
}

func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }
