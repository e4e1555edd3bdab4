#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCISpec
import TetherSystem

/// SCMP_ACT_NOTIFY's hand-over (runtime-spec "Seccomp listener"): the agent listening on
/// `linux.seccomp.listenerPath` gets one message, the "container process state" JSON with the notification fd
/// attached (SCM_RIGHTS).
///
/// runc's parent fetches the fd with pidfd_getfd and sends it; here the init waits for `start` after the parent
/// has returned, so the process itself sends it, as crun does: the parent connects (host paths, before clone or
/// the setns into the container's mount namespace), the child inherits the connection, and right after loading
/// the filter sends the state and the fd over it, then closes both. The parent tells the child its pid in the
/// runtime's pid namespace (`SyncMessage.childPid`) for the JSON. The filter may therefore not notify `sendmsg`
/// (nor `write`, as with runc); validation rejects that.
struct SeccompListener {
    /// The connected socket (close-on-exec), inherited by the child.
    let connection: Int32
    let metadata: String
    /// The container's state; the child fills in its pid.
    let state: State

    /// runtime-spec's ContainerProcessState.
    private struct ContainerProcessState: Encodable {
        var ociVersion: String
        var fds: [String]
        var pid: Int32
        var metadata: String
        var state: State
    }

    /// Connects to the listener when the filter notifies, else nil.
    static func connect(_ seccomp: Seccomp?, state: State) throws -> SeccompListener? {
        guard let seccomp, seccomp.usesNotify, let path = seccomp.listenerPath else { return nil }
        do {
            let fd = try UnixSocket.connect(path: path)
            return SeccompListener(connection: fd, metadata: seccomp.listenerMetadata ?? "", state: state)
        } catch let error as SyscallError {
            throw RuntimeError(.system, "linux.seccomp.listenerPath: connect \(path): \(SyscallError.describe(error.errno))",
                               stage: "seccomp listener", syscall: error)
        }
    }

    /// In the child: sends the state for `pid` with `notifyFD`, then closes both descriptors.
    func handOver(_ notifyFD: Int32, pid: Int32) throws(InitFailure) {
        defer {
            FileIO.close(notifyFD)
            FileIO.close(connection)
        }
        var state = state
        state.pid = pid
        let message = ContainerProcessState(ociVersion: state.ociVersion, fds: ["seccompFd"], pid: pid,
                                            metadata: metadata, state: state)
        try step("seccomp listener") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            try UnixSocket.send(connection, Array(try encoder.encode(message)), fds: [notifyFD])
        }
    }
}
