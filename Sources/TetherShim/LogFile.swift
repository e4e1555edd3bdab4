#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// A plain log file, the `file://` stdout/stderr of a Create or Exec: what the process writes, byte for byte,
/// appended by the shim from the process's pipe (or its pty master). The process never holds the file, so it
/// cannot seek, truncate or rewrite what was logged (containerd's runc shim copies `file://` logs from a pipe
/// too). Optional size-based rotation, docker's `max-size`/`max-file` as tetherd passes them:
///
///     file:///var/lib/tether/containers/ID/container.log?max-size=10485760&max-files=3
///
/// Before a write would pass `max-size` bytes the file is rotated (LogRotation), at the end of the last line
/// that fits when there is one; a single line longer than `max-size` is cut. Without `max-size` it only grows.
/// A write that fails (disk full, EIO) drops its bytes, counted in `droppedBytes`: the relay and the process go
/// on, and the next write tries again. stdout and stderr naming the same path share one writer.
final class LogFileWriter {
    struct Options: Equatable {
        var path: String
        var maxSize = Int.max
        var maxFiles = 1
    }

    let options: Options
    private var fd: Int32 = -1
    private var size = 0
    /// Bytes the process wrote that could not be written to the log.
    private(set) var droppedBytes = 0
    /// Whether the last byte written is not a newline: the file holds the start of a line whose rest is to come.
    private var endsInsideALine = false

    init(_ options: Options) throws {
        self.options = options
        try LogRotation.makeParentDirectory(of: options.path)
        try reopen()
    }

    deinit { if fd >= 0 { FileIO.close(fd) } }

    /// Parses `file://PATH[?max-size=N&max-files=N]`.
    static func parse(_ uri: String) throws -> Options {
        var options = Options(path: "")
        options.path = try LogRotation.parse(uri, scheme: "file", maxSize: &options.maxSize, maxFiles: &options.maxFiles)
        return options
    }

    /// Appends what the process wrote, rotating first when the file would pass `maxSize`. A line the file already
    /// holds the start of (a read ended inside it) is finished there first, so no line is split across files:
    /// that file may pass `maxSize` by the rest of that line, as docker's json-file passes it by the line that
    /// crosses it.
    func append(_ bytes: UnsafeRawBufferPointer) {
        guard var start = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let room = options.maxSize - size
            if remaining <= room {
                write(start, remaining)
                return
            }
            if endsInsideALine, let newline = memchr(start, Int32(UInt8(ascii: "\n")), remaining) {
                let count = UnsafeRawPointer(newline) - start + 1
                write(start, count)
                start += count
                remaining -= count
                rotate()
                continue
            }
            var count = room > 0 ? LogFileWriter.throughLastNewline(start, min(room, remaining)) : 0
            if count == 0 {
                if size > 0 {
                    rotate()
                    continue
                }
                count = room  // one line longer than max-size in an empty file: cut it
            }
            write(start, count)
            start += count
            remaining -= count
            rotate()
        }
    }

    /// The length of `bytes[0..<length]` up to and including its last newline; 0 without one.
    private static func throughLastNewline(_ bytes: UnsafeRawPointer, _ length: Int) -> Int {
        let text = bytes.assumingMemoryBound(to: UInt8.self)
        var index = length - 1
        while index >= 0 {
            if text[index] == UInt8(ascii: "\n") { return index + 1 }
            index -= 1
        }
        return 0
    }

    private func write(_ start: UnsafeRawPointer, _ count: Int) {
        if fd < 0 { try? reopen() }  // a failed rotation or open left none: try again
        guard fd >= 0 else {
            droppedBytes += count
            return
        }
        var offset = 0
        while offset < count {
            let written = Glibc.write(fd, start + offset, count - offset)
            if written > 0 {
                offset += written
                continue
            }
            if written < 0 && errno == EINTR { continue }
            break  // ENOSPC, EIO, EFBIG: the rest of this chunk is dropped
        }
        size += offset
        droppedBytes += count - offset
        if offset > 0 { endsInsideALine = start.load(fromByteOffset: offset - 1, as: UInt8.self) != UInt8(ascii: "\n") }
    }

    private func rotate() {
        FileIO.close(fd)
        fd = -1
        LogRotation.rotate(options.path, maxFiles: options.maxFiles)
        try? reopen()
        size = 0  // even when a rename failed and the old file was reopened: never rotate in a loop
    }

    private func reopen() throws {
        fd = try FileIO.open(options.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode: 0o640)
        var info = stat()
        size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
        endsInsideALine = false
    }
}
