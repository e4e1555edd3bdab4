#if canImport(Glibc)
import Glibc
#endif
import Logging
import SwiftProtobuf
import TTRPC
import TetherAPI
import TetherRuntime
import TetherSystem

/// `tether-shim delete`: containerd runs it after every teardown and after a shim died (reference §3.6–3.7).
/// It must be fast, idempotent and succeed when nothing is left: kill the init if it is still there, delete
/// the runtime state, unmount the bundle's rootfs, remove the dead shim's socket, and print a binary DeleteResponse
/// on stdout. tetherd runs it too when a shim of its died (Daemon+ShimLoss).
public enum ShimDelete {
    public static func run(_ flags: ShimFlags) -> [UInt8] {
        let bundle = flags.bundle.isEmpty ? ShimStart.currentDirectory() : flags.bundle
        let runtime = Runtime(root: flags.runtimeRoot)
        var pid: Int32 = 0
        if let text = try? FileIO.readText(bundle + "/init.pid"),
           let value = Int32(text.split(whereSeparator: \.isWhitespace).first ?? "") {
            pid = value
        }
        if !flags.id.isEmpty {
            try? runtime.kill(id: flags.id, signal: SIGKILL, all: true)
            do {
                try runtime.delete(id: flags.id, force: true)
            } catch let error as RuntimeError where error.code == .notFound {
                // Nothing left: the task was deleted before.
            } catch {
                shimLog.warning("delete of the container's runtime state failed", metadata: ["id": "\(flags.id)", "error": "\(error)"])
            }
        }
        _ = umount2(bundle + "/rootfs", Int32(MNT_DETACH))
        removeDeadSocket(bundle: bundle)
        // containerd reports whatever `delete` writes on stderr as a cleanup warning: success is said at debug only.
        shimLog.debug("cleaned up after the task", metadata: ["id": "\(flags.id)", "pid": "\(pid)"])
        var response = Containerd_Task_V2_DeleteResponse()
        response.pid = UInt32(max(pid, 0))
        if let record = ExitRecord.read(bundle: bundle) {
            response.exitStatus = record.status
            response.exitedAt = Google_Protobuf_Timestamp(seconds: record.exitedAtSeconds, nanos: record.exitedAtNanos)
        } else {
            response.exitStatus = 128 + UInt32(SIGKILL)
            response.exitedAt = .now()
        }
        return (try? response.serializedBytes()) ?? []
    }

    /// The socket named in `<bundle>/address` when no shim listens on it any more (a shim killed with SIGKILL leaves
    /// it), as containerd's runc shim removes it on delete; one a live shim listens on stays.
    static func removeDeadSocket(bundle: String) {
        guard let address = try? FileIO.readText(bundle + "/address") else { return }
        let path = TTRPCClient.socketPath(fromAddress: String(address.filter { !$0.isWhitespace }))
        guard path.hasPrefix("/") else { return }
        do {
            FileIO.close(try UnixSocket.connect(path: path))
        } catch let error as SyscallError where error.errno == ECONNREFUSED {
            _ = unlink(path)
        } catch {}
    }
}
