#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: the call (with its subject, such as a path) and the errno it returned.
public struct SyscallError: Error, Sendable, CustomStringConvertible, Equatable {
    public let call: String
    public let errno: Int32

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// Captures the current errno for `call`.
    public static func current(_ call: String) -> SyscallError {
        SyscallError(call, errno: Glibc.errno)
    }

    public var description: String { "\(call): \(SyscallError.describe(errno))" }

    public static func describe(_ errno: Int32) -> String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        return String(cString: text)
    }
}

/// Runs a syscall that returns -1 and sets errno on failure, retrying on EINTR.
@inline(__always)
@discardableResult
public func sys<T: BinaryInteger>(_ call: @autoclosure () -> String, _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SyscallError(call(), errno: code)
    }
}
