#if canImport(Glibc)
import Glibc
#endif
import Testing
import TetherSystem
import TetherTestSupport
@testable import TetherShim

@Suite("file:// log writer")
struct LogFileWriterTests {
    func append(_ writer: LogFileWriter, _ text: String) {
        Array(text.utf8).withUnsafeBytes { writer.append($0) }
    }

    @Test("file:// URIs: path and rotation options, bad options named")
    func parse() throws {
        #expect(try LogFileWriter.parse("file:///var/log/x.log") == .init(path: "/var/log/x.log"))
        #expect(try LogFileWriter.parse("file:///l?max-size=1024&max-files=3") == .init(path: "/l", maxSize: 1024, maxFiles: 3))
        #expect(throws: SyscallError.self) { try LogFileWriter.parse("file://relative") }
        #expect(throws: SyscallError.self) { try LogFileWriter.parse("file:///l?max-size=0") }
        #expect(throws: SyscallError.self) { try LogFileWriter.parse("file:///l?colour=1") }
    }

    @Test("rotated before max-size at the last line end that fits, keeping max-files files, bytes in order")
    func rotationAtLineEnds() throws {
        let scratch = try TemporaryDirectory("tether-filelog")
        defer { withExtendedLifetime(scratch) {} }
        let directory = scratch.path
        let path = directory + "/c.log"
        let writer = try LogFileWriter(.init(path: path, maxSize: 64, maxFiles: 3))
        let lines = (0..<40).map { "line \($0)\n" }
        append(writer, lines[0..<25].joined())  // one read of several lines
        for line in lines[25...] { append(writer, line) }
        #expect(try FileIO.listDirectory(directory).sorted() == ["c.log", "c.log.1", "c.log.2"])
        var text = ""
        for name in ["c.log.2", "c.log.1", "c.log"] {
            let content = try FileIO.readText(directory + "/" + name)
            #expect(content.utf8.count <= 64 && content.hasSuffix("\n"), "\(name): \(content)")
            text += content
        }
        #expect(lines.joined().hasSuffix(text) && text.hasPrefix("line "), "\(text)")
        #expect(writer.droppedBytes == 0)
    }

    @Test("a line longer than max-size is cut; without max-size nothing rotates")
    func longLinesAndNoRotation() throws {
        let scratch = try TemporaryDirectory("tether-filelog")
        defer { withExtendedLifetime(scratch) {} }
        let directory = scratch.path
        let cut = try LogFileWriter(.init(path: directory + "/cut.log", maxSize: 10, maxFiles: 2))
        append(cut, String(repeating: "x", count: 25) + "\n")
        #expect(try FileIO.readText(directory + "/cut.log.1") == String(repeating: "x", count: 10))
        #expect(try FileIO.readText(directory + "/cut.log") == "xxxxx\n")
        let growing = try LogFileWriter(.init(path: directory + "/grow.log"))
        for _ in 0..<100 { append(growing, "0123456789\n") }
        #expect(try FileIO.readText(directory + "/grow.log").utf8.count == 1100)
        #expect(!FileIO.exists(directory + "/grow.log.1"))
    }

    @Test("writes that fail (ENOSPC on /dev/full) are counted as dropped and the writer goes on")
    func failedWritesAreCounted() throws {
        let writer = try LogFileWriter(.init(path: "/dev/full"))
        append(writer, "lost\n")
        append(writer, "lost too\n")
        #expect(writer.droppedBytes == 14)
    }
}
