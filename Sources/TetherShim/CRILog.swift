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
    /// Bytes of records that could not be written.
    private(set) var droppedBytes = 0
    /// What stdout (0) and stderr (1) wrote after their last newline.
    private var partial: [[UInt8]] = [[], []]
    /// Records not written yet, and the two headers of the current append.
    private let output = ByteBuffer()
    private let fullHeader = ByteBuffer()
    private let partialHeader = ByteBuffer()
    /// A line longer than this is written as P records.
    static let lineLimit = 16 * 1024
    /// Records are written once this many bytes are pending (and at the end of every append).
    static let flushThreshold = 128 * 1024

    init(_ options: Options) throws {
        self.options = options
        try LogRotation.makeParentDirectory(of: options.path)
        try reopen()
    }

    deinit { if fd >= 0 { FileIO.close(fd) } }

    /// Parses `cri://PATH?max-size=N&max-files=N`.
    static func parse(_ uri: String) throws -> Options {
        var options = Options(path: "")
        options.path = try LogRotation.parse(uri, scheme: "cri", maxSize: &options.maxSize, maxFiles: &options.maxFiles)
        return options
    }

    /// Appends output of `stream` ("stdout" or "stderr"): complete lines become F records at once. Every record
    /// of one call shares one timestamp (the time the bytes were read, as conmon stamps them) and they are written
    /// together, with one write(2) per `flushThreshold` bytes: no per-line allocation or system call.
    func append(stream: String, _ bytes: UnsafeRawBufferPointer) {
        guard let start = bytes.baseAddress, bytes.count > 0 else { return }
        let index = stream == "stderr" ? 1 : 0
        prepareHeaders(stream)
        var offset = 0
        while offset < bytes.count {
            let remaining = bytes.count - offset
            if let newline = memchr(start + offset, Int32(UInt8(ascii: "\n")), remaining) {
                let length = UnsafeRawPointer(newline) - (start + offset)
                line(index, start + offset, length, complete: true)
                offset += length + 1
            } else {
                line(index, start + offset, remaining, complete: false)
                offset = bytes.count
            }
        }
        flush()
    }

    func append(stream: String, _ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { append(stream: stream, $0) }
    }

    /// The stream ended: what is left of its last line is written as a full record.
    func finish(stream: String) {
        let index = stream == "stderr" ? 1 : 0
        let rest = partial[index]
        partial[index] = []
        if !rest.isEmpty {
            prepareHeaders(stream)
            rest.withUnsafeBytes { record(full: true, $0.baseAddress!, $0.count) }
            flush()
        }
        if partial.allSatisfy(\.isEmpty) { output.release() }
    }

    /// One line's text (complete: its newline followed), after what a previous read left of it.
    private func line(_ index: Int, _ text: UnsafeRawPointer, _ length: Int, complete: Bool) {
        if partial[index].isEmpty {
            records(index, text, length, complete: complete)
            return
        }
        var joined = partial[index]
        partial[index] = []
        joined.append(contentsOf: UnsafeRawBufferPointer(start: text, count: length))
        joined.withUnsafeBytes { records(index, $0.baseAddress!, $0.count, complete: complete) }
    }

    /// P records of `lineLimit` bytes while the text is longer, then an F record (complete) or the rest kept.
    private func records(_ index: Int, _ text: UnsafeRawPointer, _ length: Int, complete: Bool) {
        var text = text
        var length = length
        while length > CRILogWriter.lineLimit {
            record(full: false, text, CRILogWriter.lineLimit)
            text += CRILogWriter.lineLimit
            length -= CRILogWriter.lineLimit
        }
        if complete {
            record(full: true, text, length)
        } else if length > 0 {
            partial[index] = Array(UnsafeRawBufferPointer(start: text, count: length))
        }
    }

    /// `<timestamp> <stream> F ` and its P twin, for the records of one append.
    private func prepareHeaders(_ stream: String) {
        let (seconds, nanoseconds) = RFC3339.clock()
        var header = RFC3339.bytes(seconds: seconds, nanoseconds: nanoseconds)
        header.append(UInt8(ascii: " "))
        header.append(contentsOf: stream.utf8)
        header.append(contentsOf: Array(" F ".utf8))
        fullHeader.removeAll()
        fullHeader.append(header)
        header[header.count - 2] = UInt8(ascii: "P")
        partialHeader.removeAll()
        partialHeader.append(header)
    }

    private func record(full: Bool, _ text: UnsafeRawPointer, _ length: Int) {
        let header = full ? fullHeader : partialHeader
        let recordLength = header.count + length + 1
        let pending = size + output.count
        if pending > 0 && pending + recordLength > options.maxSize {
            flush()
            rotate()
        }
        output.reserve(recordLength)
        output.append(header.base!, count: header.count)
        output.append(text, count: length)
        output.append(UInt8(ascii: "\n"))
        if output.count >= CRILogWriter.flushThreshold { flush() }
    }

    /// Writes the pending records; when that fails (disk full, EIO) they are dropped, counted, and the relay
    /// and the process go on.
    private func flush() {
        guard output.count > 0 else { return }
        if fd < 0 { try? reopen() }
        if fd >= 0, (try? FileIO.writeAll(fd, output.bytes)) != nil {
            size += output.count
        } else {
            droppedBytes += output.count
        }
        output.removeAll()
    }

    private func rotate() {
        FileIO.close(fd)
        fd = -1
        LogRotation.rotate(options.path, maxFiles: options.maxFiles)
        try? reopen()
    }

    private func reopen() throws {
        fd = try FileIO.open(options.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode: 0o640)
        var info = stat()
        size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
    }
}
