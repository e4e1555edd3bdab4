import Foundation
import Testing
import TetherTestSupport

/// Issue 18: tether-runtime's `--log` in runc's two formats. containerd-shim-runc-v2 passes
/// `--log <bundle>/log.json --log-format json` and reports the last line whose level is error; `text` is logfmt,
/// the lines tetherd and tether-shim log.
@Suite("tether-runtime --log")
struct RuntimeLogTests {
    static var runtime: String { TestEnvironment.binary("tether-runtime") }

    @Test("--log-format json: one JSON object per line, the failure at level error")
    func jsonLog() throws {
        let directory = try TemporaryDirectory("tether-runtime-log")
        let log = directory.path + "/log.json"
        let result = try runCommand(Self.runtime, ["--root", directory.path + "/root", "--log", log, "--log-format", "json",
                                                   "state", "no-such-container"], timeout: 10)
        #expect(result.status != 0, "\(result)")
        let line = try #require(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["level"] == "error", "\(line)")
        #expect(object["msg"]?.contains("no-such-container") == true, "\(line)")
        #expect(object["time"]?.hasSuffix("Z") == true, "\(line)")
    }

    @Test("--log-format text: logfmt, and a message with a newline stays one line")
    func textLog() throws {
        let directory = try TemporaryDirectory("tether-runtime-log")
        let log = directory.path + "/log"
        let result = try runCommand(Self.runtime, ["--root", directory.path + "/root", "--log", log,
                                                   "state", "bad\nlevel=error msg=forged"], timeout: 10)
        #expect(result.status != 0, "\(result)")
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1, "\(lines)")
        let line = try #require(lines.first)
        #expect(line.firstMatch(of: #/^time="[0-9T:.\-]+Z" level=error msg=".*forged.*"$/#) != nil, "\(line)")
    }
}
