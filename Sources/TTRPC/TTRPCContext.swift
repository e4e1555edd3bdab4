import TetherSystem

/// What a handler knows about the call besides its request.
public struct TTRPCContext: Sendable {
    /// Request metadata (`Request.metadata`); a key may carry several values, in wire order.
    public let metadata: [String: [String]]
    /// When the caller gives up, in `Clock.monotonicNanoseconds()` terms (from `timeout_nano`); nil: no deadline.
    public let deadline: UInt64?
    /// The connected peer (SO_PEERCRED).
    public let peer: UnixSocket.PeerCredentials
    public let service: String
    public let method: String
    public let streamID: UInt32

    public init(
        metadata: [String: [String]] = [:], deadline: UInt64? = nil, peer: UnixSocket.PeerCredentials,
        service: String = "", method: String = "", streamID: UInt32 = 0
    ) {
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
        self.service = service
        self.method = method
        self.streamID = streamID
    }

    /// The first value of `key`, if any.
    public func metadataValue(_ key: String) -> String? { metadata[key]?.first }

    /// containerd's namespace header (`containerd-namespace-ttrpc`), sent by shims on Forward.
    public var containerdNamespace: String? { metadataValue(TTRPCMetadataKey.containerdNamespace) }

    public var isExpired: Bool {
        guard let deadline else { return false }
        return Clock.monotonicNanoseconds() >= deadline
    }
}

public enum TTRPCMetadataKey {
    /// containerd's namespace key on ttrpc (`namespaces/ttrpc.go`).
    public static let containerdNamespace = "containerd-namespace-ttrpc"
}
