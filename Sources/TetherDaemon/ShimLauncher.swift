#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// Starts a container's long-lived `tether-shim` the way `tether-shim start` does (ShimStart), without that
/// short-lived process in between: tetherd binds the shim's socket itself, writes `<bundle>/address` and spawns
/// the server with the listener as fd 3 (own session, stdio on /dev/null, `-bundle` given: its working directory
/// stays tetherd's, so no bundle is kept busy), so a
/// `run` waits for one process start instead of two, and tetherd can write the bundle while the shim starts
/// (connections queue on the listener until the shim accepts them). `tether-shim start` stays the contract
/// containerd uses; the socket name is the one it gives (the shim unlinks it by that name when it exits).
///
/// The shim is tetherd's child: tetherd ignores SIGCHLD (`Daemon.init`), so the kernel reaps shims that exit;
/// their SIGCHLD disposition is reset to the default here, as every other signal's, and their mask emptied.
///
/// Everything a shim creates lives under tetherd's `--state` (`-state`, ShimFlags): its socket in `<state>/s`, the
/// runtime state and seccomp cache in `<state>/runtime/<namespace>`; two tetherds never share a file.
enum ShimLauncher {
    /// A shim as tetherd started it: where it listens and its process (watched through a pidfd, ShimProcessWatch).
    struct Launched {
        let address: String
        let pid: pid_t
    }

    /// Root-only directory of shim sockets (0700) under tetherd's state directory, ShimFlags.socketDirectory.
    static func socketDirectory(state: String) -> String { state + "/s" }

    /// ShimStart.socketPath for a container without a sandbox: a hash of the daemon address, namespace and id (16
    /// hex digits, so that the path fits in sun_path whatever the id).
    static func socketPath(state: String, daemonAddress: String, namespace: String, id: String) -> String {
        socketDirectory(state: state) + "/" + FNV1a.hex("\(daemonAddress)/\(namespace)/\(id)".utf8)
    }

    /// sockaddr_un's sun_path: 108 bytes, its NUL included.
    static let socketPathCapacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    /// Why shim sockets cannot live under `state` (their paths would not fit in sun_path), or nil.
    static func socketPathProblem(state: String) -> String? {
        let length = socketPath(state: state, daemonAddress: "", namespace: "", id: "").utf8.count
        guard length >= socketPathCapacity else { return nil }
        return "--state \(state): too long for shim socket paths (\(length) bytes, at most \(socketPathCapacity - 1))"
    }

    /// Spawns the shim serving container `id` from `bundle` (which must exist); returns its address (`unix://…`)
    /// and pid.
    static func launch(binary: String, state: String, namespace: String, id: String, daemonAddress: String, bundle: String,
                       environment: [String]) throws -> Launched {
        let path = socketPath(state: state, daemonAddress: daemonAddress, namespace: namespace, id: id)
        let address = "unix://" + path
        let listener = try listen(path, directory: socketDirectory(state: state))
        defer { FileIO.close(listener) }
        let pid: pid_t
        do {
            pid = try spawn(binary: binary,
                      arguments: ["tether-shim", "-namespace", namespace, "-id", id, "-address", daemonAddress, "-bundle", bundle,
                                  "-state", state],
                      environment: environment, listener: listener)
        } catch {
            _ = unlink(path)
            throw error
        }
        // After the spawn (the shim starts meanwhile); best effort: tetherd keeps the address in the record, this
        // copy is for a restart that finds the directories of a removal left half-done (`Daemon.sweepRemoved`).
        try? FileIO.writeAtomically(bundle + "/address", Array(address.utf8), mode: 0o644, sync: false)
        return Launched(address: address, pid: pid)
    }

    /// Spawns `tether-shim ... delete` for a container whose shim is gone (what containerd runs after a shim died,
    /// ShimDelete): it kills what is left of the container through its cgroup, deletes the runtime state and
    /// unmounts the bundle's rootfs. Returns its pid; its DeleteResponse on stdout goes to /dev/null (the exit is
    /// read from `<bundle>/exit-status`).
    static func spawnDelete(binary: String, state: String, namespace: String, id: String, daemonAddress: String, bundle: String,
                            environment: [String]) throws -> pid_t {
        try spawn(binary: binary,
                  arguments: ["tether-shim", "-namespace", namespace, "-id", id, "-address", daemonAddress, "-bundle", bundle,
                              "-state", state, "delete"],
                  environment: environment, listener: nil)
    }

    /// Listens on `path`, making the socket directory (0700) first if it is missing.
    static func listen(_ path: String, directory: String) throws -> Int32 {
        do {
            return try UnixSocket.listen(path: path, mode: 0o600)
        } catch let error as SyscallError where error.errno == ENOENT {
            try FileIO.makeDirectories(directory, mode: 0o700)
            _ = chmod(directory, 0o700)
            return try UnixSocket.listen(path: path, mode: 0o600)
        }
    }

    /// This process's environment with `TTRPC_ADDRESS` (where the shim publishes its events) set to tetherd's
    /// socket; made once, for every shim.
    static func environment(daemonAddress: String) -> [String] {
        ProcessEnvironment.current.filter { $0.key != "TTRPC_ADDRESS" }.map { "\($0.key)=\($0.value)" }
            + ["TTRPC_ADDRESS=\(daemonAddress)"]
    }

    private static func spawn(binary: String, arguments: [String], environment: [String], listener: Int32?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        // The listener on fd 3 without close-on-exec (glibc clears it even when the listener is fd 3 already);
        // nothing else of tetherd's is inherited: its descriptors are all close-on-exec (FileIO, UnixSocket).
        if let listener { posix_spawn_file_actions_adddup2(&actions, listener, 3) }
        let attributes = SpawnAttributes(flags: SpawnAttributes.setsid)  // the shim in a session of its own
        let cArguments = arguments.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, binary, &actions, &attributes.raw, cArguments, cEnvironment)
        if result != 0 { throw SyscallError("posix_spawn \(binary)", errno: result) }
        return pid
    }
}
