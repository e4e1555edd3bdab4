import TetherSystem

/// The shim's error type for its command line and process model (RPC errors are `TTRPCStatus`).
public struct ShimError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidArgument = "invalid argument"
        case system = "system error"
        case notFound = "not found"
    }

    public let code: Code
    public let message: String
    public let stage: String?

    public init(_ code: Code, _ message: String, stage: String? = nil) {
        self.code = code
        self.message = message
        self.stage = stage
    }

    public static func system(_ error: SyscallError, stage: String) -> ShimError {
        ShimError(.system, error.description, stage: stage)
    }

    public var description: String { stage.map { "\($0): \(message)" } ?? message }
}
