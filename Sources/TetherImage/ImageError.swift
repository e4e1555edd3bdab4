import TetherSystem

/// The image module's one error type: what failed (code), why (message, naming the reference, digest, file or
/// entry), and at which stage (`pull`, `unpack`, `gc`, ...).
public struct ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidReference = "invalid reference"
        case notFound = "not found"
        case digestMismatch = "digest mismatch"
        case sizeMismatch = "size mismatch"
        case unsupported = "unsupported"
        case unsafeLayer = "unsafe layer"
        case inUse = "in use"
        case corrupt = "corrupt store"
        case registry = "registry error"
        case unauthorized = "unauthorized"
        case system = "system error"
    }

    public let code: Code
    public let message: String
    public let stage: String?

    public init(_ code: Code, _ message: String, stage: String? = nil) {
        self.code = code
        self.message = message
        self.stage = stage
    }

    public static func system(_ error: SyscallError, stage: String) -> ImageError {
        ImageError(.system, error.description, stage: stage)
    }

    public var description: String { stage.map { "\($0): \(message)" } ?? message }
}
