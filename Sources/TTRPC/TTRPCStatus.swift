#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// gRPC status codes, as ttrpc carries them in `Response.status.code`.
public enum TTRPCStatusCode: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case ok = 0, cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists, permissionDenied,
         resourceExhausted, failedPrecondition, aborted, outOfRange, unimplemented, `internal`, unavailable, dataLoss,
         unauthenticated

    public var description: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }
}

/// The error type of this module: a status code and a message, exactly what travels in a ttrpc Response.
/// Transport failures use it too: a closed connection is `.unavailable` "ttrpc: closed" (ttrpc's ErrClosed),
/// an expired deadline `.deadlineExceeded` "context deadline exceeded".
public struct TTRPCStatus: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: TTRPCStatusCode
    public var message: String

    public init(_ code: TTRPCStatusCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "ttrpc: \(code): \(message)" }

    /// What containerd's client reports when the connection is gone.
    public static let closed = TTRPCStatus(.unavailable, "ttrpc: closed")
    public static let deadlineExceeded = TTRPCStatus(.deadlineExceeded, "context deadline exceeded")

    /// What ttrpc answers for a frame over 4 MiB (and what we refuse to send).
    public static func oversized(_ length: Int) -> TTRPCStatus {
        TTRPCStatus(.resourceExhausted, "message length \(length) exceed maximum message size of \(TTRPCFrame.maximumDataLength)")
    }

    /// Maps any error to a status the way ttrpc's `convertCode` does: statuses pass through, errno values map
    /// to their gRPC meaning (ENOENT→NOT_FOUND, EEXIST→ALREADY_EXISTS, EPERM/EACCES→PERMISSION_DENIED,
    /// EINVAL→INVALID_ARGUMENT, EPIPE→FAILED_PRECONDITION), everything else is UNKNOWN with its description.
    public init(_ error: any Error) {
        if let status = error as? TTRPCStatus {
            self = status
            return
        }
        if let syscall = error as? SyscallError {
            let code: TTRPCStatusCode = switch syscall.errno {
            case ENOENT, ESRCH: .notFound
            case EEXIST: .alreadyExists
            case EPERM, EACCES: .permissionDenied
            case EINVAL: .invalidArgument
            case EPIPE: .failedPrecondition
            case ETIMEDOUT: .deadlineExceeded
            default: .unknown
            }
            self.init(code, syscall.description)
            return
        }
        self.init(.unknown, String(describing: error))
    }

    /// The status a (code, message) pair from the wire means: unknown codes become UNKNOWN.
    init(wireCode: Int32, message: String) {
        self.init(TTRPCStatusCode(rawValue: wireCode) ?? .unknown, message)
    }
}
