#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Testing
import TetherSystem
import TetherTestSupport
@testable import TetherShim

@Suite("shim flags")
struct ShimFlagsTests {
    @Test("containerd's start command line, Go flag style, in any order")
    func parsesContainerdStyle() throws {
        let flags = try ShimFlags.parse(["-namespace", "k8s.io", "-address", "/run/containerd/containerd.sock",
                                         "-publish-binary", "/usr/bin/containerd", "-id", "abc", "-debug", "start"])
        #expect(flags.namespace == "k8s.io")
        #expect(flags.address == "/run/containerd/containerd.sock")
        #expect(flags.publishBinary == "/usr/bin/containerd")
        #expect(flags.id == "abc")
        #expect(flags.debug)
        #expect(flags.action == "start")
        let equals = try ShimFlags.parse(["--id=x", "-bundle=/b", "delete"])
        #expect(equals.id == "x" && equals.bundle == "/b" && equals.action == "delete")
    }

    @Test("a wrong flag is named; a missing value is named")
    func rejectsBadFlags() {
        #expect(throws: ShimError.self) { try ShimFlags.parse(["-bogus", "start"]) }
        let unknown = #expect(throws: ShimError.self) { try ShimFlags.parse(["-bogus"]) }
        #expect(unknown?.description.contains("-bogus") == true, "\(String(describing: unknown))")
        let missingValue = #expect(throws: ShimError.self) { try ShimFlags.parse(["-id"]) }
        #expect(missingValue?.description.contains("-id") == true, "\(String(describing: missingValue))")
        #expect(throws: ShimError.self) { try ShimFlags.parse(["start", "delete"]) }
    }

    @Test("the server's arguments re-create the flags without the action")
    func serverArgumentsRoundTrip() throws {
        let flags = try ShimFlags.parse(["-namespace", "n", "-id", "i", "-address", "/a", "-publish-binary", "/p", "start"])
        var again = try ShimFlags.parse(flags.serverArguments)
        #expect(again.action == nil)
        again.action = "start"
        #expect(again == flags)
    }

    @Test("-state puts the socket directory and the runtime root under it; containerd's shims keep /run/tether")
    func stateDirectory() throws {
        let containerd = try ShimFlags.parse(["-namespace", "k8s.io", "-id", "i", "-address", "/a", "start"])
        #expect(containerd.socketDirectory == "/run/tether/s")
        #expect(containerd.runtimeRoot == "/run/tether/runtime/k8s.io")
        #expect(!containerd.serverArguments.contains("-state"))
        let tetherd = try ShimFlags.parse(["-namespace", "tether", "-id", "i", "-address", "/a", "-state", "/tmp/d/state", "start"])
        #expect(tetherd.socketDirectory == "/tmp/d/state/s")
        #expect(tetherd.runtimeRoot == "/tmp/d/state/runtime/tether")
        var again = try ShimFlags.parse(tetherd.serverArguments)
        again.action = "start"
        #expect(again == tetherd)
        #expect(throws: ShimError.self) { try ShimFlags.parse(["-state", "relative", "start"]) }
        #expect(throws: ShimError.self) { try ShimFlags.parse(["-state", "", "start"]) }
    }

    @Test("socket names are stable hashes of address, namespace and id")
    func socketNames() {
        #expect(FNV1a.hex("".utf8) == "cbf29ce484222325")
        #expect(FNV1a.hex("a".utf8) == "af63dc4c8601ec8c")
        #expect(FNV1a.hex("/a/n/i".utf8) != FNV1a.hex("/a/n/j".utf8))
        #expect(FNV1a.hex("x".utf8).count == 16)
    }
}

@Suite("durable exit record")
struct ExitRecordTests {
    @Test("written atomically and read back; a missing or torn file reads as nil")
    func roundTrip() throws {
        let scratch = try TemporaryDirectory("tether-shim-unit")
        let directory = scratch.path
        defer { withExtendedLifetime(scratch) {} }
        #expect(ExitRecord.read(bundle: directory) == nil)
        let record = ExitRecord(pid: 42, status: 137, exitedAtSeconds: 1_700_000_000, exitedAtNanos: 5)
        try record.write(bundle: directory)
        #expect(ExitRecord.read(bundle: directory) == record)
        try FileIO.writeAtomically(ExitRecord.path(bundle: directory), Array("{\"pid\":".utf8))
        #expect(ExitRecord.read(bundle: directory) == nil)
    }
}

@Suite("CRI log")
struct CRILogTests {
    @Test("cri:// URIs: path and options, bad options named")
    func parsesURIs() throws {
        let options = try CRILogWriter.parse("cri:///var/log/x.log?max-size=1024&max-files=3")
        #expect(options == CRILogWriter.Options(path: "/var/log/x.log", maxSize: 1024, maxFiles: 3))
        #expect(try CRILogWriter.parse("cri:///l").maxSize == 10 << 20)
        #expect(throws: SyscallError.self) { try CRILogWriter.parse("cri://relative") }
        #expect(throws: SyscallError.self) { try CRILogWriter.parse("cri:///l?max-size=x") }
        #expect(throws: SyscallError.self) { try CRILogWriter.parse("cri:///l?colour=1") }
    }

    @Test("full lines are F records, a cut line is P then F, streams keep their own partial lines")
    func records() throws {
        let scratch = try TemporaryDirectory("tether-cri")
        defer { withExtendedLifetime(scratch) {} }
        let directory = scratch.path
        let writer = try CRILogWriter(.init(path: directory + "/c.log"))
        writer.append(stream: "stdout", Array("one\ntw".utf8)[...])
        writer.append(stream: "stderr", Array("err\n".utf8)[...])
        writer.append(stream: "stdout", Array("o\n".utf8)[...])
        writer.append(stream: "stdout", [UInt8](repeating: UInt8(ascii: "x"), count: CRILogWriter.lineLimit + 3)[...])
        writer.finish(stream: "stdout")
        let lines = try FileIO.readText(directory + "/c.log").split(separator: "\n")
        let tails = lines.map { $0.split(separator: " ", maxSplits: 1)[1] }
        #expect(tails.count == 5)
        #expect(tails[0] == "stdout F one")
        #expect(tails[1] == "stderr F err")
        #expect(tails[2] == "stdout F two")
        #expect(tails[3].hasPrefix("stdout P xxx") && tails[3].count == "stdout P ".count + CRILogWriter.lineLimit)
        #expect(tails[4] == "stdout F xxx")
    }

    @Test("many lines in one read: one record each, in order, rotated between records; a line of exactly lineLimit is one F")
    func batchedRecords() throws {
        let scratch = try TemporaryDirectory("tether-cri")
        defer { withExtendedLifetime(scratch) {} }
        let directory = scratch.path
        let path = directory + "/b.log"
        let writer = try CRILogWriter(.init(path: path, maxSize: 200, maxFiles: 3))
        writer.append(stream: "stdout", Array((0..<12).map { "line \($0)\n" }.joined().utf8)[...])
        var texts: [String] = []
        for name in ["b.log.2", "b.log.1", "b.log"] {
            var info = stat()
            #expect(stat(directory + "/" + name, &info) == 0 && info.st_size <= 200, "\(name)")
            texts += try FileIO.readText(directory + "/" + name).split(separator: "\n").map { String($0.split(separator: " ", maxSplits: 1)[1]) }
        }
        #expect(texts == (0..<12).map { "stdout F line \($0)" })

        let exact = try CRILogWriter(.init(path: directory + "/e.log"))
        exact.append(stream: "stderr", ([UInt8](repeating: UInt8(ascii: "y"), count: CRILogWriter.lineLimit) + [UInt8(ascii: "\n")])[...])
        let lines = try FileIO.readText(directory + "/e.log").split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(" stderr F yyy") && lines[0].hasSuffix(String(repeating: "y", count: 100)))
    }

    @Test("rotation at max-size keeps max-files files")
    func rotation() throws {
        let scratch = try TemporaryDirectory("tether-cri")
        defer { withExtendedLifetime(scratch) {} }
        let directory = scratch.path
        let path = directory + "/r.log"
        let writer = try CRILogWriter(.init(path: path, maxSize: 200, maxFiles: 3))
        for index in 0..<40 { writer.append(stream: "stdout", Array("line \(index)\n".utf8)[...]) }
        let names = try FileIO.listDirectory(directory).sorted()
        #expect(names == ["r.log", "r.log.1", "r.log.2"])
        for name in names {
            var info = stat()
            #expect(stat(directory + "/" + name, &info) == 0 && info.st_size <= 200)
        }
        #expect(try FileIO.readText(path).contains("line 39"))
    }
}

@Suite("binary logger URIs")
struct BinaryLoggerTests {
    @Test("path and query arguments as containerd passes them")
    func parses() throws {
        let command = try BinaryLogger.parse("binary:///usr/bin/logger?tag=my%20app&verbose")
        #expect(command.path == "/usr/bin/logger")
        #expect(command.arguments == ["tag", "my app", "verbose"])
        #expect(throws: SyscallError.self) { try BinaryLogger.parse("binary://relative") }
    }
}

@Suite("output relay")
struct OutputRelayTests {
    @Test("a sink that stays full: the source is held back for the stall limit, then bytes are dropped and counted")
    func dropsWhenTheSinkStaysFull() throws {
        let loop = try EventLoop()
        let source = try FileIO.pipe()
        let sink = try FileIO.pipe()
        try FileIO.setNonblocking(sink.write)
        try FileIO.setNonblocking(source.write)
        let relay = try OutputRelay(loop: loop, source: source.read, sink: sink.write, ownsSink: true, stallLimit: 0)
        let chunk = [UInt8](repeating: 7, count: 4096)
        var written = 0
        // Nobody reads the sink: keep writing (and relaying) well past its 64 KiB capacity.
        for _ in 0..<64 {
            let n = chunk.withUnsafeBytes { Glibc.write(source.write, $0.baseAddress, $0.count) }
            if n > 0 { written += n }
            try loop.runOnce(maximumWait: 0)
            relay.pump()
        }
        #expect(written == 64 * 4096)
        #expect(relay.copiedBytes + relay.droppedBytes == written)
        #expect(relay.copiedBytes == 65536)  // what the sink holds; spliced, never copied through the shim
        #expect(relay.droppedBytes > 0)
        FileIO.close(source.write)
        try loop.runOnce(maximumWait: 0)  // the hang-up, as epoll reports it
        #expect(relay.isClosed)
        FileIO.close(sink.read)
    }

    @Test("a slow reader gets every byte: the relay waits for the sink instead of dropping")
    func backpressure() throws {
        let loop = try EventLoop()
        let source = try FileIO.pipe()
        let sink = try FileIO.pipe()
        try FileIO.setNonblocking(sink.write)
        try FileIO.setNonblocking(source.write)
        try FileIO.setNonblocking(sink.read)
        let relay = try OutputRelay(loop: loop, source: source.read, sink: sink.write, ownsSink: true, stallLimit: 60_000)
        let total = 1 << 20
        var written = 0
        var received = 0
        var scratch = [UInt8](repeating: 0, count: 8192)
        var rounds = 0
        while received < total && rounds < 100_000 {
            rounds += 1
            if written < total {
                let n = scratch.withUnsafeBytes { Glibc.write(source.write, $0.baseAddress, min($0.count, total - written)) }
                if n > 0 { written += n }
                if written == total { FileIO.close(source.write) }
            }
            try loop.runOnce(maximumWait: 10)
            // The reader takes a little at a time.
            let n = scratch.withUnsafeMutableBytes { Glibc.read(sink.read, $0.baseAddress, 4096) }
            if n > 0 { received += n }
        }
        #expect(received == total)
        #expect(relay.droppedBytes == 0 && relay.copiedBytes == total)
        try loop.runOnce(maximumWait: 10)
        #expect(relay.isClosed)
        FileIO.close(sink.read)
    }

    @Test("a consumer receives every byte; EOF closes the relay and runs onClose")
    func consumer() throws {
        let loop = try EventLoop()
        let source = try FileIO.pipe()
        var received: [UInt8] = []
        let relay = try OutputRelay(loop: loop, source: source.read) { received.append(contentsOf: $0) }
        var closed = false
        relay.onClose = { closed = true }
        try FileIO.writeAll(source.write, "hello")
        FileIO.close(source.write)
        relay.pump()
        #expect(received == Array("hello".utf8))
        #expect(closed && relay.isClosed)
    }
}
