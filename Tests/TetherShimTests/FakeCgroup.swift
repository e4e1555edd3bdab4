#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// A temporary directory laid out as a cgroup (file name → content), for the stats readers; `remove` deletes it.
enum FakeCgroup {
    static func make(_ files: [String: String]) throws -> String {
        var template = Array("/tmp/tether-fake-cgroup-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SyscallError.current("mkdtemp") }
        let directory = String(cString: made)
        for (name, content) in files { try FileIO.writeFile(directory + "/" + name, content) }
        return directory
    }

    static func remove(_ directory: String) {
        for name in (try? FileIO.listDirectory(directory)) ?? [] { _ = unlink(directory + "/" + name) }
        _ = rmdir(directory)
    }
}
