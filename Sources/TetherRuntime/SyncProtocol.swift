#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// Typed messages on the SEQPACKET socketpair between the runtime (parent) and the container init or the
/// intermediate process (child) during `create` / `exec`. One message per datagram: a tag byte, then the payload.
/// See README.md for the sequence.
enum SyncMessage: Equatable {
    /// parent → child: uid/gid maps are written and the child is in its cgroups; go on with setup.
    case configured
    /// child → parent: the rootfs is ready; the child now sets the process up (user, capabilities, seccomp, the
    /// executable) and closes its end when done, or sends `.failure` (runc's procReady, then the pipe's close).
    case ready
    /// intermediate → parent: the pid (in the caller's pid namespace) of the process it cloned with CLONE_PARENT;
    /// parent → child, before `.configured`: the child's own pid there (for the seccomp listener's state).
    case childPid(Int32)
    /// init → parent: the mounts are done, pivot_root is next: run the prestart and createRuntime hooks now.
    case runHooks
    /// parent → init: those hooks succeeded; go on (with the createContainer hooks).
    case hooksDone
    /// child → parent: setup failed at `stage` with `errno` (0 when not a syscall) and a message.
    case failure(stage: String, errno: Int32, message: String)

    private enum Tag: UInt8 {
        case configured = 1, ready = 2, childPid = 3, failure = 4, runHooks = 5, hooksDone = 6
    }

    func encode() -> [UInt8] {
        switch self {
        case .configured: return [Tag.configured.rawValue]
        case .ready: return [Tag.ready.rawValue]
        case .runHooks: return [Tag.runHooks.rawValue]
        case .hooksDone: return [Tag.hooksDone.rawValue]
        case .childPid(let pid): return [Tag.childPid.rawValue] + SyncMessage.bytes(of: pid)
        case .failure(let stage, let errno, let message):
            return [Tag.failure.rawValue] + SyncMessage.bytes(of: errno) + Array(stage.utf8) + [0] + Array(message.utf8)
        }
    }

    static func decode(_ bytes: [UInt8]) -> SyncMessage? {
        guard let first = bytes.first, let tag = Tag(rawValue: first) else { return nil }
        switch tag {
        case .configured: return bytes.count == 1 ? .configured : nil
        case .ready: return bytes.count == 1 ? .ready : nil
        case .runHooks: return bytes.count == 1 ? .runHooks : nil
        case .hooksDone: return bytes.count == 1 ? .hooksDone : nil
        case .childPid:
            guard bytes.count == 5 else { return nil }
            return .childPid(int32(bytes[1..<5]))
        case .failure:
            guard bytes.count >= 6 else { return nil }
            let errno = int32(bytes[1..<5])
            let rest = bytes[5...]
            guard let zero = rest.firstIndex(of: 0) else { return nil }
            return .failure(stage: String(decoding: rest[..<zero], as: UTF8.self), errno: errno,
                            message: String(decoding: rest[(zero + 1)...], as: UTF8.self))
        }
    }

    private static func bytes(of value: Int32) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    private static func int32(_ slice: ArraySlice<UInt8>) -> Int32 {
        var value: UInt32 = 0
        for (shift, byte) in slice.enumerated() { value |= UInt32(byte) << (8 * UInt32(shift)) }
        return Int32(bitPattern: value)
    }
}

/// One end of the sync socketpair.
struct SyncSocket {
    let fd: Int32

    func send(_ message: SyncMessage) throws {
        let bytes = message.encode()
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n < 0 { throw SyscallError.current("send sync message") }
    }

    /// In the child: waits for `.configured`, taking the `.childPid` the parent may send first. Returns that pid
    /// (0 when none came); exits when the parent is gone.
    func awaitConfigured() throws(InitFailure) -> Int32 {
        var pid: Int32 = 0
        while true {
            guard let message = try step("wait for parent", { try receive() }) else { _exit(1) }
            switch message {
            case .configured: return pid
            case .childPid(let value): pid = value
            default: throw InitFailure("wait for parent", "unexpected sync message")
            }
        }
    }

    /// In the init: asks the parent to run the prestart and createRuntime hooks and waits until they succeeded
    /// (on failure the parent kills the init); exits when the parent is gone.
    func runHooksInParent() throws(InitFailure) {
        try step("createRuntime hooks") { try send(.runHooks) }
        guard let message = try step("createRuntime hooks", { try receive() }) else { _exit(1) }
        if message != .hooksDone { throw InitFailure("createRuntime hooks", "unexpected sync message") }
    }

    /// The next message, or nil when the peer closed its end (it exited).
    func receive() throws -> SyncMessage? {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SyscallError.current("receive sync message")
            }
            if n == 0 { return nil }
            guard let message = SyncMessage.decode(Array(buffer[0..<n])) else {
                throw SyscallError("receive sync message: malformed message", errno: EPROTO)
            }
            return message
        }
    }
}
