import Testing
@testable import TTRPC

/// A server call's lifetime: a handler's `onCancel` closure usually holds the responder (and so the call); once
/// the call is answered, it must let go, or every answered call leaks.
@Suite("TTRPC server call lifetime")
struct TTRPCServerCallTests {
    @Test("a call answered normally is freed even when its onCancel holds it, and onCancel does not run")
    func answeredCallIsFreed() {
        weak var weakCall: TTRPCServerCall?
        var cancelled = false
        do {
            let call = TTRPCServerCall(streamID: 1, send: { _, _ in }, onFinish: { _ in })
            call.onCancel = { _ = call; cancelled = true }
            weakCall = call
            call.succeed(payload: [])
        }
        #expect(weakCall == nil)
        #expect(!cancelled)
    }

    @Test("an expired or abandoned call runs onCancel once, then is freed")
    func expiredAndAbandonedCallsRunOnCancelOnce() {
        for end in ["expire", "abandon"] {
            weak var weakCall: TTRPCServerCall?
            var cancels = 0
            do {
                let call = TTRPCServerCall(streamID: 1, send: { _, _ in }, onFinish: { _ in })
                call.onCancel = { _ = call; cancels += 1 }
                weakCall = call
                if end == "expire" { call.expire(); call.expire() } else { call.abandon(); call.abandon() }
            }
            #expect(cancels == 1, "\(end)")
            #expect(weakCall == nil, "\(end)")
        }
    }
}
