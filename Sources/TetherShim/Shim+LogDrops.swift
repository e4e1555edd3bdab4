import Logging
import TetherAPI

/// A container whose log cannot be written (disk full, EIO) keeps running: the bytes its init wrote that its
/// `file://` log did not take are dropped and counted (`ProcessStdio.droppedBytes`), and the next write tries again,
/// so logging resumes when space returns. The count reaches the manager as an event under
/// `/tasks/log-dropped` (a `tether.daemon.v1.Event` of type `log-dropped` with the total so far) whenever it
/// changed: on the 1 s tick, and before the init's exit is published. tetherd keeps it for `inspect`
/// (`LogDroppedBytes`) and says so once in its events. Only `file://` logs (tetherd's) are reported: containerd's
/// stdio is FIFOs, which it reads itself.
extension Shim {
    /// Reports every container whose dropped log bytes changed since the last report.
    func reportDroppedLogBytes() {
        for container in containers.values { reportDroppedLogBytes(container) }
    }

    func reportDroppedLogBytes(_ container: ContainerTask) {
        let process = container.initProcess
        guard process.stdio.writesLogFiles else { return }
        let dropped = process.stdio.droppedBytes
        guard dropped != process.reportedDroppedBytes else { return }
        if process.reportedDroppedBytes == 0 {
            shimLog.warning("the container's log does not take its output: bytes dropped",
                            metadata: ["id": "\(container.id)", "droppedBytes": "\(dropped)"])
        }
        process.reportedDroppedBytes = dropped
        events.publish(topic: Tether_Daemon_V1_Event.logDroppedTopic, Tether_Daemon_V1_Event.with {
            $0.type = Tether_Daemon_V1_Event.logDroppedType
            $0.id = container.id
            $0.logDroppedBytes = UInt64(dropped)
        })
    }
}
