import OCISpec
import TetherRuntime

/// The seam between the shim and the runtime library's exec: the process is cloned as a child of the caller (a
/// one-off child of the shim, see Shim+Exec).
enum ExecLauncher {
    static func launch(runtime: Runtime, id: String, process: OCISpec.Process, io: ProcessIO) throws -> Int32 {
        try runtime.exec(id: id, process: process, io: io)
    }
}
