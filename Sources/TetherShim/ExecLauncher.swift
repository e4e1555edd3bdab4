import OCISpec
import TTRPC
import TetherRuntime

/// The seam between the shim and the runtime library's exec.
enum ExecLauncher {
    static func launch(runtime: Runtime, id: String, process: OCISpec.Process, io: ProcessIO) throws -> Int32 {
        throw TTRPCStatus(.unimplemented, "exec: the runtime library has no exec yet")
    }
}
