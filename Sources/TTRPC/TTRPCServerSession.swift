import TetherSystem

/// The server side of one connection, without the socket: decoded frames in, encoded frames out.
/// It reproduces ttrpc v1.1.1's `serverConn.run` rules:
/// * a frame over 4 MiB: RESOURCE_EXHAUSTED "message length N exceed maximum message size of 4194304";
/// * a frame that is not a Request: ignored, no reply;
/// * a Request body that does not parse: INVALID_ARGUMENT "unmarshal request error: …";
/// * an even stream id: INVALID_ARGUMENT "StreamID must be odd for client initiated streams";
/// * unknown service / method: UNIMPLEMENTED "service X" / "method Y";
/// * `timeout_nano` > 0: DEADLINE_EXCEEDED "context deadline exceeded" if the handler has not answered by then.
/// Every reply goes out on the request's stream id. No per-request error ends the connection.
///
/// Public so that other transports (a socketpair, a fuzzer, a proxy) can reuse the exact rules.
public final class TTRPCServerSession {
    /// What the session needs from its transport.
    public struct Transport {
        /// Queues one frame for the peer.
        public var send: (_ streamID: UInt32, _ type: TTRPCFrame.MessageType, _ data: [UInt8]) -> Void
        /// Runs `action` once after `nanoseconds`; returns a function that cancels it.
        public var schedule: (_ nanoseconds: UInt64, _ action: @escaping () -> Void) -> (() -> Void)

        public init(
            send: @escaping (_ streamID: UInt32, _ type: TTRPCFrame.MessageType, _ data: [UInt8]) -> Void,
            schedule: @escaping (_ nanoseconds: UInt64, _ action: @escaping () -> Void) -> (() -> Void)
        ) {
            self.send = send
            self.schedule = schedule
        }
    }

    public let dispatcher: TTRPCDispatcher
    public let peer: UnixSocket.PeerCredentials
    private let transport: Transport
    private var pending: [ObjectIdentifier: TTRPCServerCall] = [:]
    private var closed = false

    public init(dispatcher: TTRPCDispatcher, peer: UnixSocket.PeerCredentials, transport: Transport) {
        self.dispatcher = dispatcher
        self.peer = peer
        self.transport = transport
    }

    /// Requests accepted and not yet answered.
    public var activeCalls: Int { pending.count }

    public func receive(_ event: TTRPCFrameDecoder.Event) {
        guard !closed else { return }
        switch event {
        case .oversized(let streamID, _, let length):
            reply(streamID, .oversized(Int(length)))
        case .frame(let frame):
            receive(frame)
        }
    }

    public func receive(_ frame: TTRPCFrame) {
        guard !closed else { return }
        // Anything but a Request is ignored for forward compatibility (ttrpc ≥ 1.2 streaming data, unknown types).
        guard frame.messageType == .request else { return }
        let request: Ttrpc_Request
        do {
            request = try TTRPCMessages.decodeRequest(frame.data)
        } catch {
            reply(frame.streamID, TTRPCStatus(.invalidArgument, "unmarshal request error: \(error)"))
            return
        }
        guard frame.streamID % 2 == 1 else {
            reply(frame.streamID, TTRPCStatus(.invalidArgument, "StreamID must be odd for client initiated streams"))
            return
        }
        let handler: TTRPCDispatcher.MethodHandler
        switch dispatcher.lookup(service: request.service, method: request.method) {
        case .success(let found): handler = found
        case .failure(let status):
            reply(frame.streamID, status)
            return
        }
        var deadline: UInt64?
        if request.timeoutNano != 0 {
            let timeout = UInt64(max(request.timeoutNano, 0))
            deadline = Clock.monotonicNanoseconds() &+ timeout
        }
        let context = TTRPCContext(
            metadata: TTRPCMessages.metadata(of: request), deadline: deadline, peer: peer,
            service: request.service, method: request.method, streamID: frame.streamID)
        let call = TTRPCServerCall(
            streamID: frame.streamID,
            send: { [weak self] streamID, body in self?.send(streamID, body) },
            onFinish: { [weak self] call in self?.pending.removeValue(forKey: ObjectIdentifier(call)) })
        pending[ObjectIdentifier(call)] = call
        if let deadline {
            let now = Clock.monotonicNanoseconds()
            let cancel = transport.schedule(deadline > now ? deadline - now : 0) { [weak call] in call?.expire() }
            call.setDeadlineCancel(cancel)
        }
        handler(Array(request.payload), context, call)
    }

    /// The connection is gone: every pending call is abandoned (its responder becomes a no-op).
    public func close() {
        guard !closed else { return }
        closed = true
        let calls = Array(pending.values)
        pending.removeAll()
        for call in calls { call.abandon() }
    }

    private func reply(_ streamID: UInt32, _ status: TTRPCStatus) {
        send(streamID, TTRPCMessages.encodeResponse(status: status))
    }

    private func send(_ streamID: UInt32, _ body: [UInt8]) {
        guard !closed else { return }
        transport.send(streamID, .response, body)
    }
}
