// ttrpc-fuzz: a random-frame driver for the TTRPC codec and server (what `make fuzz` runs).
//
//   ttrpc-fuzz [--seconds S] [--seed N] [--socket]
//
// Each iteration builds a random byte stream (well-formed frames with random headers, corrupted and
// truncated Requests, oversized length fields, raw garbage), feeds it in random chunks through a
// TTRPCFrameDecoder into a TTRPCServerSession with handlers that answer now, later, never or with errors,
// fires deadlines at random, and checks the protocol invariants: every reply is a Response (type 2, flags 0)
// on a stream id the peer sent, at most one reply per accepted request, nothing after close.
// With --socket it also runs a real TTRPCServer on an EventLoop thread and sends the same streams over
// unix sockets, checking after each batch that a well-formed call still succeeds.
// Crashes are the failure signal (build with --sanitize=address, as `make fuzz` does); invariant
// violations print the seed and exit 1. Re-run a failure with --seed.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TetherAPI
import TetherFlags
import TetherSystem
import TTRPC

struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let services = [TaskService.name, TaskService.name, TaskService.name, "containerd.task.v3.Task", "", "fuzz"]
let methods = ["Connect", "State", "Wait", "Kill", "Pids", "Delete", "Nope", ""]

func randomBytes(_ count: Int, _ random: inout Generator) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
}

/// One random piece of stream.
func randomPiece(_ random: inout Generator, maximumLength: Int) -> [UInt8] {
    let streamID: UInt32 = Bool.random(using: &random) ? UInt32.random(in: 0...64, using: &random) * 2 + 1
        : UInt32.random(in: 0...UInt32.max, using: &random)
    switch UInt8.random(in: 0..<20, using: &random) {
    case 0:
        return randomBytes(Int.random(in: 0..<64, using: &random), &random)  // garbage
    case 1:
        // An oversized length field followed by a little data (the rest of the stream is eaten by the discard).
        var header: [UInt8] = []
        let length = UInt32.random(in: UInt32(maximumLength + 1)...UInt32(maximumLength + 64), using: &random)
        header += [UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
                   UInt8(truncatingIfNeeded: length)]
        header += [UInt8(streamID >> 24), UInt8(truncatingIfNeeded: streamID >> 16), UInt8(truncatingIfNeeded: streamID >> 8),
                   UInt8(truncatingIfNeeded: streamID), 1, 0]
        return header + randomBytes(Int.random(in: 0..<32, using: &random), &random)
    case 2, 3:
        let type = UInt8.random(in: 0...255, using: &random)
        return TTRPCFrame(streamID: streamID, type: type, flags: UInt8.random(in: 0...255, using: &random),
                          data: randomBytes(Int.random(in: 0..<48, using: &random), &random)).encoded()
    default:
        let timeout: Int64 = switch UInt8.random(in: 0..<5, using: &random) {
        case 0: Int64.random(in: Int64.min...Int64.max, using: &random)
        case 1: Int64.random(in: 1...3_000_000, using: &random)
        default: 0
        }
        var metadata: [String: [String]] = [:]
        if Bool.random(using: &random) { metadata["k"] = ["a", "b"] }
        var body = TTRPCCodec.requestBody(
            service: services.randomElement(using: &random) ?? "", method: methods.randomElement(using: &random) ?? "",
            payload: randomBytes(Int.random(in: 0..<24, using: &random), &random), timeoutNanoseconds: timeout, metadata: metadata)
        if UInt8.random(in: 0..<4, using: &random) == 0, !body.isEmpty {
            if Bool.random(using: &random) {
                body.removeLast(Int.random(in: 1...body.count, using: &random))
            } else {
                body[Int.random(in: 0..<body.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            }
        }
        let flags: UInt8 = UInt8.random(in: 0..<8, using: &random) == 0 ? UInt8.random(in: 0...255, using: &random) : 0
        return TTRPCFrame(streamID: streamID, type: .request, flags: flags, data: body).encoded()
    }
}

/// The handlers: answer now, later (Wait until Kill), never (Pids), fail (Delete), or throw out of sync handlers.
final class FuzzService {
    var waiting: [TTRPCResponder<Containerd_Task_V2_WaitResponse>] = []

    func install(_ dispatcher: TTRPCDispatcher) {
        dispatcher.register(TaskService.connect, sync: { _ in
            Containerd_Task_V2_ConnectResponse()
        })
        dispatcher.register(TaskService.state, sync: { request in
            var response = Containerd_Task_V2_StateResponse()
            response.id = request.id
            return response
        })
        dispatcher.register(TaskService.wait) { [unowned self] _, _, responder in
            self.waiting.append(responder)
        }
        dispatcher.register(TaskService.kill) { [unowned self] _, _, responder in
            for waiter in self.waiting { waiter.succeed(Containerd_Task_V2_WaitResponse()) }
            self.waiting.removeAll()
            responder.succeed(Google_Protobuf_Empty())
            responder.succeed(Google_Protobuf_Empty())  // a second answer must be ignored
        }
        dispatcher.register(TaskService.pids) { _, _, _ in }  // never answers
        dispatcher.register(TaskService.delete, sync: { _ in
            throw TTRPCStatus(.notFound, "not found")
        })
    }
}

struct Violation: Error, CustomStringConvertible {
    let description: String
}

/// One in-process iteration: a random stream through decoder + session, with invariant checks.
func codecIteration(_ random: inout Generator) throws {
    let dispatcher = TTRPCDispatcher()
    let service = FuzzService()
    service.install(dispatcher)
    var sentIDs = Set<UInt32>()
    var replies: [UInt32: Int] = [:]
    var timers: [(action: () -> Void, cancelled: Bool)] = []
    var violation: String?
    var closed = false
    let session = TTRPCServerSession(
        dispatcher: dispatcher, peer: .of(pid: 1, uid: 0, gid: 0),
        transport: TTRPCServerSession.Transport(
            send: { streamID, type, data in
                if closed { violation = "reply on \(streamID) after close" }
                if type != .response { violation = "reply of type \(type)" }
                if data.count > TTRPCFrame.maximumDataLength { violation = "oversized reply" }
                if !sentIDs.contains(streamID) { violation = "reply on unknown stream \(streamID)" }
                replies[streamID, default: 0] += 1
                if case .failure(let status) = TTRPCCodec.decodeResponse(data), status.code == .ok {
                    violation = "error reply with code OK"
                }
            },
            schedule: { _, action in
                let index = timers.count
                timers.append((action, false))
                return { timers[index].cancelled = true }
            }))
    let maximumLength = 4 << 20
    var stream: [UInt8] = []
    for _ in 0..<Int.random(in: 1...40, using: &random) {
        stream += randomPiece(&random, maximumLength: maximumLength)
    }
    // Which stream ids did the peer use? Scan the stream the way the decoder will.
    var scanner = TTRPCFrameDecoder()
    scanner.feed(stream) { event in
        switch event {
        case .frame(let frame): sentIDs.insert(frame.streamID)
        case .oversized(let id, _, _): sentIDs.insert(id)
        }
    }
    var decoder = TTRPCFrameDecoder()
    var offset = 0
    while offset < stream.count {
        let chunk = min(stream.count - offset, Int.random(in: 1...128, using: &random))
        decoder.feed(Array(stream[offset..<(offset + chunk)])) { session.receive($0) }
        offset += chunk
        if Int.random(in: 0..<8, using: &random) == 0 {
            for index in timers.indices where !timers[index].cancelled && Bool.random(using: &random) {
                timers[index].cancelled = true
                timers[index].action()
            }
        }
    }
    if let violation { throw Violation(description: violation) }
    session.close()
    closed = true
    for waiter in service.waiting { waiter.succeed(Containerd_Task_V2_WaitResponse()) }
    for timer in timers where !timer.cancelled { timer.action() }
    if let violation { throw Violation(description: violation) }
    if session.activeCalls != 0 { throw Violation(description: "\(session.activeCalls) calls left after close") }
}

/// The same streams over real sockets against a TTRPCServer on its own loop thread.
final class SocketTarget: @unchecked Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/ttrpc-fuzz-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SyscallError.current("mkdtemp") }
        path = String(cString: made) + "/fuzz.sock"
        let listener = try UnixSocket.listen(path: path)
        let ready = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            guard let loop = try? EventLoop() else { exit(2) }
            let server = TTRPCServer(loop: loop, listener: listener)
            let service = FuzzService()
            service.install(server.dispatcher)
            ready.signal()
            while true { try? loop.runOnce() }
        }
        ready.wait()
    }

    func iteration(_ random: inout Generator) throws {
        let fd = try UnixSocket.connect(path: path)
        defer { FileIO.close(fd) }
        try FileIO.setNonblocking(fd)
        var stream: [UInt8] = []
        for _ in 0..<Int.random(in: 1...200, using: &random) { stream += randomPiece(&random, maximumLength: 4 << 20) }
        // Write what the socket takes, reading replies as we go; then hang up (possibly mid-frame).
        var offset = 0
        var sink = [UInt8](repeating: 0, count: 1 << 16)
        while offset < stream.count {
            let n = stream[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n } else if n < 0 && errno != EAGAIN { break } else { usleep(100) }
            _ = read(fd, &sink, sink.count)
        }
        // A fresh connection must still be served.
        let client = try TTRPCClient(path: path)
        defer { client.close() }
        var request = Containerd_Task_V2_StateRequest()
        request.id = "probe"
        let response = try client.call(TaskService.state, request, timeout: .seconds(10))
        if response.id != "probe" { throw Violation(description: "wrong probe reply") }
    }
}

func main() -> Int32 {
    let syntax = CommandSyntax(
        program: "ttrpc-fuzz", abstract: "Feed random and mutated ttrpc frames to a server; fails on a crash, hang or wrong reply.",
        style: .posix,
        flags: [Flag("--seconds", value: "S", help: "How long to run (default 10)."),
                Flag("--seed", value: "N", help: "The random seed (default: from the clock; printed)."),
                Flag("--socket", help: "Also drive a server over a real socket.")])
    var seconds = 10.0
    var seed = UInt64(Date().timeIntervalSince1970 * 1_000_000)
    let useSocket: Bool
    do {
        let parsed = try syntax.parse(Array(CommandLine.arguments.dropFirst()))
        if parsed.helpRequested {
            print(syntax.help, terminator: "")
            return 0
        }
        if let text = parsed.value("--seconds") {
            guard let value = Double(text), value >= 0 else { throw FlagError("--seconds: \"\(text)\" is not a number of seconds") }
            seconds = value
        }
        seed = try parsed.number("--seed") ?? seed
        useSocket = parsed.isSet("--socket")
    } catch {
        FileHandle.standardError.write(Data("ttrpc-fuzz: \(error)\n".utf8))
        return 2
    }
    let end = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
    var iterations = 0
    var socketIterations = 0
    let target = useSocket ? try? SocketTarget() : nil
    if useSocket && target == nil {
        FileHandle.standardError.write(Data("ttrpc-fuzz: cannot start the socket target\n".utf8))
        return 2
    }
    while Clock.monotonicNanoseconds() < end {
        let iterationSeed = seed &+ UInt64(iterations)
        var random = Generator(state: iterationSeed)
        do {
            if let target, iterations % 50 == 0 {
                try target.iteration(&random)
                socketIterations += 1
            } else {
                try codecIteration(&random)
            }
        } catch {
            print("{\"fuzz\":\"ttrpc\",\"result\":\"failure\",\"seed\":\(iterationSeed),\"error\":\"\(error)\"}")
            return 1
        }
        iterations += 1
    }
    print("{\"fuzz\":\"ttrpc\",\"result\":\"ok\",\"seed\":\(seed),\"iterations\":\(iterations),\"socket_iterations\":\(socketIterations),\"seconds\":\(seconds)}")
    return 0
}

let status = main()
fflush(nil)
exit(status)
