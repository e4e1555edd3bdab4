import SwiftProtobuf
import TTRPC
import TetherAPI

/// A process the shim supervises: the container's init (exec id "") or an exec'd process.
final class ManagedProcess {
    let execID: String
    var pid: Int32 = 0
    var status: TaskStatus = .created
    var exitStatus: UInt32 = 0
    var exitedAt: Google_Protobuf_Timestamp?
    let stdio: ProcessStdio
    /// The dropped log bytes last reported to the manager (Shim+LogDrops).
    var reportedDroppedBytes = 0
    /// Wait calls held until the process exits.
    var waiters: [TTRPCResponder<Containerd_Task_V2_WaitResponse>] = []

    init(execID: String, stdio: ProcessStdio) {
        self.execID = execID
        self.stdio = stdio
    }

    var isInit: Bool { execID.isEmpty }
    var hasExited: Bool { status == .stopped }

    var waitResponse: Containerd_Task_V2_WaitResponse {
        var response = Containerd_Task_V2_WaitResponse()
        response.exitStatus = exitStatus
        if let exitedAt { response.exitedAt = exitedAt }
        return response
    }

    /// Records the exit and answers every waiter.
    func markExited(status code: UInt32, at time: Google_Protobuf_Timestamp) {
        status = .stopped
        exitStatus = code
        exitedAt = time
        let response = waitResponse
        for waiter in waiters { waiter.succeed(response) }
        waiters.removeAll()
    }
}

/// One container in this shim: its init, its execs, and where it lives.
final class ContainerTask {
    let id: String
    let bundle: String
    let rootfsMounted: Bool
    let initProcess: ManagedProcess
    var execs: [String: ManagedProcess] = [:]
    /// The init has exited but its exit is held until every exec's exit has been published.
    var initExitPending = false
    /// The init is PID 1 of a pid namespace of its own, so the kernel kills the container's other processes when
    /// it exits; otherwise (host pid namespace, or one joined by path) the shim kills them, as containerd's runc
    /// shim does only then (runc.ShouldKillAllOnExit).
    let ownsPidNamespace: Bool

    init(id: String, bundle: String, rootfsMounted: Bool, initProcess: ManagedProcess, ownsPidNamespace: Bool) {
        self.id = id
        self.bundle = bundle
        self.rootfsMounted = rootfsMounted
        self.initProcess = initProcess
        self.ownsPidNamespace = ownsPidNamespace
    }

    func process(_ execID: String) -> ManagedProcess? {
        execID.isEmpty ? initProcess : execs[execID]
    }

    var allProcesses: [ManagedProcess] { [initProcess] + Array(execs.values) }
}
