/// Byte-level helpers for tools that speak ttrpc without the client or server classes (fuzzers, proxies,
/// benchmarks): Request and Response bodies as ttrpc v1.1.1 encodes them.
public enum TTRPCCodec {
    /// A Request body (`service`, `method`, `payload`, `timeout_nano`, metadata sorted by key).
    public static func requestBody(
        service: String, method: String, payload: [UInt8], timeoutNanoseconds: Int64 = 0, metadata: [String: [String]] = [:]
    ) -> [UInt8] {
        TTRPCMessages.encodeRequest(service: service, method: method, payload: payload,
                                    timeoutNanoseconds: timeoutNanoseconds, metadata: metadata)
    }

    /// A whole Request frame.
    public static func requestFrame(
        streamID: UInt32, service: String, method: String, payload: [UInt8], timeoutNanoseconds: Int64 = 0,
        metadata: [String: [String]] = [:]
    ) -> [UInt8] {
        TTRPCFrame(streamID: streamID, type: .request, data: requestBody(
            service: service, method: method, payload: payload, timeoutNanoseconds: timeoutNanoseconds, metadata: metadata)).encoded()
    }

    /// A successful Response body (status left out).
    public static func responseBody(payload: [UInt8]) -> [UInt8] { TTRPCMessages.encodeResponse(payload: payload) }

    /// A failed Response body (payload left out).
    public static func responseBody(status: TTRPCStatus) -> [UInt8] { TTRPCMessages.encodeResponse(status: status) }

    /// The payload of a Response body, or its error status.
    public static func decodeResponse(_ body: [UInt8]) -> Result<[UInt8], TTRPCStatus> { TTRPCMessages.decodeResponse(body) }

    /// The (service, method) of a Request body, or nil if it does not parse.
    public static func requestTarget(_ body: [UInt8]) -> (service: String, method: String)? {
        guard let request = try? TTRPCMessages.decodeRequest(body) else { return nil }
        return (request.service, request.method)
    }
}
