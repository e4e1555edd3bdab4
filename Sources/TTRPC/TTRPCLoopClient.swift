import SwiftProtobuf
import TetherSystem

/// A non-blocking ttrpc client on an `EventLoop`: many calls in flight, replies in any order, completions
/// run on the loop. For the shim publishing events to `$TTRPC_ADDRESS` and for a single-threaded daemon.
///
/// When the connection closes, every pending call completes with `TTRPCStatus.closed` and `onClose` runs once.
/// A call past its `timeout` completes with `TTRPCStatus.deadlineExceeded`; its late reply is dropped.
public final class TTRPCLoopClient {
    public let loop: EventLoop
    public let path: String
    private let socket: TTRPCSocketConnection
    private var nextStreamID: UInt32 = 1
    private var pending: [UInt32: PendingCall] = [:]

    private struct PendingCall {
        let complete: (Result<[UInt8], TTRPCStatus>) -> Void
        let timer: EventLoop.TimerID?
    }

    public var onClose: (() -> Void)?

    /// Connects to `path` (unix sockets connect at once; a `unix://` address works too) and starts reading on `loop`.
    /// `readBuffer`: scratch for reads, shared by the clients of one loop thread (default: a 64 KiB one of its own).
    public init(loop: EventLoop, path: String, readBuffer: TTRPCReadBuffer = TTRPCReadBuffer()) throws {
        let path = TTRPCClient.socketPath(fromAddress: path)
        self.loop = loop
        self.path = path
        let fd: Int32
        do {
            fd = try UnixSocket.connect(path: path)
        } catch let error as SyscallError {
            throw TTRPCStatus(.unavailable, "ttrpc: connect \(path): \(SyscallError.describe(error.errno))")
        }
        do {
            socket = try TTRPCSocketConnection(loop: loop, fd: fd, readBuffer: readBuffer)
        } catch {
            FileIO.close(fd)
            throw TTRPCStatus(.unavailable, "ttrpc: \(error)")
        }
        socket.onEvent = { [weak self] event in self?.receive(event) }
        socket.onClose = { [weak self] in self?.closed() }
    }

    /// Adopts an already-connected socket (e.g. one end of a socketpair).
    public init(loop: EventLoop, connected fd: Int32) throws {
        self.loop = loop
        self.path = ""
        socket = try TTRPCSocketConnection(loop: loop, fd: fd)
        socket.onEvent = { [weak self] event in self?.receive(event) }
        socket.onClose = { [weak self] in self?.closed() }
    }

    deinit {
        if !socket.isClosed {
            socket.onClose = {}
            socket.close()
        }
    }

    public var isClosed: Bool { socket.isClosed }
    /// Calls sent and not yet completed.
    public var pendingCalls: Int { pending.count }

    /// One call in flight, for `cancel`.
    public struct CallID: Hashable, Sendable {
        fileprivate let streamID: UInt32
    }

    /// Calls `method` with `request`; `completion` runs on the loop with the response or the error.
    @discardableResult
    public func call<Request, Response>(
        _ method: TTRPCMethod<Request, Response>, _ request: Request, timeout: Duration? = nil,
        metadata: [String: [String]] = [:], completion: @escaping (Result<Response, Error>) -> Void
    ) -> CallID? {
        let payload: [UInt8]
        do {
            payload = try request.serializedBytes()
        } catch {
            completion(.failure(TTRPCStatus(.internal, "ttrpc: error marshalling request: \(error)")))
            return nil
        }
        return callRaw(method.service, method.method, payload: payload, timeout: timeout, metadata: metadata) { result in
            switch result {
            case .success(let bytes):
                do {
                    completion(.success(try Response(serializedBytes: bytes)))
                } catch {
                    completion(.failure(TTRPCStatus(.internal, "ttrpc: error unmarshalling response: \(error)")))
                }
            case .failure(let status):
                completion(.failure(status))
            }
        }
    }

    /// The same call with raw payload bytes. The completion always runs on the loop, never inside this call.
    /// Returns the call's id for `cancel` (nil: it failed at once).
    @discardableResult
    func callRaw(
        _ service: String, _ method: String, payload: [UInt8], timeout: Duration? = nil,
        metadata: [String: [String]] = [:], completion: @escaping (Result<[UInt8], TTRPCStatus>) -> Void
    ) -> CallID? {
        guard !socket.isClosed else {
            loop.schedule(after: 0) { completion(.failure(.closed)) }
            return nil
        }
        let timeoutNanoseconds = timeout.map(TTRPCClient.nanoseconds) ?? 0
        let body = TTRPCMessages.encodeRequest(
            service: service, method: method, payload: payload, timeoutNanoseconds: timeoutNanoseconds, metadata: metadata)
        guard body.count <= TTRPCFrame.maximumDataLength else {
            loop.schedule(after: 0) { completion(.failure(.oversized(body.count))) }
            return nil
        }
        let streamID = nextStreamID
        nextStreamID &+= 2
        var timer: EventLoop.TimerID?
        if timeout != nil {
            let milliseconds = (UInt64(max(timeoutNanoseconds, 0)) + 999_999) / 1_000_000
            timer = loop.schedule(after: milliseconds) { [weak self] in self?.finish(streamID, .failure(.deadlineExceeded)) }
        }
        pending[streamID] = PendingCall(complete: completion, timer: timer)
        socket.send(streamID: streamID, type: .request, data: body)
        return CallID(streamID: streamID)
    }

    /// Forgets a call in flight: its completion never runs and its late reply is dropped; the connection and the
    /// other calls on it go on (a long Wait given up without closing the connection it shares).
    public func cancel(_ call: CallID) {
        guard let pendingCall = pending.removeValue(forKey: call.streamID) else { return }
        if let timer = pendingCall.timer { loop.cancel(timer) }
    }

    /// Closes the connection; pending calls complete with `TTRPCStatus.closed`, then `onClose` runs.
    public func close() {
        socket.close()
    }

    private func receive(_ event: TTRPCFrameDecoder.Event) {
        switch event {
        case .frame(let frame):
            guard frame.messageType == .response else { return }
            finish(frame.streamID, TTRPCMessages.decodeResponse(frame.data))
        case .oversized(let streamID, _, let length):
            finish(streamID, .failure(.oversized(Int(length))))
        }
    }

    private func finish(_ streamID: UInt32, _ result: Result<[UInt8], TTRPCStatus>) {
        guard let call = pending.removeValue(forKey: streamID) else { return }
        if let timer = call.timer { loop.cancel(timer) }
        call.complete(result)
    }

    private func closed() {
        let calls = pending
        pending.removeAll()
        for streamID in calls.keys.sorted() {
            guard let call = calls[streamID] else { continue }
            if let timer = call.timer { loop.cancel(timer) }
            call.complete(.failure(.closed))
        }
        let onClose = self.onClose
        self.onClose = nil
        onClose?()
    }
}
