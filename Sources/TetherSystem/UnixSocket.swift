#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux

/// Path-based unix stream sockets (never abstract).
public enum UnixSocket {
    /// Creates, binds and listens on `path` (removing a stale socket first) with the given mode.
    public static func listen(path: String, mode: mode_t = 0o600, backlog: Int32 = 128) throws -> Int32 {
        let fd = try sys("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            _ = unlink(path)
            _ = try withAddress(path) { (address, length) throws in
                try sys("bind \(path)") { bind(fd, address, length) }
            }
            try sys("chmod \(path)") { chmod(path, mode) }
            try sys("listen \(path)") { Glibc.listen(fd, backlog) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return fd
    }

    /// Connects to the socket at `path` (blocking).
    public static func connect(path: String) throws -> Int32 {
        let fd = try sys("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            _ = try withAddress(path) { (address, length) throws in
                try sys("connect \(path)") { Glibc.connect(fd, address, length) }
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return fd
    }

    /// Accepts one connection (close-on-exec, non-blocking), or nil when none is pending.
    public static func accept(_ listener: Int32) throws -> Int32? {
        let fd = tether_accept4(listener, Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue))
        if fd >= 0 { return fd }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED { return nil }
        throw SyscallError.current("accept4")
    }

    public struct PeerCredentials: Sendable, Equatable {
        public let pid: Int32
        public let uid: UInt32
        public let gid: UInt32
    }

    public static func peerCredentials(_ fd: Int32) throws -> PeerCredentials {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
        try sys("getsockopt SO_PEERCRED") { tether_peer_cred(fd, &pid, &uid, &gid) }
        return PeerCredentials(pid: pid, uid: uid, gid: gid)
    }

    private static func withAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) throws -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw SyscallError("socket path too long: \(path)", errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        return try withUnsafePointer(to: &address) { (pointer) throws -> T in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (raw) throws -> T in
                try body(raw, length)
            }
        }
    }

    /// Sends `data` with `fds` attached (SCM_RIGHTS).
    public static func send(_ socket: Int32, _ data: [UInt8], fds: [Int32] = []) throws {
        let n = data.withUnsafeBytes { buffer in
            fds.withUnsafeBufferPointer { fdBuffer in
                tether_send_fds(socket, buffer.baseAddress, buffer.count, fdBuffer.baseAddress, Int32(fds.count))
            }
        }
        if n < 0 { throw SyscallError.current("sendmsg") }
    }

    /// Receives one message of at most `capacity` bytes and the fds attached to it (close-on-exec).
    public static func receive(_ socket: Int32, capacity: Int = 65536) throws -> (data: [UInt8], fds: [Int32]) {
        var data = [UInt8](repeating: 0, count: capacity)
        var fds = [Int32](repeating: -1, count: 16)
        var count: Int32 = 0
        let n = data.withUnsafeMutableBytes { buffer in
            tether_recv_fds(socket, buffer.baseAddress, buffer.count, &fds, 16, &count)
        }
        if n < 0 { throw SyscallError.current("recvmsg") }
        return (Array(data[0..<n]), Array(fds[0..<Int(count)]))
    }
}
