#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import OCISpec
import TetherSystem

/// `tether-shim start`: containerd's start contract (reference §3.2–3.4). Listens on the shim socket in this
/// short-lived process, writes `<bundle>/address`, forks and execs the long-lived server with the listener as
/// fd 3 (own session, stdio on /dev/null, stderr on the bundle's `log` FIFO when containerd made one), prints
/// the address and returns. Nothing is printed on stderr on success: containerd reads both streams.
public enum ShimStart {
    public static func run(_ flags: ShimFlags) throws(ShimError) -> String {
        guard !flags.id.isEmpty else { throw ShimError(.invalidArgument, "-id is required") }
        let bundle = flags.bundle.isEmpty ? currentDirectory() : flags.bundle
        let path = socketPath(flags, bundle: bundle)
        let address = "unix://" + path
        do {
            try FileIO.makeDirectories(flags.socketDirectory, mode: 0o700)
            _ = chmod(flags.socketDirectory, 0o700)
        } catch {
            throw ShimError.system(error as? SyscallError ?? SyscallError("mkdir", errno: EIO), stage: "start: socket directory")
        }
        // A shim already serving this socket (grouping): reuse it.
        if let fd = try? UnixSocket.connect(path: path) {
            FileIO.close(fd)
            try writeAddress(address, bundle: bundle)
            return address
        }
        let listener: Int32
        do {
            listener = try UnixSocket.listen(path: path, mode: 0o600)
        } catch {
            throw ShimError.system(error as? SyscallError ?? SyscallError("listen", errno: EIO), stage: "start: listen \(path)")
        }
        defer { FileIO.close(listener) }
        try writeAddress(address, bundle: bundle)
        do {
            try spawnServer(flags, bundle: bundle, listener: listener)
        } catch {
            _ = unlink(path)
            throw error
        }
        return address
    }

    /// The socket path: a hash of the daemon address, namespace and grouping id (the sandbox id when the
    /// config carries the CRI annotation, else the container id), as containerd names its shims' sockets.
    static func socketPath(_ flags: ShimFlags, bundle: String) -> String {
        var group = flags.id
        if let bytes = try? FileIO.readFile(bundle + "/config.json"), let spec = try? Spec.decode(bytes),
           let sandbox = spec.annotations?["io.kubernetes.cri.sandbox-id"], !sandbox.isEmpty {
            group = sandbox
        }
        return flags.socketDirectory + "/" + FNV1a.hex("\(flags.address)/\(flags.namespace)/\(group)".utf8)
    }

    static func writeAddress(_ address: String, bundle: String) throws(ShimError) {
        do {
            try FileIO.writeAtomically(bundle + "/address", Array(address.utf8), mode: 0o644, sync: false)
        } catch {
            throw ShimError.system(error as? SyscallError ?? SyscallError("write", errno: EIO), stage: "start: write address")
        }
    }

    /// fork + exec of /proc/self/exe in server mode; the child gets the listener on fd 3.
    static func spawnServer(_ flags: ShimFlags, bundle: String, listener: Int32) throws(ShimError) {
        do {
            try ProcessSupport.requireSingleThreaded(before: "start: fork shim")
        } catch {
            throw ShimError(.system, "\(error)", stage: "start")
        }
        let arguments = ["tether-shim"] + flags.serverArguments
        var cArguments = arguments.map { strdup($0) }
        cArguments.append(nil)
        defer { for pointer in cArguments { free(pointer) } }
        let devnull = Glibc.open("/dev/null", O_RDWR | O_CLOEXEC)
        // containerd opened <bundle>/log (a FIFO) for reading before running us; the shim logs there.
        var logFD = Glibc.open(bundle + "/log", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if logFD < 0 { logFD = devnull }
        let pid = fork()
        if pid < 0 { throw ShimError.system(.current("fork"), stage: "start: spawn shim") }
        if pid == 0 {
            // Child: only async-signal-safe work from here to exec (the parent is single-threaded anyway).
            _ = setsid()
            _ = chdir(bundle)
            _ = dup2(devnull, 0)
            _ = dup2(devnull, 1)
            _ = dup2(logFD, 2)
            _ = tether_set_nonblock(2, 0)
            _ = dup2(listener, 3)
            _ = tether_set_cloexec(3, 0)
            _ = tether_cloexec_from(4)
            execv("/proc/self/exe", &cArguments)
            _exit(127)
        }
        if logFD != devnull { FileIO.close(logFD) }
        FileIO.close(devnull)
    }

    /// The bundle when containerd gives no -bundle: the directory it starts the shim in.
    static func currentDirectory() -> String {
        FileIO.workingDirectory ?? "."
    }
}
