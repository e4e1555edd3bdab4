/// One ttrpc frame: a 10-byte big-endian header (data length, stream id, message type, flags) and the data.
public struct TTRPCFrame: Sendable, Equatable {
    public enum MessageType: UInt8, Sendable {
        case request = 1
        case response = 2
        /// Streaming data (ttrpc ≥ 1.2); containerd 1.6 never sends it and this server ignores it.
        case data = 3
    }

    public static let headerLength = 10
    /// The largest data length either side accepts (ttrpc's `messageLengthMax`, 4 MiB).
    public static let maximumDataLength = 4 << 20

    public var streamID: UInt32
    /// The raw type byte: unknown types are kept so that the server can ignore them.
    public var type: UInt8
    public var flags: UInt8
    public var data: [UInt8]

    public init(streamID: UInt32, type: UInt8, flags: UInt8 = 0, data: [UInt8]) {
        self.streamID = streamID
        self.type = type
        self.flags = flags
        self.data = data
    }

    public init(streamID: UInt32, type: MessageType, flags: UInt8 = 0, data: [UInt8]) {
        self.init(streamID: streamID, type: type.rawValue, flags: flags, data: data)
    }

    public var messageType: MessageType? { MessageType(rawValue: type) }

    /// Header plus data, ready for the socket.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headerLength + data.count)
        Self.appendHeader(to: &bytes, length: UInt32(data.count), streamID: streamID, type: type, flags: flags)
        bytes.append(contentsOf: data)
        return bytes
    }

    /// Appends a whole frame to `buffer` without building an intermediate value.
    public static func append(to buffer: inout [UInt8], streamID: UInt32, type: MessageType, flags: UInt8 = 0, data: [UInt8]) {
        appendHeader(to: &buffer, length: UInt32(data.count), streamID: streamID, type: type.rawValue, flags: flags)
        buffer.append(contentsOf: data)
    }

    static func appendHeader(to bytes: inout [UInt8], length: UInt32, streamID: UInt32, type: UInt8, flags: UInt8) {
        bytes.append(UInt8(truncatingIfNeeded: length >> 24))
        bytes.append(UInt8(truncatingIfNeeded: length >> 16))
        bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        bytes.append(UInt8(truncatingIfNeeded: length))
        bytes.append(UInt8(truncatingIfNeeded: streamID >> 24))
        bytes.append(UInt8(truncatingIfNeeded: streamID >> 16))
        bytes.append(UInt8(truncatingIfNeeded: streamID >> 8))
        bytes.append(UInt8(truncatingIfNeeded: streamID))
        bytes.append(type)
        bytes.append(flags)
    }
}
