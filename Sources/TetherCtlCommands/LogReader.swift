#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// A container's log as `logs` reads it: the rotated files (`container.log.<n>` … `container.log.1`, oldest
/// first, as the shim rotates them) and then `container.log`, opened together before reading (a rotation while
/// reading renames the files, the open descriptors stay). Everything is read in chunks of one fixed buffer:
/// `--tail N` searches backwards from the end for the start of the last N lines, then copies forwards, so
/// memory stays bounded whatever the size of the log or of a line.
final class LogReader {
    /// Open log files, oldest first; the live log (`container.log`) is the last when it exists.
    private var files: [(fd: Int32, size: Int64)] = []
    private(set) var hasLiveLog = false
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// A place in the log: a file (index in `files`) and an offset in it.
    struct Position {
        var file: Int
        var offset: Int64
    }

    init(path: String) {
        var rotated: [String] = []
        while FileIO.exists("\(path).\(rotated.count + 1)") { rotated.append("\(path).\(rotated.count + 1)") }
        for name in rotated.reversed() + [path] {
            guard let fd = try? FileIO.open(name, O_RDONLY | O_CLOEXEC) else { continue }
            var info = stat()
            files.append((fd, fstat(fd, &info) == 0 ? Int64(info.st_size) : 0))
            if name == path { hasLiveLog = true }
        }
    }

    deinit { for file in files { FileIO.close(file.fd) } }

    var start: Position { Position(file: 0, offset: 0) }

    /// The live log's descriptor for following it on (its ownership passes to the caller), nil when it did not
    /// exist.
    func takeLiveLog() -> Int32? {
        guard hasLiveLog, let live = files.popLast() else { return nil }
        hasLiveLog = false
        return live.fd
    }

    /// Where the last `lines` lines begin: a newline that ends the log does not start an empty line, and a last
    /// line without a newline counts (`logs --tail`, as docker).
    func tailStart(lines: Int) -> Position {
        var wanted = max(lines, 0)
        guard let last = files.indices.last else { return start }
        if wanted == 0 { return Position(file: last, offset: files[last].size) }
        var skipFinalNewline = true
        for index in files.indices.reversed() {
            var end = files[index].size
            while end > 0 {
                let length = Int(min(Int64(buffer.count), end))
                let offset = end - Int64(length)
                let count = buffer.withUnsafeMutableBytes { pread(files[index].fd, $0.baseAddress, length, off_t(offset)) }
                guard count == length else { return Position(file: index, offset: end) }  // truncated meanwhile
                var cursor = length - 1
                while cursor >= 0 {
                    if buffer[cursor] == UInt8(ascii: "\n") {
                        if skipFinalNewline {
                            skipFinalNewline = false
                        } else {
                            wanted -= 1
                            if wanted == 0 { return Position(file: index, offset: offset + Int64(cursor) + 1) }
                        }
                    } else {
                        skipFinalNewline = false
                    }
                    cursor -= 1
                }
                end = offset
            }
        }
        return start
    }

    /// Copies the log from `position` to its end into `destination`; with `endingLine`, a last line without a
    /// newline gets one. Returns the offset reached in the live log (where following it goes on).
    @discardableResult
    func copy(from position: Position, to destination: Int32, endingLine: Bool) throws -> Int64 {
        var lastByte: UInt8?
        var reached: Int64 = 0
        for index in files.indices where index >= position.file {
            var offset = index == position.file ? position.offset : 0
            while true {
                let count = buffer.withUnsafeMutableBytes { pread(files[index].fd, $0.baseAddress, $0.count, off_t(offset)) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                try buffer.withUnsafeBytes { try FileIO.writeAll(destination, UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                lastByte = buffer[count - 1]
                offset += Int64(count)
            }
            reached = offset
        }
        if endingLine, let lastByte, lastByte != UInt8(ascii: "\n") { try FileIO.writeAll(destination, [10]) }
        return reached
    }
}
