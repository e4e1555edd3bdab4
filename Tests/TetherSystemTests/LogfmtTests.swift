#if canImport(Glibc)
import Glibc
#endif
import Logging
import TetherLogging
import TetherSystem
import Testing

@Suite("logfmt lines")
struct LogfmtTests {
    @Test("a value is bare only with logrus's safe characters, else Go's %q; empty is \"\"")
    func quoting() {
        #expect(Logfmt.value("web-1.example_a/b@c^d+e") == "web-1.example_a/b@c^d+e")
        #expect(Logfmt.value("") == "\"\"")
        #expect(Logfmt.value("a b") == "\"a b\"")
        #expect(Logfmt.value("key=value") == "\"key=value\"")
        #expect(Logfmt.value("say \"hi\"\\") == "\"say \\\"hi\\\"\\\\\"")
        #expect(Logfmt.value("2026-12-02T17:23:42.123Z") == "\"2026-12-02T17:23:42.123Z\"")
        #expect(Logfmt.value("é") == "\"é\"")
    }

    @Test("a message with a newline or an escape sequence stays on one line and cannot forge a field")
    func forgedLines() {
        let line = Logfmt.line(time: "t", level: "info", message: "x\ntime=\"t\" level=error msg=forged\u{1b}[2J")
        #expect(line == "time=t level=info msg=\"x\\ntime=\\\"t\\\" level=error msg=forged\\x1b[2J\"\n")
        #expect(line.filter { $0 == "\n" }.count == 1)
    }

    @Test("time, level, msg, then the fields in order; a key with unsafe characters is made safe")
    func lineLayout() {
        let line = Logfmt.line(time: "2026-12-02T17:23:42.123Z", level: "warning", message: "shim exited unexpectedly",
                               fields: [(key: "id", value: "abc123"), (key: "exit code", value: "137"), (key: "", value: "x")])
        #expect(line == "time=\"2026-12-02T17:23:42.123Z\" level=warning msg=\"shim exited unexpectedly\" id=abc123 exit_code=137 _=x\n")
    }

    @Test("the swift-log handler writes one sorted logfmt line per message at or above its level")
    func handler() throws {
        let (readEnd, writeEnd) = try FileIO.pipe()
        defer { FileIO.close(readEnd) }
        var logger = Logger(label: "test") { _ in LogfmtHandler(level: .info, fd: writeEnd) }
        logger[metadataKey: "shim"] = "s1"
        logger.debug("not written")
        logger.warning("shim lost", metadata: ["id": "web", "exitCode": "137"])
        logger.error("failed", metadata: ["id": "a b"])
        FileIO.close(writeEnd)
        let lines = String(decoding: try FileIO.readAll(readEnd), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(lines)")
        let first = try #require(lines.first)
        #expect(first.hasPrefix("time=\"") && first.contains("Z\" level=warning msg=\"shim lost\" exitCode=137 id=web shim=s1"), "\(first)")
        // RFC 3339 with milliseconds: time="YYYY-MM-DDTHH:MM:SS.mmmZ"
        let time = first.dropFirst(6).prefix { $0 != "\"" }
        #expect(time.count == 24 && time.dropFirst(19).first == ".", "\(time)")
        #expect(lines.last?.hasSuffix("level=error msg=failed id=\"a b\" shim=s1") == true, "\(lines)")
    }

    @Test("--log-level names: debug, info, warn or warning, error; anything else is refused")
    func levelNames() {
        #expect(TetherLog.level(named: "debug") == .debug)
        #expect(TetherLog.level(named: "info") == .info)
        #expect(TetherLog.level(named: "warn") == .warning)
        #expect(TetherLog.level(named: "warning") == .warning)
        #expect(TetherLog.level(named: "error") == .error)
        #expect(TetherLog.level(named: "verbose") == nil)
        #expect(TetherLog.level(named: "") == nil)
        #expect(LogfmtHandler.name(.notice) == "info" && LogfmtHandler.name(.critical) == "error")
    }
}
