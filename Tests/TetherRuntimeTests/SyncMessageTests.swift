import Testing
@testable import TetherRuntime

/// The parent/child sync codec: one datagram per message, a tag byte and a payload; anything malformed reads as
/// nil (the receiver then fails the create with "bad sync message" rather than acting on it).
@Suite("sync messages")
struct SyncMessageTests {
    @Test("every message survives encode and decode", arguments: [
        SyncMessage.configured, .ready, .runHooks, .hooksDone, .childPid(4242), .childPid(-1), .childPid(Int32.max),
        .failure(stage: "pivot_root", errno: 22, message: "pivot_root /rootfs: Invalid argument"),
        .failure(stage: "", errno: 0, message: ""), .failure(stage: "exec", errno: -5, message: "ünïcode and \u{1}"),
    ])
    func roundTrip(message: SyncMessage) {
        #expect(SyncMessage.decode(message.encode()) == message)
    }

    @Test("the wire format: tag bytes 1 to 6, little-endian numbers, stage NUL message")
    func wireFormat() {
        #expect(SyncMessage.configured.encode() == [1])
        #expect(SyncMessage.ready.encode() == [2])
        #expect(SyncMessage.childPid(0x0102_0304).encode() == [3, 4, 3, 2, 1])
        #expect(SyncMessage.failure(stage: "s", errno: 2, message: "m").encode() == [4, 2, 0, 0, 0, 115, 0, 109])
        #expect(SyncMessage.runHooks.encode() == [5])
        #expect(SyncMessage.hooksDone.encode() == [6])
    }

    @Test("malformed datagrams read as nil", arguments: [
        [], [0], [7], [255], [1, 0], [2, 2], [5, 0], [6, 6],
        [3], [3, 1, 2, 3], [3, 1, 2, 3, 4, 5],
        [4], [4, 1, 0, 0, 0], [4, 1, 0, 0, 0, 65], [4, 1, 0, 0],
    ] as [[UInt8]])
    func rejectsMalformed(bytes: [UInt8]) {
        #expect(SyncMessage.decode(bytes) == nil)
    }

    @Test("a failure's message may hold NULs of its own: only the first separates the stage")
    func messageWithNul() {
        let decoded = SyncMessage.decode([4, 0, 0, 0, 0] + Array("stage".utf8) + [0] + Array("a".utf8) + [0] + Array("b".utf8))
        #expect(decoded == .failure(stage: "stage", errno: 0, message: "a\u{0}b"))
    }
}
