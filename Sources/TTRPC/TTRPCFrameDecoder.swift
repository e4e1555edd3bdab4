/// Splits a byte stream into ttrpc frames. Transport-agnostic: feed it whatever `read` returned, in any chunking.
///
/// A header announcing more than `maximumDataLength` bytes yields `.oversized` as soon as the header is complete;
/// the decoder then discards exactly that many bytes and carries on, so the connection stays usable (ttrpc v1.1.1
/// `channel.recv`: discard, answer RESOURCE_EXHAUSTED).
public struct TTRPCFrameDecoder: Sendable {
    public enum Event: Sendable, Equatable {
        case frame(TTRPCFrame)
        case oversized(streamID: UInt32, type: UInt8, length: UInt32)
    }

    public let maximumDataLength: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// Bytes still to drop from an oversized frame.
    private var discarding = 0

    public init(maximumDataLength: Int = TTRPCFrame.maximumDataLength) {
        self.maximumDataLength = maximumDataLength
    }

    /// Bytes held for an incomplete frame (not counting what is being discarded).
    public var bufferedCount: Int { buffer.count - start }

    /// Appends `bytes` and calls `emit` for every frame (or oversize notice) completed by them.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (Event) -> Void) {
        var input = bytes[...]
        if discarding > 0 {
            let dropped = min(discarding, input.count)
            discarding -= dropped
            input = input.dropFirst(dropped)
        }
        if input.isEmpty { return }
        buffer.append(contentsOf: input)
        drain(emit)
    }

    public mutating func feed(_ bytes: [UInt8], _ emit: (Event) -> Void) {
        bytes.withUnsafeBytes { feed($0, emit) }
    }

    /// Convenience for tests: every event produced by `bytes`.
    public mutating func events(from bytes: [UInt8]) -> [Event] {
        var events: [Event] = []
        feed(bytes) { events.append($0) }
        return events
    }

    private mutating func drain(_ emit: (Event) -> Void) {
        while true {
            let available = buffer.count - start
            guard available >= TTRPCFrame.headerLength else { break }
            let length = readUInt32(at: start)
            let streamID = readUInt32(at: start + 4)
            let type = buffer[start + 8]
            let flags = buffer[start + 9]
            if Int(length) > maximumDataLength {
                start += TTRPCFrame.headerLength
                let inBuffer = min(Int(length), buffer.count - start)
                start += inBuffer
                discarding = Int(length) - inBuffer
                emit(.oversized(streamID: streamID, type: type, length: length))
                if discarding > 0 { break }
                continue
            }
            let total = TTRPCFrame.headerLength + Int(length)
            guard available >= total else {
                buffer.reserveCapacity(start + total)
                break
            }
            let dataStart = start + TTRPCFrame.headerLength
            let data = Array(buffer[dataStart..<(dataStart + Int(length))])
            start += total
            emit(.frame(TTRPCFrame(streamID: streamID, type: type, flags: flags, data: data)))
        }
        compact()
    }

    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 16)
            start = 0
        } else if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }

    private func readUInt32(at offset: Int) -> UInt32 {
        UInt32(buffer[offset]) << 24 | UInt32(buffer[offset + 1]) << 16 | UInt32(buffer[offset + 2]) << 8
            | UInt32(buffer[offset + 3])
    }
}
