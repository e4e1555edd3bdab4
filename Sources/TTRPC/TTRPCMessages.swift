#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SwiftProtobuf

/// Encoding and decoding of ttrpc's Request and Response bodies (the generated `Ttrpc_*` messages).
enum TTRPCMessages {
    /// A successful Response: status left out, payload only (an empty payload gives a zero-length body).
    static func encodeResponse(payload: [UInt8]) -> [UInt8] {
        var response = Ttrpc_Response()
        response.payload = Data(payload)
        return (try? response.serializedBytes()) ?? []
    }

    /// A failed Response: status only, payload left out.
    static func encodeResponse(status: TTRPCStatus) -> [UInt8] {
        var response = Ttrpc_Response()
        response.status.code = status.code.rawValue
        response.status.message = status.message
        return (try? response.serializedBytes()) ?? []
    }

    static func encodeRequest(
        service: String, method: String, payload: [UInt8], timeoutNanoseconds: Int64, metadata: [String: [String]]
    ) -> [UInt8] {
        var request = Ttrpc_Request()
        request.service = service
        request.method = method
        request.payload = Data(payload)
        request.timeoutNano = timeoutNanoseconds
        for key in metadata.keys.sorted() {
            for value in metadata[key] ?? [] {
                var pair = Ttrpc_KeyValue()
                pair.key = key
                pair.value = value
                request.metadata.append(pair)
            }
        }
        return (try? request.serializedBytes()) ?? []
    }

    static func decodeRequest(_ body: [UInt8]) throws -> Ttrpc_Request {
        try Ttrpc_Request(serializedBytes: body)
    }

    /// The payload of a Response body, or its error status (a missing status or code 0 means success).
    static func decodeResponse(_ body: [UInt8]) -> Result<[UInt8], TTRPCStatus> {
        let response: Ttrpc_Response
        do {
            response = try Ttrpc_Response(serializedBytes: body)
        } catch {
            return .failure(TTRPCStatus(.internal, "ttrpc: failed to unmarshal response: \(error)"))
        }
        if response.hasStatus && response.status.code != 0 {
            return .failure(TTRPCStatus(wireCode: response.status.code, message: response.status.message))
        }
        return .success(Array(response.payload))
    }

    static func metadata(of request: Ttrpc_Request) -> [String: [String]] {
        var metadata: [String: [String]] = [:]
        for pair in request.metadata { metadata[pair.key, default: []].append(pair.value) }
        return metadata
    }
}
