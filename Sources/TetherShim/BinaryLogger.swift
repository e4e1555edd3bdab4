#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import TetherSystem

/// containerd's `binary://` loggers (pkg/process/io.go): the shim runs the binary with the container's stdout
/// and stderr pipes as fds 3 and 4 and a ready pipe as fd 5, environment CONTAINER_ID and CONTAINER_NAMESPACE
/// only, and arguments from the URI query (`key value` per pair); it waits (10 s at most) until the logger
/// closes or writes to fd 5. The container writes straight into the pipes: the shim copies nothing.
enum BinaryLogger {
    struct Command: Equatable {
        var path: String
        var arguments: [String]
    }

    static func parse(_ uri: String) throws -> Command {
        guard uri.hasPrefix("binary://") else { throw SyscallError("log uri \(uri): not a binary:// uri", errno: EINVAL) }
        let rest = uri.dropFirst("binary://".count)
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = percentDecoded(String(parts[0]))
        guard path.hasPrefix("/") else { throw SyscallError("log uri \(uri): path must be absolute", errno: EINVAL) }
        var arguments: [String] = []
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                arguments.append(percentDecoded(String(kv[0])))
                if kv.count == 2, !kv[1].isEmpty { arguments.append(percentDecoded(String(kv[1]))) }
            }
        }
        return Command(path: path, arguments: arguments)
    }

    static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
               let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Starts the logger; returns the write ends of its stdout and stderr pipes (for the container) and its pid.
    static func start(_ command: Command, containerID: String, namespace: String) throws -> (stdout: Int32, stderr: Int32, pid: Int32) {
        try ProcessSupport.requireSingleThreaded(before: "binary logger: fork")
        let out = try FileIO.pipe()
        let err = try FileIO.pipe()
        let ready = try FileIO.pipe()
        let arguments = [command.path] + command.arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        cArguments.append(nil)
        let environment: [String] = ["CONTAINER_ID=\(containerID)", "CONTAINER_NAMESPACE=\(namespace)"]
        var cEnvironment: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) }
        cEnvironment.append(nil)
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        let devnull = Glibc.open("/dev/null", O_RDWR | O_CLOEXEC)
        let pid = fork()
        if pid == 0 {
            // The shim blocks SIGCHLD and friends for its signalfd: the logger starts with an empty mask.
            SignalFD.resetForChild()
            // Move the three ends above 5 first so that the dup2s below never clobber one another.
            let a = fcntl(out.read, F_DUPFD_CLOEXEC, 10)
            let b = fcntl(err.read, F_DUPFD_CLOEXEC, 10)
            let c = fcntl(ready.write, F_DUPFD_CLOEXEC, 10)
            _ = dup2(devnull, 0)
            _ = dup2(devnull, 1)
            _ = dup2(devnull, 2)
            _ = dup2(a, 3)
            _ = dup2(b, 4)
            _ = dup2(c, 5)
            _ = tether_cloexec_from(6)
            _ = setsid()
            execve(command.path, &cArguments, &cEnvironment)
            _exit(127)
        }
        if devnull >= 0 { FileIO.close(devnull) }
        FileIO.close(out.read)
        FileIO.close(err.read)
        FileIO.close(ready.write)
        defer { FileIO.close(ready.read) }
        if pid < 0 {
            FileIO.close(out.write)
            FileIO.close(err.write)
            throw SyscallError.current("fork binary logger")
        }
        // Ready: the logger writes to or closes fd 5 (an exec failure closes it too: the logger is then gone).
        var poller = pollfd(fd: ready.read, events: Int16(POLLIN), revents: 0)
        if poll(&poller, 1, 10_000) <= 0 {
            _ = kill(pid, SIGKILL)
            FileIO.close(out.write)
            FileIO.close(err.write)
            throw SyscallError("binary logger \(command.path): not ready after 10 s", errno: ETIMEDOUT)
        }
        return (out.write, err.write, pid)
    }
}
