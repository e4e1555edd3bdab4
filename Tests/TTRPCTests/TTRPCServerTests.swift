import Foundation
import Synchronization
import SwiftProtobuf
import TetherAPI
import TetherSystem
import Testing
@testable import TTRPC

/// Client and server over a real unix socket; the server's loop runs on its own thread.
@Suite("TTRPC server and client")
struct TTRPCServerTests {
    static func makeServer(_ configure: (TTRPCServer) -> Void = { _ in }) throws -> (ServerThread, TestTaskService) {
        let service = TestTaskService()
        let thread = try ServerThread { server in
            service.install(on: server)
            configure(server)
        }
        thread.attachments.append(service)
        return (thread, service)
    }

    static func connect(_ id: String = "c1") -> Containerd_Task_V2_ConnectRequest {
        var request = Containerd_Task_V2_ConnectRequest()
        request.id = id
        return request
    }

    static func state(_ id: String) -> Containerd_Task_V2_StateRequest {
        var request = Containerd_Task_V2_StateRequest()
        request.id = id
        return request
    }

    static func kill(_ signal: UInt32) -> Containerd_Task_V2_KillRequest {
        var request = Containerd_Task_V2_KillRequest()
        request.id = "c1"
        request.signal = signal
        return request
    }

    /// A raw Request frame.
    static func requestFrame(
        _ streamID: UInt32, service: String = TaskService.name, method: String, payload: [UInt8] = [], timeoutNano: Int64 = 0
    ) -> [UInt8] {
        let body = TTRPCMessages.encodeRequest(service: service, method: method, payload: payload,
                                               timeoutNanoseconds: timeoutNano, metadata: [:])
        return TTRPCFrame(streamID: streamID, type: .request, data: body).encoded()
    }

    static func expectStatus(_ event: TTRPCFrameDecoder.Event?, streamID: UInt32, _ code: TTRPCStatusCode, _ message: String? = nil,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .frame(let frame)? = event else {
            Issue.record("expected a response frame, got \(String(describing: event))", sourceLocation: sourceLocation)
            return
        }
        #expect(frame.streamID == streamID, sourceLocation: sourceLocation)
        #expect(frame.messageType == .response, sourceLocation: sourceLocation)
        switch TTRPCMessages.decodeResponse(frame.data) {
        case .success: Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
        case .failure(let status):
            #expect(status.code == code, sourceLocation: sourceLocation)
            if let message { #expect(status.message == message, sourceLocation: sourceLocation) }
        }
    }

    @Test func roundTrip() throws {
        let (server, _) = try Self.makeServer()
        let client = try TTRPCClient(path: server.path)
        defer { client.close() }
        let response = try client.call(TaskService.connect, Self.connect(), metadata: ["v": ["1.2.3"]])
        #expect(response.shimPid == UInt32(getpid()))
        #expect(response.taskPid == 42)
        #expect(response.version == "1.2.3")
        let state = try client.call(TaskService.state, Self.state("abc"), timeout: .seconds(2))
        #expect(state.id == "abc" && state.status == .running)
    }

    @Test func containerdAddressesAreAccepted() throws {
        let (server, _) = try Self.makeServer()
        #expect(TTRPCClient.socketPath(fromAddress: "unix:///run/containerd/s/abc") == "/run/containerd/s/abc")
        #expect(TTRPCClient.socketPath(fromAddress: "/run/x.sock") == "/run/x.sock")
        let client = try TTRPCClient(path: "unix://" + server.path)
        #expect(client.path == server.path)
        try client.call(TaskService.connect, Self.connect())
    }

    @Test func handlerStatusesReachTheClient() throws {
        let (server, _) = try Self.makeServer()
        let client = try TTRPCClient(path: server.path)
        var delete = Containerd_Task_V2_DeleteRequest()
        delete.id = "gone"
        #expect(throws: TTRPCStatus(.notFound, "process already finished: not found")) {
            try client.call(TaskService.delete, delete)
        }
        // The error did not close the connection.
        try client.call(TaskService.connect, Self.connect())
    }

    @Test func unknownServiceAndMethodAreUnimplemented() throws {
        let (server, _) = try Self.makeServer()
        let client = try TTRPCClient(path: server.path)
        #expect(throws: TTRPCStatus(.unimplemented, "service containerd.task.v3.Task")) {
            try client.call(TTRPCMethod<Containerd_Task_V2_ConnectRequest, Google_Protobuf_Empty>(
                service: "containerd.task.v3.Task", method: "Connect"), Self.connect())
        }
        #expect(throws: TTRPCStatus(.unimplemented, "method Teleport")) {
            try client.call(TTRPCMethod<Containerd_Task_V2_ConnectRequest, Google_Protobuf_Empty>(
                service: TaskService.name, method: "Teleport"), Self.connect())
        }
        try client.call(TaskService.connect, Self.connect())
    }

    @Test func evenStreamIDIsInvalidArgumentOnThatStream() throws {
        let (server, _) = try Self.makeServer()
        let client = try TTRPCClient(path: server.path)
        try client.sendRaw(Self.requestFrame(2, method: "Connect"))
        Self.expectStatus(try client.receiveFrame(timeout: .seconds(5)), streamID: 2, .invalidArgument,
                          "StreamID must be odd for client initiated streams")
        try client.call(TaskService.connect, Self.connect())
    }

    @Test func oversizeFrameIsDiscardedAndTheConnectionStaysUsable() throws {
        let (server, _) = try Self.makeServer()
        let client = try TTRPCClient(path: server.path)
        let length = 5 << 20
        var frame: [UInt8] = []
        TTRPCFrame.appendHeader(to: &frame, length: UInt32(length), streamID: 7, type: 1, flags: 0)
        frame += [UInt8](repeating: 0xAB, count: length)
        try client.sendRaw(frame)
        Self.expectStatus(try client.receiveFrame(timeout: .seconds(10)), streamID: 7, .resourceExhausted,
                          "message length 5242880 exceed maximum message size of 4194304")
        try client.call(TaskService.connect, Self.connect())
    }

    @Test func nonRequestFramesAreIgnored() throws {
        let (server, _) = try Self.makeServer()
        let client = try TTRPCClient(path: server.path)
        // A Data frame, a Response frame and an unknown type, each on its own stream: no reply to any of them.
        try client.sendRaw(TTRPCFrame(streamID: 1, type: 3, data: [1, 2, 3]).encoded())
        try client.sendRaw(TTRPCFrame(streamID: 3, type: .response, data: []).encoded())
        try client.sendRaw(TTRPCFrame(streamID: 5, type: 0x7f, data: Self.requestFrame(5, method: "Connect")).encoded())
        try client.sendRaw(Self.requestFrame(9, method: "State", payload: try Self.state("x").serializedBytes()))
        guard case .frame(let reply)? = try client.receiveFrame(timeout: .seconds(5)) else {
            Issue.record("no reply")
            return
        }
        #expect(reply.streamID == 9)
        #expect(try client.receiveFrame(timeout: .milliseconds(200)) == nil)
    }

    @Test func successLeavesTheStatusOut() throws {
        let (server, _) = try Self.makeServer()
        let client = try TTRPCClient(path: server.path)
        try client.sendRaw(Self.requestFrame(1, method: "Kill", payload: try Self.kill(9).serializedBytes()))
        guard case .frame(let killReply)? = try client.receiveFrame(timeout: .seconds(5)) else {
            Issue.record("no reply")
            return
        }
        #expect(killReply.encoded() == hex("00000000 00000001 02 00"))
        try client.sendRaw(Self.requestFrame(3, method: "State", payload: try Self.state("ab").serializedBytes()))
        guard case .frame(let stateReply)? = try client.receiveFrame(timeout: .seconds(5)) else {
            Issue.record("no reply")
            return
        }
        // Response{payload=StateResponse{id:"ab", status:RUNNING}}: field 2 only.
        #expect(stateReply.data == hex("12 06 0a 02 61 62 20 02"))
    }

    @Test func malformedRequestBodyAndPayloadGetStatuses() throws {
        let (server, _) = try Self.makeServer()
        let client = try TTRPCClient(path: server.path)
        // A body that is not a Request (truncated field): INVALID_ARGUMENT "unmarshal request error: …".
        try client.sendRaw(TTRPCFrame(streamID: 1, type: .request, data: hex("0a 40 61")).encoded())
        Self.expectStatus(try client.receiveFrame(timeout: .seconds(5)), streamID: 1, .invalidArgument)
        // A payload that is not the method's input: INTERNAL "ttrpc: error unmarshalling payload: …".
        try client.sendRaw(Self.requestFrame(3, method: "State", payload: hex("0a 7f 00")))
        guard case .frame(let frame)? = try client.receiveFrame(timeout: .seconds(5)),
              case .failure(let status) = TTRPCMessages.decodeResponse(frame.data) else {
            Issue.record("expected a status")
            return
        }
        #expect(frame.streamID == 3)
        #expect(status.code == .internal && status.message.hasPrefix("ttrpc: error unmarshalling payload: "))
        try client.call(TaskService.connect, Self.connect())
    }

    /// Wait blocks in its handler while 100 other calls on other and on the same connection are answered.
    @Test func waitStaysPendingWhileOtherCallsAreAnswered() throws {
        let (server, service) = try Self.makeServer()
        let waiter = try TTRPCClient(path: server.path)
        let other = try TTRPCClient(path: server.path)
        let wait = Background { () -> UInt32 in
            var request = Containerd_Task_V2_WaitRequest()
            request.id = "c1"
            let response = try waiter.call(TaskService.wait, request)
            return response.exitStatus
        }
        // Make sure the Wait is registered before we go on.
        while server.sync({ service.waiters.count }) == 0 { usleep(1000) }
        for index in 0..<100 {
            let state = try other.call(TaskService.state, Self.state("s\(index)"))
            #expect(state.id == "s\(index)")
        }
        #expect(!wait.isFinished)
        try other.call(TaskService.kill, Self.kill(9))
        #expect(try wait.wait() == 137)
    }

    /// Replies go out in the order handlers answer, and each carries its request's stream id.
    @Test func repliesComeOutOfOrderAndAreMatchedByID() throws {
        let (server, _) = try Self.makeServer()
        let client = try TTRPCClient(path: server.path)
        var wait = Containerd_Task_V2_WaitRequest()
        wait.id = "c1"
        try client.sendRaw(Self.requestFrame(1, method: "Wait", payload: try wait.serializedBytes())
            + Self.requestFrame(3, method: "State", payload: try Self.state("x").serializedBytes())
            + Self.requestFrame(5, method: "Kill", payload: try Self.kill(15).serializedBytes()))
        var order: [UInt32] = []
        var waitStatus: UInt32?
        while order.count < 3, let event = try client.receiveFrame(timeout: .seconds(5)) {
            guard case .frame(let frame) = event else { continue }
            order.append(frame.streamID)
            if frame.streamID == 1 {
                waitStatus = try Containerd_Task_V2_WaitResponse(serializedBytes: TTRPCMessages.decodeResponse(frame.data).get()).exitStatus
            }
        }
        #expect(order == [3, 1, 5])
        #expect(waitStatus == 143)

        // The blocking client skips a late reply to a call it gave up on.
        let client2 = try TTRPCClient(path: server.path)
        #expect(throws: TTRPCStatus.deadlineExceeded) {
            try client2.call(TaskService.wait, wait, timeout: .milliseconds(100))
        }
        // The server also saw the deadline: the Wait was answered DEADLINE_EXCEEDED and cancelled there.
        try client2.call(TaskService.kill, Self.kill(9))
        let response = try client2.call(TaskService.connect, Self.connect())
        #expect(response.taskPid == 42)
    }

    @Test func serverDeadlineAnswersDeadlineExceeded() throws {
        let (server, service) = try Self.makeServer()
        let client = try TTRPCClient(path: server.path)
        var wait = Containerd_Task_V2_WaitRequest()
        wait.id = "c1"
        try client.sendRaw(Self.requestFrame(1, method: "Wait", payload: try wait.serializedBytes(), timeoutNano: 50_000_000))
        Self.expectStatus(try client.receiveFrame(timeout: .seconds(5)), streamID: 1, .deadlineExceeded, "context deadline exceeded")
        #expect(server.sync { service.cancelledWaits } == 1)
        // Answering after the deadline is a no-op: nothing more arrives on stream 1.
        try client.call(TaskService.kill, Self.kill(9))
        #expect(try client.receiveFrame(timeout: .milliseconds(100)) == nil)
    }

    @Test func clientDeadlineExpiresWithoutServerHelp() throws {
        let (server, _) = try Self.makeServer()
        let client = try TTRPCClient(path: server.path)
        let started = ContinuousClock.now
        #expect(throws: TTRPCStatus.deadlineExceeded) {
            try client.call(TaskService.pids, Containerd_Task_V2_PidsRequest(), timeout: .milliseconds(50))
        }
        #expect(ContinuousClock.now - started >= .milliseconds(50))
        try client.call(TaskService.connect, Self.connect())
    }

    @Test func connectionCountAndAbandonedCalls() throws {
        let counts = Box<[Int]>([])
        let (server, service) = try Self.makeServer { server in
            server.onConnectionsChanged = { count in counts.update { $0?.append(count) } }
        }
        let client = try TTRPCClient(path: server.path)
        var wait = Containerd_Task_V2_WaitRequest()
        wait.id = "c1"
        try client.sendRaw(Self.requestFrame(1, method: "Wait", payload: try wait.serializedBytes()))
        while server.sync({ service.waiters.count }) == 0 { usleep(1000) }
        #expect(server.sync { server.server.activeCalls } == 1)
        client.close()
        while server.sync({ server.server.connectionCount }) != 0 { usleep(1000) }
        #expect(server.sync { service.cancelledWaits } == 1)
        #expect(server.sync { server.server.activeCalls } == 0)
        // Answering a call whose connection is gone is a no-op.
        let finished = server.sync { () -> Bool in
            var response = Containerd_Task_V2_WaitResponse()
            response.exitStatus = 1
            for waiter in service.waiters { waiter.succeed(response) }
            return service.waiters.allSatisfy(\.isFinished)
        }
        #expect(finished)
        #expect(counts.value == [1, 0])
    }

    @Test func peersFailingAuthorizationAreClosed() throws {
        let seen = Box<[UInt32]>([])
        let (server, _) = try Self.makeServer { server in
            server.authorize = { peer in
                seen.update { $0?.append(peer.uid) }
                return false
            }
        }
        let client = try TTRPCClient(path: server.path)
        #expect(throws: TTRPCStatus.closed) {
            try client.call(TaskService.connect, Self.connect(), timeout: .seconds(5))
        }
        #expect(seen.value == [geteuid()])
        #expect(server.sync { server.server.connectionCount } == 0)
    }

    @Test func defaultPolicyAdmitsRootAndTheSameUserOnly() {
        #expect(TTRPCServer.rootOrSameUser(.of(pid: 1, uid: 0, gid: 0)))
        #expect(TTRPCServer.rootOrSameUser(.of(pid: 1, uid: geteuid(), gid: 12345)))
        if geteuid() != 65534 {
            #expect(!TTRPCServer.rootOrSameUser(.of(pid: 1, uid: 65534, gid: 65534)))
        }
    }

    static let echoContext = TTRPCMethod<Google_Protobuf_Empty, Google_Protobuf_Empty>(service: "test.Echo", method: "Context")

    @Test func handlersSeePeerAndMetadata() throws {
        let seen = Box<TTRPCContext>()
        let (server, _) = try Self.makeServer { server in
            server.register(Self.echoContext) { _, context, responder in
                seen.set(context)
                responder.succeed(Google_Protobuf_Empty())
            }
        }
        let client = try TTRPCClient(path: server.path)
        try client.call(Self.echoContext, Google_Protobuf_Empty(), timeout: .seconds(30),
            metadata: [TTRPCMetadataKey.containerdNamespace: ["default"], "multi": ["a", "b"]])
        let context = try #require(seen.value)
        #expect(context.peer.pid == getpid())
        #expect(context.peer.uid == geteuid())
        #expect(context.containerdNamespace == "default")
        #expect(context.metadata["multi"] == ["a", "b"])
        #expect(context.service == "test.Echo" && context.method == "Context" && context.streamID == 1)
        #expect(context.deadline != nil)
    }

    @Test func gracefulShutdownWaitsForCallsInFlight() throws {
        let (server, service) = try Self.makeServer()
        let idle = try TTRPCClient(path: server.path)
        let busy = try TTRPCClient(path: server.path)
        try idle.call(TaskService.connect, Self.connect())
        var wait = Containerd_Task_V2_WaitRequest()
        wait.id = "c1"
        try busy.sendRaw(Self.requestFrame(1, method: "Wait", payload: try wait.serializedBytes()))
        while server.sync({ service.waiters.count }) == 0 { usleep(1000) }
        let done = Box<Bool>(false)
        server.onLoop { server.server.shutdownWhenIdle(timeoutMilliseconds: 10_000) { done.set(true) } }
        // The idle connection goes at once, new connections are refused, the busy one stays.
        #expect(throws: TTRPCStatus.closed) {
            try idle.call(TaskService.connect, Self.connect(), timeout: .seconds(5))
        }
        #expect(throws: TTRPCStatus.self) { _ = try TTRPCClient(path: server.path) }
        #expect(server.sync { server.server.connectionCount } == 1)
        #expect(done.value == false)
        // Once the Wait is answered, its reply goes out and the connection closes.
        server.onLoop {
            var response = Containerd_Task_V2_WaitResponse()
            response.exitStatus = 3
            for waiter in service.waiters { waiter.succeed(response) }
        }
        guard case .frame(let reply)? = try busy.receiveFrame(timeout: .seconds(5)) else {
            Issue.record("no Wait reply")
            return
        }
        #expect(reply.streamID == 1)
        while server.sync({ done.value == false }) { usleep(1000) }
        #expect(server.sync { server.server.connectionCount } == 0)
    }

    @Test func shutdownRepliesThenCloses() throws {
        let (server, _) = try Self.makeServer()
        let client = try TTRPCClient(path: server.path)
        try client.call(TaskService.shutdown, Containerd_Task_V2_ShutdownRequest())
        #expect(throws: TTRPCStatus.closed) {
            try client.call(TaskService.connect, Self.connect(), timeout: .seconds(5))
        }
        #expect(throws: TTRPCStatus.self) { _ = try TTRPCClient(path: server.path) }
    }
}
