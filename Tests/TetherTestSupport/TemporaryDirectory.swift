#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TetherSystem

/// A fresh directory under /tmp (mkdtemp), removed with its contents when the value is deinitialized. Keep the value
/// (not just its `path`) alive for as long as the directory is used.
public final class TemporaryDirectory {
    public let path: String

    public init(_ prefix: String = "tether-test") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw SyscallError.current("mkdtemp /tmp/\(prefix)-XXXXXX") }
        path = String(cBuffer: template)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
