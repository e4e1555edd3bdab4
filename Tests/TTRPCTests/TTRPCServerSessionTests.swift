import Glibc
import TetherAPI
import TetherSystem
import Testing
@testable import TTRPC

/// The protocol rules without a socket: frames in, frames out, fake timers.
@Suite("TTRPC server session")
struct TTRPCServerSessionTests {
    final class FakeTransport {
        var sent: [TTRPCFrame] = []
        var timers: [(nanoseconds: UInt64, action: () -> Void, cancelled: Bool)] = []

        var transport: TTRPCServerSession.Transport {
            TTRPCServerSession.Transport(
                send: { [unowned self] streamID, type, data in self.sent.append(TTRPCFrame(streamID: streamID, type: type, data: data)) },
                schedule: { [unowned self] nanoseconds, action in
                    let index = self.timers.count
                    self.timers.append((nanoseconds, action, false))
                    return { [unowned self] in self.timers[index].cancelled = true }
                })
        }

        func fireTimers() {
            for timer in timers where !timer.cancelled { timer.action() }
        }

        func status(_ index: Int) -> TTRPCStatus? {
            guard index < sent.count, case .failure(let status) = TTRPCMessages.decodeResponse(sent[index].data) else { return nil }
            return status
        }
    }

    static func session(_ fake: FakeTransport, _ configure: (TTRPCDispatcher) -> Void = { _ in }) -> TTRPCServerSession {
        let dispatcher = TTRPCDispatcher()
        configure(dispatcher)
        return TTRPCServerSession(dispatcher: dispatcher, peer: .of(pid: 1, uid: 0, gid: 0), transport: fake.transport)
    }

    /// A method of the test service "s" that takes and returns Empty.
    static func method(_ name: String) -> TTRPCMethod<Google_Protobuf_Empty, Google_Protobuf_Empty> {
        TTRPCMethod(service: "s", method: name)
    }

    static func request(_ streamID: UInt32, _ service: String, _ method: String, payload: [UInt8] = [], timeout: Int64 = 0) -> TTRPCFrame {
        TTRPCFrame(streamID: streamID, type: .request, data: TTRPCMessages.encodeRequest(
            service: service, method: method, payload: payload, timeoutNanoseconds: timeout, metadata: [:]))
    }

    @Test func rulesInTtrpcOrder() {
        let fake = FakeTransport()
        let session = Self.session(fake) { dispatcher in
            dispatcher.register(Self.method("m"), sync: { _ in Google_Protobuf_Empty() })
        }
        session.receive(.oversized(streamID: 9, type: 1, length: 5_000_000))
        session.receive(TTRPCFrame(streamID: 11, type: .data, data: []))
        session.receive(TTRPCFrame(streamID: 4, type: .request, data: [0xff]))  // bad body beats even id
        session.receive(Self.request(6, "s", "m"))
        session.receive(Self.request(13, "nope", "m"))
        session.receive(Self.request(15, "s", "nope"))
        session.receive(Self.request(17, "s", "m"))
        #expect(fake.sent.map(\.streamID) == [9, 4, 6, 13, 15, 17])
        #expect(fake.status(0) == TTRPCStatus(.resourceExhausted, "message length 5000000 exceed maximum message size of 4194304"))
        #expect(fake.status(1)?.code == .invalidArgument)
        #expect(fake.status(1)?.message.hasPrefix("unmarshal request error: ") == true)
        #expect(fake.status(2) == TTRPCStatus(.invalidArgument, "StreamID must be odd for client initiated streams"))
        #expect(fake.status(3) == TTRPCStatus(.unimplemented, "service nope"))
        #expect(fake.status(4) == TTRPCStatus(.unimplemented, "method nope"))
        #expect(fake.sent[5].data.isEmpty)
        #expect(fake.sent.allSatisfy { $0.messageType == .response && $0.flags == 0 })
    }

    @Test func deadlineAnswersOnceAndLateAnswersAreIgnored() {
        let fake = FakeTransport()
        var held: TTRPCResponder<Google_Protobuf_Empty>?
        var cancelled = 0
        let session = Self.session(fake) { dispatcher in
            dispatcher.register(Self.method("hold")) { _, context, responder in
                #expect(context.deadline != nil)
                responder.onCancel = { cancelled += 1 }
                held = responder
            }
        }
        session.receive(Self.request(1, "s", "hold", timeout: 1_500_000))
        #expect(fake.timers.count == 1 && fake.timers[0].nanoseconds <= 1_500_000)
        #expect(session.activeCalls == 1)
        fake.fireTimers()
        #expect(fake.status(0) == TTRPCStatus.deadlineExceeded)
        #expect(cancelled == 1)
        held?.succeed(Google_Protobuf_Empty())
        held?.fail(TTRPCStatus(.internal, "late"))
        #expect(fake.sent.count == 1)
        #expect(session.activeCalls == 0)
    }

    @Test func answerCancelsTheDeadlineAndCloseAbandonsPendingCalls() {
        let fake = FakeTransport()
        var held: [TTRPCResponder<Google_Protobuf_Empty>] = []
        var cancelled = 0
        let session = Self.session(fake) { dispatcher in
            dispatcher.register(Self.method("hold")) { _, _, responder in
                responder.onCancel = { cancelled += 1 }
                held.append(responder)
            }
        }
        session.receive(Self.request(1, "s", "hold", timeout: 1_000_000_000))
        session.receive(Self.request(3, "s", "hold"))
        held[0].succeed(Google_Protobuf_Empty())
        #expect(fake.timers[0].cancelled)
        #expect(fake.sent.map(\.streamID) == [1])
        session.close()
        #expect(cancelled == 1)
        held[1].succeed(Google_Protobuf_Empty())
        #expect(fake.sent.count == 1)
        #expect(held.allSatisfy { $0.isFinished })
    }

    @Test func thrownErrorsMapLikeConvertCode() {
        #expect(TTRPCStatus(SyscallError("open x", errno: ENOENT)).code == .notFound)
        #expect(TTRPCStatus(SyscallError("mkdir x", errno: EEXIST)).code == .alreadyExists)
        #expect(TTRPCStatus(SyscallError("kill", errno: EPERM)).code == .permissionDenied)
        #expect(TTRPCStatus(SyscallError("x", errno: EINVAL)).code == .invalidArgument)
        #expect(TTRPCStatus(SyscallError("write", errno: EPIPE)).code == .failedPrecondition)
        #expect(TTRPCStatus(SyscallError("x", errno: EIO)).code == .unknown)
        struct Plain: Error {}
        #expect(TTRPCStatus(Plain()).code == .unknown)
        #expect(TTRPCStatus(TTRPCStatus(.aborted, "a")) == TTRPCStatus(.aborted, "a"))
    }
}

@Suite("TTRPC size limits")
struct TTRPCSizeLimitTests {
    @Test func responsesOverFourMebibytesBecomeResourceExhausted() {
        let fake = TTRPCServerSessionTests.FakeTransport()
        let session = TTRPCServerSessionTests.session(fake) { dispatcher in
            dispatcher.register(TTRPCMethod<Google_Protobuf_Empty, Containerd_Task_V2_StateResponse>(service: "s", method: "big"), sync: { _ in
                var response = Containerd_Task_V2_StateResponse()
                response.id = String(repeating: "x", count: TTRPCFrame.maximumDataLength)
                return response
            })
        }
        session.receive(TTRPCServerSessionTests.request(1, "s", "big"))
        #expect(fake.sent.count == 1)
        #expect(fake.status(0)?.code == .resourceExhausted)
    }

    @Test func clientsRefuseToSendOversizedRequests() throws {
        let (ours, theirs) = try FileIO.socketPair(type: Int32(SOCK_STREAM.rawValue))
        defer { FileIO.close(theirs) }
        let client = TTRPCClient(connected: ours)
        var request = Containerd_Task_V2_StateRequest()
        request.id = String(repeating: "x", count: TTRPCFrame.maximumDataLength)
        #expect(throws: TTRPCStatus.self) {
            try client.call(TaskService.state, request)
        }
        client.close()
    }
}
