#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// A CRI-format container log (what kubelet reads): one line per record, `<RFC3339Nano> <stream> <F|P> <text>`,
/// F for a full line, P for a partial one (a line longer than the buffer, or cut by a stream's end), with
/// size-based rotation. Requested with a `cri://` log URI on stdout (and/or stderr) of a Create or Exec:
///
///     cri:///var/log/pods/x/0.log?max-size=10485760&max-files=3
///
/// `max-size` (bytes, default 10 MiB) triggers rotation before a write would pass it; `max-files` (default 2)
/// counts the live file plus rotated ones (`PATH.1` the newest rotated). stdout and stderr naming the same
/// path share one writer.
final class CRILogWriter {
    struct Options: Equatable {
        var path: String
        var maxSize: Int = 10 << 20
        var maxFiles: Int = 2
    }

    let options: Options
    private var fd: Int32 = -1
    private var size = 0
    private var partial: [String: [UInt8]] = [:]
    /// A line longer than this is written as P records.
    static let lineLimit = 16 * 1024

    init(_ options: Options) throws {
        self.options = options
        if let slash = options.path.lastIndex(of: "/"), slash != options.path.startIndex {
            try FileIO.makeDirectories(String(options.path[..<slash]))
        }
        try reopen()
    }

    deinit { if fd >= 0 { FileIO.close(fd) } }

    /// Parses `cri://PATH?max-size=N&max-files=N`.
    static func parse(_ uri: String) throws -> Options {
        guard uri.hasPrefix("cri://") else { throw SyscallError("log uri \(uri): not a cri:// uri", errno: EINVAL) }
        let rest = uri.dropFirst("cri://".count)
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        guard path.hasPrefix("/") else { throw SyscallError("log uri \(uri): path must be absolute", errno: EINVAL) }
        var options = Options(path: path)
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                let key = String(kv[0])
                guard kv.count == 2, let value = Int(kv[1]), value > 0 else {
                    throw SyscallError("log uri \(uri): \(key) needs a positive number", errno: EINVAL)
                }
                switch key {
                case "max-size": options.maxSize = value
                case "max-files": options.maxFiles = value
                default: throw SyscallError("log uri \(uri): unknown option \(key)", errno: EINVAL)
                }
            }
        }
        return options
    }

    /// Appends output of `stream` ("stdout" or "stderr"): complete lines become F records at once.
    func append(stream: String, _ bytes: ArraySlice<UInt8>) {
        var pending = partial[stream, default: []]
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                record(stream, full: true, pending)
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                if pending.count >= CRILogWriter.lineLimit {
                    record(stream, full: false, pending)
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        partial[stream] = pending
    }

    /// The stream ended: what is left of its last line is written as a full record.
    func finish(stream: String) {
        if let pending = partial.removeValue(forKey: stream), !pending.isEmpty {
            record(stream, full: true, pending)
        }
    }

    private func record(_ stream: String, full: Bool, _ text: [UInt8]) {
        var line = Array("\(CRILogWriter.timestamp()) \(stream) \(full ? "F" : "P") ".utf8)
        line.append(contentsOf: text)
        line.append(UInt8(ascii: "\n"))
        if size > 0 && size + line.count > options.maxSize { rotate() }
        guard fd >= 0 else { return }
        if (try? FileIO.writeAll(fd, line)) != nil { size += line.count }
    }

    private func rotate() {
        FileIO.close(fd)
        fd = -1
        if options.maxFiles <= 1 {
            _ = unlink(options.path)
        } else {
            _ = unlink("\(options.path).\(options.maxFiles - 1)")
            var index = options.maxFiles - 2
            while index >= 1 {
                _ = rename("\(options.path).\(index)", "\(options.path).\(index + 1)")
                index -= 1
            }
            _ = rename(options.path, options.path + ".1")
        }
        try? reopen()
    }

    private func reopen() throws {
        fd = try FileIO.open(options.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode: 0o640)
        var info = stat()
        size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
    }

    /// RFC 3339 with nanoseconds, UTC (`2006-01-02T15:04:05.000000000Z`).
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return format(seconds: now.tv_sec, nanos: now.tv_nsec)
    }

    static func format(seconds: Int, nanos: Int) -> String {
        var time = seconds
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let nano = String(nanos)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + String(repeating: "0", count: max(0, 9 - nano.count)) + nano + "Z"
    }
}
