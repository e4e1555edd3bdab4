import Testing
@testable import TTRPC

@Suite("TTRPC frame decoder")
struct TTRPCFrameDecoderTests {
    static let frames = [
        TTRPCFrame(streamID: 1, type: .request, data: Array(0..<40)),
        TTRPCFrame(streamID: 3, type: .response, data: []),
        TTRPCFrame(streamID: 0xFFFF_FFFF, type: 0x7f, flags: 5, data: [9]),
    ]

    @Test func anyChunkingGivesTheSameFrames() {
        let stream = Self.frames.flatMap { $0.encoded() }
        for split in 0...stream.count {
            var decoder = TTRPCFrameDecoder()
            let events = decoder.events(from: Array(stream[..<split])) + decoder.events(from: Array(stream[split...]))
            #expect(events == Self.frames.map { .frame($0) }, "split at \(split)")
            #expect(decoder.bufferedCount == 0)
        }
        var decoder = TTRPCFrameDecoder()
        var events: [TTRPCFrameDecoder.Event] = []
        for byte in stream { events += decoder.events(from: [byte]) }
        #expect(events == Self.frames.map { .frame($0) })
    }

    @Test func oversizedFramesAreReportedThenSkipped() {
        var decoder = TTRPCFrameDecoder(maximumDataLength: 16)
        var big: [UInt8] = []
        TTRPCFrame.appendHeader(to: &big, length: 100, streamID: 5, type: 1, flags: 0)
        big += [UInt8](repeating: 0xEE, count: 100)
        let small = TTRPCFrame(streamID: 7, type: .request, data: [1, 2, 3])
        let stream = big + small.encoded()
        // Header alone: reported at once.
        #expect(decoder.events(from: Array(stream[..<10])) == [.oversized(streamID: 5, type: 1, length: 100)])
        // The body trickles in and is dropped; the next frame comes out intact.
        #expect(decoder.events(from: Array(stream[10..<60])) == [])
        #expect(decoder.events(from: Array(stream[60...])) == [.frame(small)])
        // All in one chunk works the same.
        var again = TTRPCFrameDecoder(maximumDataLength: 16)
        #expect(again.events(from: stream) == [.oversized(streamID: 5, type: 1, length: 100), .frame(small)])
    }

    @Test func exactlyTheMaximumIsAccepted() {
        var decoder = TTRPCFrameDecoder()
        let frame = TTRPCFrame(streamID: 1, type: .request, data: [UInt8](repeating: 1, count: TTRPCFrame.maximumDataLength))
        #expect(decoder.events(from: frame.encoded()) == [.frame(frame)])
    }
}
