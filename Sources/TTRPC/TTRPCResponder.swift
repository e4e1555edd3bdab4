import SwiftProtobuf

/// One in-flight request on the server, type-erased: it answers exactly once, then ignores further answers.
/// Deadline expiry and connection close answer (or abandon) it too; `onCancel` tells the handler.
final class TTRPCServerCall {
    let streamID: UInt32
    private(set) var isFinished = false
    /// Sends the encoded Response body on the stream; nil once the connection is gone.
    private var send: ((UInt32, [UInt8]) -> Void)?
    private var cancelDeadline: (() -> Void)?
    private var onFinish: ((TTRPCServerCall) -> Void)?
    var onCancel: (() -> Void)?

    init(streamID: UInt32, send: @escaping (UInt32, [UInt8]) -> Void, onFinish: @escaping (TTRPCServerCall) -> Void) {
        self.streamID = streamID
        self.send = send
        self.onFinish = onFinish
    }

    func setDeadlineCancel(_ cancel: @escaping () -> Void) {
        if isFinished { cancel() } else { cancelDeadline = cancel }
    }

    func succeed(payload: [UInt8]) {
        let body = TTRPCMessages.encodeResponse(payload: payload)
        // The peer would discard anything larger (ttrpc ≥ 1.2 refuses to send it, as we do).
        guard body.count <= TTRPCFrame.maximumDataLength else {
            fail(.oversized(Int(body.count)))
            return
        }
        finish(body: body)
    }

    func fail(_ status: TTRPCStatus) {
        finish(body: TTRPCMessages.encodeResponse(status: status))
    }

    private func finish(body: [UInt8]) {
        guard !isFinished else { return }
        let send = self.send
        complete()
        send?(streamID, body)
    }

    /// The deadline passed: answer DEADLINE_EXCEEDED and tell the handler.
    func expire() {
        guard !isFinished else { return }
        let cancel = onCancel
        fail(.deadlineExceeded)
        cancel?()
    }

    /// The connection went away: nothing can be answered any more.
    func abandon() {
        guard !isFinished else { return }
        let cancel = onCancel
        complete()
        cancel?()
    }

    /// Every way a call finishes drops `onCancel` too: a handler's closure there often holds the responder, which
    /// holds this call, and a call answered normally would otherwise never be freed (tetherd's Events polls leaked
    /// ~2 kB per event).
    private func complete() {
        isFinished = true
        onCancel = nil
        send = nil
        cancelDeadline?()
        cancelDeadline = nil
        let onFinish = self.onFinish
        self.onFinish = nil
        onFinish?(self)
    }
}

/// The way a handler answers its request: now or later (`Wait` answers when the process exits), exactly once.
/// Answers after the first, after the deadline, or after the connection closed are ignored.
public final class TTRPCResponder<Response: SwiftProtobuf.Message> {
    let call: TTRPCServerCall

    init(call: TTRPCServerCall) {
        self.call = call
    }

    public var streamID: UInt32 { call.streamID }

    /// True once answered, expired or abandoned: a handler holding this responder may drop it.
    public var isFinished: Bool { call.isFinished }

    /// Called once if the call ends without the handler's answer: the deadline passed (the caller got
    /// DEADLINE_EXCEEDED) or the connection closed. Lets a long-running handler drop its state.
    public var onCancel: (() -> Void)? {
        get { call.onCancel }
        set { call.onCancel = newValue }
    }

    public func succeed(_ response: Response) {
        guard !call.isFinished else { return }
        do {
            call.succeed(payload: try response.serializedBytes())
        } catch {
            call.fail(TTRPCStatus(.internal, "ttrpc: error marshalling payload: \(error)"))
        }
    }

    public func fail(_ status: TTRPCStatus) {
        call.fail(status)
    }

    /// Fails with the status `error` maps to (see `TTRPCStatus.init(_:)`).
    public func fail(_ error: any Error) {
        call.fail(TTRPCStatus(error))
    }

    /// Answers with `body()`'s result, or with the status its error maps to.
    public func complete(_ body: () throws -> Response) {
        do { succeed(try body()) } catch { fail(error) }
    }
}
