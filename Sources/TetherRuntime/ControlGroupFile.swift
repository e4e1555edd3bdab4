#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// Reading and writing cgroup interface files. A failed write names the value, the file and (when it comes
/// from the config) the field, e.g.
/// `cgroups: write 16777216 to /sys/fs/cgroup/memory/x/memory.limit_in_bytes: Device or resource busy`.
enum ControlGroupFile {
    /// One write(2) of `value` (cgroup files take one value per write, and the kernel answers per write).
    static func write(_ directory: String, _ file: String, _ value: String, field: String? = nil) throws {
        let path = directory + "/" + file
        let fd = Glibc.open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw failure(value, path, errno, field: field) }
        defer { FileIO.close(fd) }
        var written: Int
        repeat {
            written = value.withCString { Glibc.write(fd, $0, strlen($0)) }
        } while written < 0 && errno == EINTR
        if written < 0 { throw failure(value, path, errno, field: field) }
    }

    static func failure(_ value: String, _ path: String, _ code: Int32, field: String?, detail: String? = nil) -> RuntimeError {
        var message = "write \(value) to \(path): \(SyscallError.describe(code))"
        if let detail { message += " (\(detail))" }
        if let field { message += " [\(field)]" }
        return RuntimeError(.system, message, stage: "cgroups", syscall: SyscallError("write \(path)", errno: code))
    }

    static func exists(_ directory: String, _ file: String) -> Bool {
        FileIO.exists(directory + "/" + file)
    }

    static func read(_ directory: String, _ file: String) -> String? {
        (try? FileIO.readText(directory + "/" + file))?.trimmingWhitespace()
    }

    /// The first number in the file; "max" (no limit) reads as `UInt64.max`; nil when unreadable.
    static func number(_ directory: String, _ file: String) -> UInt64? {
        guard let text = read(directory, file), let first = text.split(whereSeparator: \.isWhitespace).first else { return nil }
        if first == "max" { return UInt64.max }
        return UInt64(first)
    }

    /// "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control).
    static func keyed(_ directory: String, _ file: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in (read(directory, file) ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { result[String(parts[0])] = value }
        }
        return result
    }

    /// Every pid in `directory` and its sub-cgroups (runc's GetAllPids).
    static func allProcesses(_ directory: String) -> [Int32] {
        var result = (read(directory, "cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }
        for name in (try? FileIO.listDirectory(directory)) ?? [] where FileIO.isDirectory(directory + "/" + name) {
            result += allProcesses(directory + "/" + name)
        }
        return result
    }
}
