import SwiftProtobuf

/// One RPC of a ttrpc service: its fully qualified service name, its method name and the protobuf types it
/// takes and returns. Servers register handlers and clients call by descriptor, so a request, a response and
/// the name they travel under cannot disagree. The descriptors of Tether's services are generated from their
/// `.proto` service blocks (`make proto`); a descriptor built by hand names a method no peer may know (tests).
public struct TTRPCMethod<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>: Sendable, Hashable {
    /// Fully qualified, e.g. "containerd.task.v2.Task" (`Request.service` on the wire).
    public let service: String
    /// As declared in the proto, e.g. "Create" (`Request.method` on the wire).
    public let method: String

    public init(service: String, method: String) {
        self.service = service
        self.method = method
    }

    /// The name gRPC and Go's ttrpc use for the method: `/<package>.<Service>/<Method>`.
    public var path: String { "/\(service)/\(method)" }
}
