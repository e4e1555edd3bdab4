import Foundation
import TetherAPI
import TetherSystem
import Testing
@testable import TTRPC

/// A small deterministic generator so that a failing run can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Frames with a consistent length field but random everything else: type, flags, stream id, garbage
/// bodies, truncated or corrupted Requests, and well-formed Requests for random services, methods,
/// payloads and timeouts (negative and tiny ones included).
enum RandomFrames {
    static let methods = ["Connect", "State", "Wait", "Kill", "Pids", "Delete", "Nope", ""]
    static let services = [TaskService.name, TaskService.name, "containerd.task.v3.Task", "", "x"]

    static func frame(_ random: inout SplitMix64) -> [UInt8] {
        let streamID: UInt32 = Bool.random(using: &random) ? UInt32.random(in: 0...1000, using: &random) * 2 + 1
            : UInt32.random(in: 0...UInt32.max, using: &random)
        var type: UInt8 = 1
        switch UInt8.random(in: 0..<10, using: &random) {
        case 0: type = 2
        case 1: type = 3
        case 2: type = UInt8.random(in: 0...255, using: &random)
        default: break
        }
        let flags: UInt8 = Bool.random(using: &random) ? 0 : UInt8.random(in: 0...255, using: &random)
        var body: [UInt8]
        switch UInt8.random(in: 0..<4, using: &random) {
        case 0:
            body = (0..<Int.random(in: 0..<48, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        default:
            let payload = (0..<Int.random(in: 0..<24, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let timeout: Int64 = switch UInt8.random(in: 0..<4, using: &random) {
            case 0: Int64.random(in: Int64.min...Int64.max, using: &random)
            case 1: Int64.random(in: 1...2_000_000, using: &random)
            default: 0
            }
            let metadata: [String: [String]] = Bool.random(using: &random) ? [:] : ["k": ["v", "w"]]
            body = TTRPCMessages.encodeRequest(
                service: services.randomElement(using: &random) ?? "", method: methods.randomElement(using: &random) ?? "",
                payload: payload, timeoutNanoseconds: timeout, metadata: metadata)
            if Bool.random(using: &random), !body.isEmpty {
                // Truncate or flip a byte.
                if Bool.random(using: &random) {
                    body.removeLast(Int.random(in: 1...body.count, using: &random))
                } else {
                    body[Int.random(in: 0..<body.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                }
            }
        }
        return TTRPCFrame(streamID: streamID, type: type, flags: flags, data: body).encoded()
    }
}

@Suite("TTRPC robustness")
struct TTRPCRobustnessTests {
    /// 100,000 random frames on one connection; the server must answer a well-formed call on the same
    /// connection afterwards, and on a new one. A reader thread drains replies meanwhile.
    @Test func hundredThousandRandomFramesLeaveTheServerWorking() throws {
        let (server, _) = try TTRPCServerTests.makeServer()
        let fd = try UnixSocket.connect(path: server.path)
        defer { FileIO.close(fd) }
        let markerID: UInt32 = 0x7FFF_FFFF
        let reader = Background { () -> (frames: Int, marker: [UInt8]?) in
            var decoder = TTRPCFrameDecoder()
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            var frames = 0
            var marker: [UInt8]?
            while marker == nil {
                let n = read(fd, &chunk, chunk.count)
                if n <= 0 { break }
                decoder.feed(Array(chunk[0..<n])) { event in
                    guard case .frame(let frame) = event else { return }
                    frames += 1
                    if frame.streamID == markerID { marker = frame.data }
                }
            }
            return (frames, marker)
        }
        var random = SplitMix64(seed: UInt64(Date().timeIntervalSince1970 * 1000))
        let seed = random.state
        var batch: [UInt8] = []
        for index in 0..<100_000 {
            batch += RandomFrames.frame(&random)
            if batch.count > 1 << 16 || index == 99_999 {
                try FileIO.writeAll(fd, batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        var state = Containerd_Task_V2_StateRequest()
        state.id = "after-fuzz"
        let body = TTRPCMessages.encodeRequest(service: TaskService.name, method: "State",
            payload: try state.serializedBytes(), timeoutNanoseconds: 0, metadata: [:])
        try FileIO.writeAll(fd, TTRPCFrame(streamID: markerID, type: .request, data: body).encoded())
        let (frames, marker) = try reader.wait(timeout: 120)
        let reply = try #require(marker, "no reply to the marker call (seed \(seed))")
        let response = try Containerd_Task_V2_StateResponse(serializedBytes: TTRPCMessages.decodeResponse(reply).get())
        #expect(response.id == "after-fuzz", "seed \(seed)")
        #expect(frames > 1000, "the server answered the requests among the random frames (seed \(seed))")
        // A new connection works too, and the fuzzed one is still counted as open.
        let client = try TTRPCClient(path: server.path)
        let again = try client.call(TaskService.state, state, timeout: .seconds(10))
        #expect(again.id == "after-fuzz")
        #expect(server.sync { server.server.connectionCount } == 2)
    }

    /// Garbage that ends mid-frame, announces huge lengths or just stops: the server neither crashes nor
    /// hangs, and keeps serving others.
    @Test func truncatedStreamsAndGarbageDoNotHurtOtherConnections() throws {
        let (server, _) = try TTRPCServerTests.makeServer()
        var random = SplitMix64(seed: 42)
        for round in 0..<200 {
            let fd = try UnixSocket.connect(path: server.path)
            var bytes = (0..<Int.random(in: 0..<300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            if round % 3 == 0 { bytes = RandomFrames.frame(&random) + RandomFrames.frame(&random) }
            if round % 5 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random))) }
            _ = try? FileIO.writeAll(fd, bytes)
            FileIO.close(fd)
        }
        let client = try TTRPCClient(path: server.path)
        let response = try client.call(TaskService.connect, Containerd_Task_V2_ConnectRequest(), timeout: .seconds(10))
        #expect(response.taskPid == 42)
        // Every garbage connection was closed by its peer and cleaned up.
        var open = server.sync { server.server.connectionCount }
        for _ in 0..<1000 where open != 1 {
            usleep(5000)
            open = server.sync { server.server.connectionCount }
        }
        #expect(open == 1)
    }

    /// A client that writes requests and never reads: the server stops reading once its queue is large
    /// instead of buffering without bound, and resumes when the client drains.
    @Test func aClientThatDoesNotReadIsThrottled() throws {
        let (server, _) = try TTRPCServerTests.makeServer()
        let fd = try UnixSocket.connect(path: server.path)
        defer { FileIO.close(fd) }
        try FileIO.setNonblocking(fd)
        var state = Containerd_Task_V2_StateRequest()
        state.id = String(repeating: "x", count: 4000)
        let payload: [UInt8] = try state.serializedBytes()
        let frame = TTRPCFrame(streamID: 1, type: .request, data: TTRPCMessages.encodeRequest(
            service: TaskService.name, method: "State", payload: payload, timeoutNanoseconds: 0, metadata: [:])).encoded()
        var written = 0
        var stalls = 0
        // Write until the socket stays full for a while: the server has stopped reading.
        while stalls < 50 && written < 512 << 20 {
            let n = frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                written += n
                if n < frame.count { break }
                stalls = 0
            } else {
                stalls += 1
                usleep(2000)
            }
        }
        #expect(written < 512 << 20, "the server kept reading without bound")
        // Drain: replies come back and the server resumes.
        try FileIO.setNonblocking(fd, false)
        // A read that waits 10 s for more ends the drain, so a slow server fails the count below instead of hanging.
        var receiveTimeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &receiveTimeout, socklen_t(MemoryLayout<timeval>.size))
        var decoder = TTRPCFrameDecoder()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var replies = 0
        var received = 0
        while received < 1 << 20 {
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { break }
            received += n
            decoder.feed(Array(chunk[0..<n])) { event in if case .frame = event { replies += 1 } }
        }
        #expect(replies > 100)
        let client = try TTRPCClient(path: server.path)
        try client.call(TaskService.connect, Containerd_Task_V2_ConnectRequest(),
                                                                    timeout: .seconds(10))
    }
}
