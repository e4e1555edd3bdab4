import TetherSystem

/// The runtime's one error type: a code, a message that names the file/field/argument at fault, the stage that
/// failed, and for syscall failures the call and errno.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidArgument = "invalid argument"
        case invalidConfig = "invalid config"
        case notFound = "not found"
        case alreadyExists = "already exists"
        case invalidState = "invalid state"
        case system = "system error"
        case unsupported = "unsupported"
        case hookFailed = "hook failed"
    }

    public let code: Code
    public let message: String
    public let stage: String?
    public let syscall: SyscallError?

    public init(_ code: Code, _ message: String, stage: String? = nil, syscall: SyscallError? = nil) {
        self.code = code
        self.message = message
        self.stage = stage
        self.syscall = syscall
    }

    /// Wraps a syscall failure that happened during `stage`.
    public static func system(_ error: SyscallError, stage: String) -> RuntimeError {
        RuntimeError(.system, error.description, stage: stage, syscall: error)
    }

    public var description: String {
        if let stage { return "\(stage): \(message)" }
        return message
    }
}
