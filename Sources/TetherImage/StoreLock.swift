import Glibc
import TetherSystem

/// A `flock(2)` on a file of the store: released by close, and by the kernel when its holder dies, so a killed
/// pull or GC never leaves the store locked.
public final class StoreLock {
    public enum Mode: Sendable {
        case shared, exclusive
        var operation: Int32 { self == .shared ? LOCK_SH : LOCK_EX }
    }

    private var fd: Int32

    /// Waits for the lock.
    public init(path: String, mode: Mode) throws {
        fd = try FileIO.open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o600)
        while flock(fd, mode.operation) != 0 {
            let error = errno
            guard error == EINTR else {
                FileIO.close(fd)
                throw ImageError.system(SyscallError("flock \(path)", errno: error), stage: "lock")
            }
        }
    }

    /// Takes the lock only if no one holds a conflicting one (GC uses this and skips a round instead of waiting).
    public static func attempt(path: String, mode: Mode) throws -> StoreLock? {
        let fd = try FileIO.open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o600)
        if flock(fd, mode.operation | LOCK_NB) == 0 { return StoreLock(holding: fd) }
        let error = errno
        FileIO.close(fd)
        if error == EWOULDBLOCK { return nil }
        throw ImageError.system(SyscallError("flock \(path)", errno: error), stage: "lock")
    }

    private init(holding fd: Int32) {
        self.fd = fd
    }

    public func release() {
        guard fd >= 0 else { return }
        FileIO.close(fd)
        fd = -1
    }

    deinit { release() }
}
