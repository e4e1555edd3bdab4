#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TetherSystem

/// The init's exit, written durably (temp file, fsync, rename) to `<bundle>/exit-status` before the exit is
/// published anywhere, so a manager that connects later still learns the true status.
public struct ExitRecord: Codable, Sendable, Equatable {
    public var pid: Int32
    public var status: UInt32
    public var exitedAtSeconds: Int64
    public var exitedAtNanos: Int32

    public static func path(bundle: String) -> String { bundle + "/exit-status" }

    public func write(bundle: String) throws {
        let data = try JSONEncoder().encode(self)
        try FileIO.writeAtomically(ExitRecord.path(bundle: bundle), Array(data), mode: 0o600, sync: true)
    }

    public static func read(bundle: String) -> ExitRecord? {
        guard let bytes = try? FileIO.readFile(path(bundle: bundle)) else { return nil }
        return try? JSONDecoder().decode(ExitRecord.self, from: Data(bytes))
    }
}
