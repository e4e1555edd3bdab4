#if canImport(Glibc)
import Glibc
#endif
import OCISpec
import TetherSystem

/// What a container process gets last (capabilities, seccomp, the exec helper), prepared by the parent before it
/// clones so the child has nothing left to look up: names resolved to numbers, the filter compiled, the listener
/// connected, the read-only helper its last exec goes through opened.
struct ProcessSecurity {
    var capabilities: CapabilitySets?
    var seccomp: SeccompProgram?
    var listener: SeccompListener?
    var execHelper: ExecHelper?
    /// The process's pid in the runtime's pid namespace; the parent sends it (`SyncMessage.childPid`) only when
    /// `listener` needs it.
    var hostPid: Int32 = 0

    init() {}

    /// For `process` in a container whose config has `seccomp`; `state` describes the container for a listener;
    /// `root` is the runtime's (its seccomp cache and exec helper live there).
    init(process: OCISpec.Process, seccomp: Seccomp?, state: State, root: String) throws {
        capabilities = CapabilitySets.resolve(process.capabilities)
        do {
            execHelper = try ExecHelper.open(root: root)
        } catch let error as SyscallError {
            throw RuntimeError.system(error, stage: "open exec helper")
        }
        if let seccomp {
            do {
                self.seccomp = try SeccompCache(root: root).program(for: seccomp)
                listener = try SeccompListener.connect(seccomp, state: state)
            } catch {
                closeParentCopies()
                throw error
            }
        }
    }

    /// The parent's copies of the listener connection and the exec helper (the child has its own after clone).
    func closeParentCopies() {
        if let listener { FileIO.close(listener.connection) }
        execHelper?.close()
    }

    /// Loads the seccomp filter and, for a notifying one, hands the listener fd to the agent.
    func loadSeccomp() throws(InitFailure) {
        guard let seccomp else { return }
        let notifyFD = try seccomp.load()
        if let notifyFD, let listener { try listener.handOver(notifyFD, pid: hostPid) }
    }
}
