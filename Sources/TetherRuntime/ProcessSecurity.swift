#if canImport(Glibc)
import Glibc
#endif
import OCISpec
import TetherSystem

/// What a container process gets last (capabilities, seccomp), prepared by the parent before it clones so the
/// child has nothing left to look up: names resolved to numbers, the filter compiled, the listener connected.
struct ProcessSecurity {
    var capabilities: CapabilitySets?
    var seccomp: SeccompProgram?
    var listener: SeccompListener?
    /// The process's pid in the runtime's pid namespace; the parent sends it (`SyncMessage.childPid`) only when
    /// `listener` needs it.
    var hostPid: Int32 = 0

    init() {}

    /// For `process` in a container whose config has `seccomp`; `state` describes the container for a listener.
    init(process: OCISpec.Process, seccomp: Seccomp?, state: State, cache: SeccompCache) throws {
        capabilities = CapabilitySets.resolve(process.capabilities)
        if let seccomp {
            self.seccomp = try cache.program(for: seccomp)
            listener = try SeccompListener.connect(seccomp, state: state)
        }
    }

    /// The parent's copy of the listener connection (the child has its own after clone).
    func closeParentCopies() {
        if let listener { FileIO.close(listener.connection) }
    }

    /// Loads the seccomp filter and, for a notifying one, hands the listener fd to the agent.
    func loadSeccomp() throws(InitFailure) {
        guard let seccomp else { return }
        let notifyFD = try seccomp.load()
        if let notifyFD, let listener { try listener.handOver(notifyFD, pid: hostPid) }
    }
}
