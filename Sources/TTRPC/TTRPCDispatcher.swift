import SwiftProtobuf
import TetherSystem

/// The registered services and methods, shared by every connection of a server.
/// A method handler gets the raw payload and decodes it itself, so the table stays type-erased.
public final class TTRPCDispatcher {
    typealias MethodHandler = (_ payload: [UInt8], _ context: TTRPCContext, _ call: TTRPCServerCall) -> Void

    private var services: [String: [String: MethodHandler]] = [:]

    public init() {}

    /// Registers `handler` for `method`; the handler answers through its responder, now or later, exactly once.
    /// A later registration of the same service and method replaces the earlier one.
    public func register<Request, Response>(
        _ method: TTRPCMethod<Request, Response>, _ handler: @escaping (Request, TTRPCContext, TTRPCResponder<Response>) -> Void
    ) {
        services[method.service, default: [:]][method.method] = { payload, context, call in
            let request: Request
            do {
                request = try Request(serializedBytes: payload)
            } catch {
                call.fail(TTRPCStatus(.internal, "ttrpc: error unmarshalling payload: \(error)"))
                return
            }
            handler(request, context, TTRPCResponder<Response>(call: call))
        }
    }

    /// Registers a handler that answers synchronously: its result is the response, its error the status
    /// (`TTRPCStatus` as is, other errors mapped by `TTRPCStatus.init(_:)`).
    public func register<Request, Response>(
        _ method: TTRPCMethod<Request, Response>, sync handler: @escaping (Request) throws -> Response
    ) {
        register(method) { request, _, responder in
            responder.complete { try handler(request) }
        }
    }

    public var registeredServices: [String: [String]] { services.mapValues { Array($0.keys).sorted() } }

    /// The handler for a request, or the UNIMPLEMENTED status ttrpc gives ("service X" / "method Y").
    func lookup(service: String, method: String) -> Result<MethodHandler, TTRPCStatus> {
        guard let methods = services[service] else { return .failure(TTRPCStatus(.unimplemented, "service \(service)")) }
        guard let handler = methods[method] else { return .failure(TTRPCStatus(.unimplemented, "method \(method)")) }
        return .success(handler)
    }
}
