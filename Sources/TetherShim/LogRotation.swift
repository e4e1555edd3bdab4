#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// Size-based rotation of a log file, shared by the `file://` and `cri://` writers: `PATH` is the live file,
/// `PATH.1` the newest rotated one, `PATH.<maxFiles-1>` the oldest kept; `maxFiles` counts the live file too
/// (docker's `max-file`, the CRI's `max-files`). Readers read `PATH.<n>` … `PATH.1`, then `PATH`.
enum LogRotation {
    /// Shifts `PATH` to `PATH.1`, `PATH.1` to `PATH.2`, …, dropping the oldest; with one file, removes `PATH`.
    /// The caller has closed its descriptor of `PATH` and opens a new one afterwards.
    static func rotate(_ path: String, maxFiles: Int) {
        if maxFiles <= 1 {
            _ = unlink(path)
            return
        }
        _ = unlink("\(path).\(maxFiles - 1)")
        var index = maxFiles - 2
        while index >= 1 {
            _ = rename("\(path).\(index)", "\(path).\(index + 1)")
            index -= 1
        }
        _ = rename(path, path + ".1")
    }

    /// Creates the directory a log file goes in (and its parents) when it is missing.
    static func makeParentDirectory(of path: String) throws {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try FileIO.makeDirectories(String(path[..<slash]))
        }
    }

    /// Parses `SCHEME://PATH[?max-size=N&max-files=N]` into its absolute path, setting the options it gives.
    static func parse(_ uri: String, scheme: String, maxSize: inout Int, maxFiles: inout Int) throws -> String {
        let prefix = scheme + "://"
        guard uri.hasPrefix(prefix) else { throw SyscallError("log uri \(uri): not a \(prefix) uri", errno: EINVAL) }
        let parts = uri.dropFirst(prefix.count).split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts.first ?? "")
        guard path.hasPrefix("/") else { throw SyscallError("log uri \(uri): path must be absolute", errno: EINVAL) }
        if parts.count > 1 { try options(parts[1], uri: uri, maxSize: &maxSize, maxFiles: &maxFiles) }
        return path
    }

    /// Parses a log URI's `?max-size=N&max-files=N` (bytes, and files counting the live one), each a positive
    /// number; the errors name the URI and the option.
    private static func options(_ query: Substring, uri: String, maxSize: inout Int, maxFiles: inout Int) throws {
        for pair in query.split(separator: "&") {
            let keyValue = pair.split(separator: "=", maxSplits: 1)
            let key = String(keyValue.first ?? "")
            guard keyValue.count == 2, let value = Int(keyValue[1]), value > 0 else {
                throw SyscallError("log uri \(uri): \(key) needs a positive number", errno: EINVAL)
            }
            switch key {
            case "max-size": maxSize = value
            case "max-files": maxFiles = value
            default: throw SyscallError("log uri \(uri): unknown option \(key)", errno: EINVAL)
            }
        }
    }
}
