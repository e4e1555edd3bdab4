import Foundation
import TetherAPI
import TetherSystem
import Testing
@testable import TTRPC

/// The non-blocking client, on its own loop thread, against a server on another.
@Suite("TTRPC loop client")
struct TTRPCLoopClientTests {
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [String] = []
        private let done = DispatchSemaphore(value: 0)

        func record(_ entry: String) {
            lock.withLock { entries.append(entry) }
            done.signal()
        }

        var all: [String] { lock.withLock { entries } }

        /// Waits until `count` entries were recorded in total.
        func wait(for count: Int, timeout: Double = 10) -> Bool {
            while all.count < count {
                guard done.wait(timeout: .now() + timeout) == .success else { return false }
            }
            return true
        }
    }

    @Test func manyCallsInFlightAnsweredOutOfOrder() throws {
        let (server, _) = try TTRPCServerTests.makeServer()
        let clientThread = try LoopThread()
        clientThread.start()
        defer { clientThread.stop() }
        let recorder = Recorder()
        let path = server.path
        let client = clientThread.sync { () -> TTRPCLoopClient? in try? TTRPCLoopClient(loop: clientThread.loop, path: path) }
        let loopClient = try #require(client)
        clientThread.post {
            var wait = Containerd_Task_V2_WaitRequest()
            wait.id = "c1"
            loopClient.call(TaskService.wait, wait) { result in
                recorder.record((try? "wait \(result.get().exitStatus)") ?? "wait failed: \(result)")
            }
            for index in 0..<100 {
                loopClient.call(TaskService.state, TTRPCServerTests.state("s\(index)")) { result in
                    recorder.record((try? "state \(result.get().id)") ?? "state failed: \(result)")
                }
            }
        }
        #expect(recorder.wait(for: 100))
        #expect(recorder.all == (0..<100).map { "state s\($0)" })
        #expect(clientThread.sync { loopClient.pendingCalls } == 1)
        clientThread.post {
            loopClient.call(TaskService.kill, TTRPCServerTests.kill(9)) { result in
                recorder.record((try? result.get()) != nil ? "kill" : "kill failed: \(result)")
            }
        }
        #expect(recorder.wait(for: 102))
        #expect(Array(recorder.all.suffix(2)) == ["wait 137", "kill"])
        clientThread.sync { loopClient.close() }
    }

    /// A cancelled call never completes (not at its reply, not at its deadline); the connection and the other calls
    /// on it go on (tetherd gives up a container's Wait this way on the connection it shares with the shim's calls).
    @Test func aCancelledCallNeverCompletesAndTheOthersGoOn() throws {
        let (server, _) = try TTRPCServerTests.makeServer()
        let clientThread = try LoopThread()
        clientThread.start()
        defer { clientThread.stop() }
        let recorder = Recorder()
        let path = server.path
        let client = clientThread.sync { () -> TTRPCLoopClient? in try? TTRPCLoopClient(loop: clientThread.loop, path: path) }
        let loopClient = try #require(client)
        clientThread.sync {
            var wait = Containerd_Task_V2_WaitRequest()
            wait.id = "c1"
            for name in ["kept", "cancelled", "timed"] {
                let call = loopClient.call(TaskService.wait, wait, timeout: name == "timed" ? .milliseconds(30) : nil) { result in
                    recorder.record("\(name) \(outcome(result))")
                }
                if name != "kept", let call { loopClient.cancel(call) }
            }
        }
        #expect(clientThread.sync { loopClient.pendingCalls } == 1)
        usleep(100_000)  // past the cancelled call's deadline
        clientThread.post {
            loopClient.call(TaskService.kill, TTRPCServerTests.kill(9)) { result in
                recorder.record("kill \(outcome(result))")
            }
        }
        #expect(recorder.wait(for: 2))
        usleep(50_000)
        #expect(Set(recorder.all) == ["kept success", "kill success"], "\(recorder.all)")
        #expect(clientThread.sync { !loopClient.isClosed && loopClient.pendingCalls == 0 })
        clientThread.sync { loopClient.close() }
    }

    @Test func timeoutsAndCloseCompletePendingCalls() throws {
        let (server, service) = try TTRPCServerTests.makeServer()
        let clientThread = try LoopThread()
        clientThread.start()
        defer { clientThread.stop() }
        let recorder = Recorder()
        let path = server.path
        let client = clientThread.sync { () -> TTRPCLoopClient? in try? TTRPCLoopClient(loop: clientThread.loop, path: path) }
        let loopClient = try #require(client)
        clientThread.post {
            loopClient.onClose = { recorder.record("closed") }
            loopClient.call(TaskService.pids, Containerd_Task_V2_PidsRequest(), timeout: .milliseconds(30)) { result in
                recorder.record("pids \(outcome(result))")
            }
        }
        #expect(recorder.wait(for: 1))
        #expect(recorder.all == ["pids DEADLINE_EXCEEDED"])
        clientThread.post {
            var wait = Containerd_Task_V2_WaitRequest()
            wait.id = "c1"
            loopClient.call(TaskService.wait, wait) { result in
                recorder.record("wait \(outcome(result))")
            }
        }
        // The server going away completes the pending Wait with "ttrpc: closed", then onClose runs.
        while server.sync({ service.waiters.count }) == 0 { usleep(1000) }
        server.stop()
        #expect(recorder.wait(for: 3))
        #expect(recorder.all == ["pids DEADLINE_EXCEEDED", "wait UNAVAILABLE", "closed"])
        // Calls after the close fail the same way, asynchronously.
        clientThread.post {
            loopClient.call(TaskService.state, TTRPCServerTests.state("x")) { result in
                recorder.record("late \(outcome(result))")
            }
        }
        #expect(recorder.wait(for: 4))
        #expect(recorder.all.last == "late UNAVAILABLE")
    }

    @Test func forwardPublishesEventsAsAShimDoes() throws {
        let received = Box<[(String?, EventEnvelope)]>([])
        let server = try ServerThread { server in
            server.register(EventsService.forward) { request, context, responder in
                received.update { $0?.append((context.containerdNamespace, request.envelope)) }
                responder.succeed(Google_Protobuf_Empty())
            }
        }
        let clientThread = try LoopThread()
        clientThread.start()
        defer { clientThread.stop() }
        let recorder = Recorder()
        let path = server.path
        let client = clientThread.sync { () -> TTRPCLoopClient? in try? TTRPCLoopClient(loop: clientThread.loop, path: path) }
        let loopClient = try #require(client)
        clientThread.post {
            var exit = Containerd_Events_TaskExit()
            exit.containerID = "c1"
            exit.id = "c1"
            exit.exitStatus = 137
            loopClient.forward(namespace: "default", event: exit) { result in
                recorder.record((try? result.get()) != nil ? "forwarded" : "failed: \(result)")
            }
        }
        #expect(recorder.wait(for: 1))
        #expect(recorder.all == ["forwarded"])
        let events = received.value ?? []
        #expect(events.count == 1)
        #expect(events.first?.0 == "default")
        #expect(events.first?.1.topic == "/tasks/exit")
        #expect(events.first?.1.namespace == "default")
        #expect(events.first?.1.event.typeURL == "containerd.events.TaskExit")
        #expect((try? events.first?.1.event.unpack(Containerd_Events_TaskExit.self).exitStatus) == 137)
        clientThread.sync { loopClient.close() }
    }

    @Test func connectFailureIsUnavailable() {
        #expect(throws: TTRPCStatus.self) {
            _ = try TTRPCLoopClient(loop: try EventLoop(), path: "/nonexistent/ttrpc.sock")
        }
        #expect(throws: TTRPCStatus.self) { _ = try TTRPCClient(path: "/nonexistent/ttrpc.sock") }
    }
}

/// "success", the status code name, or "other" for a non-status error.
func outcome<T>(_ result: Result<T, Error>) -> String {
    switch result {
    case .success: "success"
    case .failure(let error): (error as? TTRPCStatus).map { "\($0.code)" } ?? "other"
    }
}
