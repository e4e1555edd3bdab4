import Foundation
import SwiftProtobuf
import TetherAPI
import TetherSystem
import Testing
@testable import TTRPC

/// The frames captured from containerd 1.6.20 and its runc shim (shim-v2-ttrpc.md §1.1, §2.3, §3.7).
@Suite("TTRPC golden frames")
struct TTRPCGoldenFrameTests {
    /// Connect{id:"test1"} on stream 1, as containerd sends it.
    static let connectRequest = hex("0000002b 00000001 01 00") + hex("0a17") + ascii("containerd.task.v2.Task")
        + hex("1207") + ascii("Connect") + hex("1a07 0a05") + ascii("test1")
    /// ConnectResponse{shim_pid=5627, task_pid=5654}, as the runc shim answers it.
    static let connectResponse = hex("00000008 00000001 02 00 12 06 08fb2b 10962c")

    @Test func connectRequestEncodesExactly() throws {
        var connect = Containerd_Task_V2_ConnectRequest()
        connect.id = "test1"
        let body = TTRPCMessages.encodeRequest(
            service: TaskService.name, method: "Connect", payload: try connect.serializedBytes(),
            timeoutNanoseconds: 0, metadata: [:])
        let frame = TTRPCFrame(streamID: 1, type: .request, data: body)
        #expect(frame.encoded() == Self.connectRequest)
        #expect(Self.connectRequest.count == 53)
    }

    @Test func connectRequestDecodesExactly() throws {
        var decoder = TTRPCFrameDecoder()
        let events = decoder.events(from: Self.connectRequest)
        guard case .frame(let frame)? = events.first, events.count == 1 else {
            Issue.record("expected one frame, got \(events)")
            return
        }
        #expect(frame.streamID == 1)
        #expect(frame.messageType == .request)
        #expect(frame.flags == 0)
        let request = try TTRPCMessages.decodeRequest(frame.data)
        #expect(request.service == "containerd.task.v2.Task")
        #expect(request.method == "Connect")
        #expect(request.timeoutNano == 0)
        #expect(request.metadata.isEmpty)
        let connect = try Containerd_Task_V2_ConnectRequest(serializedBytes: Array(request.payload))
        #expect(connect.id == "test1")
    }

    @Test func connectResponseEncodesExactly() throws {
        var connect = Containerd_Task_V2_ConnectResponse()
        connect.shimPid = 5627
        connect.taskPid = 5654
        let body = TTRPCMessages.encodeResponse(payload: try connect.serializedBytes())
        #expect(TTRPCFrame(streamID: 1, type: .response, data: body).encoded() == Self.connectResponse)
    }

    @Test func connectResponseDecodesExactly() throws {
        var decoder = TTRPCFrameDecoder()
        guard case .frame(let frame)? = decoder.events(from: Self.connectResponse).first else {
            Issue.record("no frame")
            return
        }
        #expect(frame.streamID == 1 && frame.messageType == .response)
        let payload = try TTRPCMessages.decodeResponse(frame.data).get()
        let connect = try Containerd_Task_V2_ConnectResponse(serializedBytes: payload)
        #expect(connect.shimPid == 5627)
        #expect(connect.taskPid == 5654)
        #expect(connect.version == "")
    }

    /// Our client's first call on a connection is byte-for-byte containerd's.
    @Test func clientSendsContainerdsBytes() throws {
        let (ours, theirs) = try FileIO.socketPair(type: Int32(SOCK_STREAM.rawValue))
        defer { FileIO.close(theirs) }
        let client = TTRPCClient(connected: ours)
        defer { client.close() }
        let call = Background { () -> UInt32 in
            var connect = Containerd_Task_V2_ConnectRequest()
            connect.id = "test1"
            let response = try client.call(TaskService.connect, connect)
            return response.shimPid
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while received.count < Self.connectRequest.count {
            let n = read(theirs, &chunk, chunk.count)
            guard n > 0 else { break }
            received += chunk[0..<n]
        }
        #expect(received == Self.connectRequest)
        try FileIO.writeAll(theirs, Self.connectResponse)
        #expect(try call.wait() == 5627)
    }

    /// Empty results (Kill, Pause, Shutdown, ...) are a zero-length body: the bare 10-byte header.
    @Test func emptySuccessIsAHeaderOnly() {
        let body = TTRPCMessages.encodeResponse(payload: [])
        #expect(body.isEmpty)
        #expect(TTRPCFrame(streamID: 11, type: .response, data: body).encoded() == hex("00000000 0000000b 02 00"))
        #expect((try? TTRPCMessages.decodeResponse([]).get()) == [])
    }

    /// An error carries the status (code + message) and no payload.
    @Test func errorResponseCarriesOnlyTheStatus() throws {
        let body = TTRPCMessages.encodeResponse(status: TTRPCStatus(.unimplemented, "service x"))
        #expect(body == hex("0a0d 080c 1209") + ascii("service x"))
        #expect(throws: TTRPCStatus(.unimplemented, "service x")) { try TTRPCMessages.decodeResponse(body).get() }
    }

    /// The Go runc shim's `delete` output (§3.7) decodes to pid 7224, exit 137.
    @Test func runcShimDeleteOutputDecodes() throws {
        let bytes = hex("08 b8 38 10 89 01 1a 0c 08 ee eb 8b d8 06 10 a5 82 b1 c6 02")
        let response = try Containerd_Task_V2_DeleteResponse(serializedBytes: bytes)
        #expect(response.pid == 7224)
        #expect(response.exitStatus == 137)
        #expect(response.hasExitedAt && response.exitedAt.seconds > 1_600_000_000)
        #expect(try response.serializedBytes() == bytes)
    }

    /// Go's zero time in StateResponse.exited_at is the 10-byte negative varint (§2.3).
    @Test func goZeroTimeIsATenByteVarint() throws {
        var state = Containerd_Task_V2_StateResponse()
        state.exitedAt.seconds = -62_135_596_800
        #expect(try state.serializedBytes() == hex("52 0b 08 80 92 b8 c3 98 fe ff ff ff 01"))
    }

    /// Any uses the bare proto name as type URL, as containerd's typeurl v1 does.
    @Test func eventsPackWithContainerdTypeURLs() throws {
        var exit = Containerd_Events_TaskExit()
        exit.containerID = "c1"
        exit.id = "c1"
        exit.pid = 7
        exit.exitStatus = 137
        let any = try Google_Protobuf_Any(containerd: exit)
        #expect(any.typeURL == "containerd.events.TaskExit")
        #expect(try any.unpack(Containerd_Events_TaskExit.self) == exit)
        #expect(throws: TTRPCStatus.self) { try any.unpack(Containerd_Events_TaskStart.self) }
        let envelope = try EventEnvelope(namespace: "default", event: exit)
        #expect(envelope.topic == "/tasks/exit")
        #expect(envelope.timestamp.seconds > 0)
        #expect(envelope.event.typeURL == "containerd.events.TaskExit")
        #expect(Containerd_Events_TaskExecStarted.topic.rawValue == "/tasks/exec-started")
        #expect(TaskEventTopic.allCases.count == 10)
        #expect(TaskService.methodNames.count == 17)
        #expect(EventsService.name == "containerd.services.events.ttrpc.v1.Events")
    }

    /// UpdateTaskRequest.annotations is a map: repeated {key=1, value=2} entries in field 3.
    @Test func mapFieldsUseEntryMessages() throws {
        var update = Containerd_Task_V2_UpdateTaskRequest()
        update.annotations = ["k": "v"]
        #expect(try update.serializedBytes() == hex("1a 06 0a 01 6b 12 01 76"))
    }
}
