#if canImport(Glibc)
import Glibc
#endif
import SwiftProtobuf
import Synchronization
import TetherSystem

/// A blocking ttrpc client over a unix socket, for the harness, tests and CLIs.
///
/// Calls are serialized (one in flight per client; use several clients for concurrency). Stream ids are odd,
/// from 1 up by 2, as containerd's client does. Replies are matched by stream id: a late reply to a call that
/// already timed out is read and dropped. Error statuses are thrown as `TTRPCStatus`; a closed connection is
/// `TTRPCStatus.closed`, an expired timeout `TTRPCStatus.deadlineExceeded` (the connection stays usable).
public final class TTRPCClient: @unchecked Sendable {
    private struct State {
        var fd: Int32
        var spinNanoseconds: UInt64 = TTRPCClient.defaultSpinNanoseconds
        var nextStreamID: UInt32 = 1
        var decoder = TTRPCFrameDecoder()
        /// Decoded and not yet consumed, in arrival order.
        var backlog: [TTRPCFrameDecoder.Event] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var closed = false
    }

    private let state: Mutex<State>
    public let path: String

    static let defaultSpinNanoseconds: UInt64 = 50_000

    /// How long a call polls the socket without sleeping before it blocks for the reply (default 50 µs).
    /// A reply that comes within the spin skips a scheduler wake-up, which on a VM costs tens of µs; the
    /// calling thread is waiting anyway. Zero blocks at once.
    public var spin: Duration {
        get { .nanoseconds(Int64(state.withLock { $0.spinNanoseconds })) }
        set { state.withLock { $0.spinNanoseconds = UInt64(max(Self.nanoseconds(newValue), 0)) } }
    }

    /// Connects to the socket at `path`; a containerd address (`unix:///run/containerd/s/…`) works too.
    public init(path: String) throws {
        let path = TTRPCClient.socketPath(fromAddress: path)
        self.path = path
        let fd: Int32
        do {
            fd = try UnixSocket.connect(path: path)
        } catch let error as SyscallError {
            throw TTRPCStatus(.unavailable, "ttrpc: connect \(path): \(SyscallError.describe(error.errno))")
        }
        state = Mutex(State(fd: fd))
    }

    /// Adopts an already-connected socket (e.g. one end of a socketpair); the client closes it.
    public init(connected fd: Int32) {
        path = ""
        state = Mutex(State(fd: fd))
    }

    deinit { close() }

    public func close() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            FileIO.close(state.fd)
        }
    }

    /// Calls `method` with `request` and waits for its response.
    @discardableResult
    public func call<Request, Response>(
        _ method: TTRPCMethod<Request, Response>, _ request: Request, timeout: Duration? = nil,
        metadata: [String: [String]] = [:]
    ) throws -> Response {
        let payload: [UInt8]
        do {
            payload = try request.serializedBytes()
        } catch {
            throw TTRPCStatus(.internal, "ttrpc: error marshalling request: \(error)")
        }
        let reply = try callRaw(method.service, method.method, payload: payload, timeout: timeout, metadata: metadata)
        do {
            return try Response(serializedBytes: reply)
        } catch {
            throw TTRPCStatus(.internal, "ttrpc: error unmarshalling response: \(error)")
        }
    }

    /// The same call with the payload bytes as they are.
    func callRaw(
        _ service: String, _ method: String, payload: [UInt8], timeout: Duration? = nil,
        metadata: [String: [String]] = [:]
    ) throws -> [UInt8] {
        let timeoutNanoseconds = timeout.map(TTRPCClient.nanoseconds) ?? 0
        let deadline = timeout.map { _ in Clock.monotonicNanoseconds() &+ UInt64(max(timeoutNanoseconds, 0)) }
        let body = TTRPCMessages.encodeRequest(
            service: service, method: method, payload: payload, timeoutNanoseconds: timeoutNanoseconds, metadata: metadata)
        guard body.count <= TTRPCFrame.maximumDataLength else { throw TTRPCStatus.oversized(body.count) }
        return try state.withLock { state -> [UInt8] in
            guard !state.closed else { throw TTRPCStatus.closed }
            let streamID = state.nextStreamID
            state.nextStreamID &+= 2
            var frame: [UInt8] = []
            TTRPCFrame.append(to: &frame, streamID: streamID, type: .request, data: body)
            try Self.writeAll(state.fd, frame)
            return try Self.awaitResponse(&state, streamID: streamID, deadline: deadline).get()
        }
    }

    /// Writes raw bytes to the socket (tests: malformed frames, odd types).
    public func sendRaw(_ bytes: [UInt8]) throws {
        try state.withLock { state in
            guard !state.closed else { throw TTRPCStatus.closed }
            try Self.writeAll(state.fd, bytes)
        }
    }

    /// Reads the next frame of any stream (tests), waiting at most `timeout`; nil if none came in time.
    public func receiveFrame(timeout: Duration) throws -> TTRPCFrameDecoder.Event? {
        try state.withLock { state in
            let deadline = Clock.monotonicNanoseconds() &+ UInt64(max(Self.nanoseconds(timeout), 0))
            while state.backlog.isEmpty {
                guard try Self.readSome(&state, deadline: deadline) else { return nil }
            }
            return state.backlog.removeFirst()
        }
    }

    /// The filesystem path of a shim address as containerd prints it (`unix:///path` → `/path`); other strings
    /// are taken as paths. (containerd would dial a bare string as an abstract socket; Tether never uses those.)
    public static func socketPath(fromAddress address: String) -> String {
        address.hasPrefix("unix://") ? String(address.dropFirst("unix://".count)) : address
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return product &+ attoseconds / 1_000_000_000
    }

    private static func awaitResponse(
        _ state: inout State, streamID: UInt32, deadline: UInt64?
    ) throws -> Result<[UInt8], TTRPCStatus> {
        while true {
            while !state.backlog.isEmpty {
                switch state.backlog.removeFirst() {
                case .frame(let frame) where frame.streamID == streamID && frame.messageType == .response:
                    return TTRPCMessages.decodeResponse(frame.data)
                case .oversized(let id, _, let length) where id == streamID:
                    return .failure(.oversized(Int(length)))
                default:
                    continue  // a late reply to an abandoned call, or a stream we never opened
                }
            }
            guard try readSome(&state, deadline: deadline) else { return .failure(.deadlineExceeded) }
        }
    }

    /// Reads once (waiting until `deadline`) and queues what the decoder makes of it; false when the deadline
    /// passed first.
    private static func readSome(_ state: inout State, deadline: UInt64?) throws -> Bool {
        if state.spinNanoseconds > 0, try spinRead(&state, until: min(Clock.monotonicNanoseconds() &+ state.spinNanoseconds,
                                                                      deadline ?? UInt64.max)) {
            return true
        }
        if let deadline {
            var poller = pollfd(fd: state.fd, events: Int16(POLLIN), revents: 0)
            while true {
                let now = Clock.monotonicNanoseconds()
                if now >= deadline { return false }
                let milliseconds = Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
                let n = poll(&poller, 1, milliseconds)
                if n > 0 { break }
                if n < 0 && errno != EINTR { throw TTRPCStatus(.unavailable, "ttrpc: poll: \(SyscallError.describe(errno))") }
            }
        }
        while true {
            let fd = state.fd
            let n = state.chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                queue(&state, n)
                return true
            }
            if n == 0 { throw TTRPCStatus.closed }
            if errno == EINTR { continue }
            if errno == ECONNRESET || errno == EPIPE { throw TTRPCStatus.closed }
            throw TTRPCStatus(.unavailable, "ttrpc: read: \(SyscallError.describe(errno))")
        }
    }

    /// Polls the socket without sleeping until `end`; true once something was read and queued.
    private static func spinRead(_ state: inout State, until end: UInt64) throws -> Bool {
        let fd = state.fd
        repeat {
            let n = state.chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 {
                queue(&state, n)
                return true
            }
            if n == 0 { throw TTRPCStatus.closed }
            if errno == ECONNRESET || errno == EPIPE { throw TTRPCStatus.closed }
            if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                throw TTRPCStatus(.unavailable, "ttrpc: read: \(SyscallError.describe(errno))")
            }
            // Give the CPU to the server if it shares ours (many clients, few CPUs).
            sched_yield()
        } while Clock.monotonicNanoseconds() < end
        return false
    }

    private static func queue(_ state: inout State, _ count: Int) {
        var events: [TTRPCFrameDecoder.Event] = []
        state.chunk.withUnsafeBytes { buffer in
            state.decoder.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { events.append($0) }
        }
        state.backlog.append(contentsOf: events)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { buffer in
                Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            }
            if n >= 0 {
                offset += n
            } else if errno == EINTR {
                continue
            } else if errno == EPIPE || errno == ECONNRESET {
                throw TTRPCStatus.closed
            } else {
                throw TTRPCStatus(.unavailable, "ttrpc: write: \(SyscallError.describe(errno))")
            }
        }
    }
}
