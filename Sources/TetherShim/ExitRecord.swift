#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TetherSystem

/// The init's exit, written to `<bundle>/exit-status` (temp file, rename) before the exit is published anywhere,
/// so a manager that connects later still learns the true status. Not fsync'd, as the runtime's state record:
/// bundles live under /run (containerd's and tetherd's state directories), which does not outlast a reboot, and
/// the record has to outlast the shim, not the machine; the page cache does that. Where /run is on a disk, an
/// fsync here would hold every TaskExit (and so every StopContainer) behind a journal commit.
public struct ExitRecord: Codable, Sendable, Equatable {
    public var pid: Int32
    public var status: UInt32
    public var exitedAtSeconds: Int64
    public var exitedAtNanos: Int32

    public static func path(bundle: String) -> String { bundle + "/exit-status" }

    public func write(bundle: String) throws {
        let data = try JSONEncoder().encode(self)
        try FileIO.writeAtomically(ExitRecord.path(bundle: bundle), Array(data), mode: 0o600, sync: false)
    }

    public static func read(bundle: String) -> ExitRecord? {
        guard let bytes = try? FileIO.readFile(path(bundle: bundle)) else { return nil }
        return try? JSONDecoder().decode(ExitRecord.self, from: Data(bytes))
    }
}
