import TetherSystem

/// A failure inside the child (init or intermediate), reported to the parent as {stage, errno, message}.
struct InitFailure: Error {
    let stage: String
    let errno: Int32
    let message: String

    init(_ stage: String, errno: Int32 = 0, _ message: String) {
        self.stage = stage
        self.errno = errno
        self.message = message
    }
}

/// Runs one setup step, turning any error into an `InitFailure` that names `stage`.
@discardableResult
func step<T>(_ stage: String, _ body: () throws -> T) throws(InitFailure) -> T {
    do {
        return try body()
    } catch let failure as InitFailure {
        throw failure
    } catch let error as SyscallError {
        throw InitFailure(stage, errno: error.errno, error.description)
    } catch {
        throw InitFailure(stage, "\(error)")
    }
}

/// Throws the current errno as a SyscallError unless `result` is 0 (or positive).
@inline(__always)
func check(_ result: Int32, _ call: @autoclosure () -> String) throws {
    if result < 0 { throw SyscallError.current(call()) }
}
