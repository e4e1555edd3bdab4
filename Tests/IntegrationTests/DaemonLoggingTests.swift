import Foundation
import Testing
import TetherTestSupport

/// Issue 18: tetherd logs each failure and recovery once, in logfmt on its stderr, with the container's id; its level
/// is `--log-level`.
@Suite("tetherd's log", .serialized)
struct DaemonLoggingTests {
    typealias DaemonFixture = DaemonTests.DaemonFixture

    static var rootfs: String { TestEnvironment.rootfs }

    /// The lines of `text` whose `msg` is `message` and that name container `id`.
    static func lines(_ text: String, message: String, id: String) -> [Substring] {
        text.split(separator: "\n").filter { line in
            (line.contains("msg=\"\(message)\"") || line.contains("msg=\(message) ")) && line.contains(" id=\(id)")
        }
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aLostShimItsCleanUpAndTheRestartPolicyAreLoggedOnceWithTheContainerID() throws {
        let daemon = try DaemonFixture(arguments: ["--log-level", "debug"])
        let run = try daemon.ctl(["run", "-d", "--name", "logged", "--restart", "always", Self.rootfs, "/bin/sleep", "1000"])
        #expect(run.status == 0, "\(run)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let shim = try #require(DaemonFaultTests.shimPid(daemon, id: id))
        kill(shim, SIGKILL)
        let restarted = try waitUntil(timeout: 10) {
            try daemon.inspect("logged")["RestartCount"] as? Int == 1
                && DaemonFaultTests.state(try daemon.inspect("logged"))["Status"] as? String == "running"
        }
        #expect(restarted, "\(daemon.logText)")
        let log = daemon.logText
        let lost = Self.lines(log, message: "shim exited unexpectedly", id: id)
        #expect(lost.count == 1, "\(log)")
        #expect(lost.first?.contains("level=error") == true, "\(lost)")
        #expect(lost.first?.contains("name=logged") == true, "\(lost)")
        let cleaned = Self.lines(log, message: "cleaned up after the lost shim: container exited", id: id)
        #expect(cleaned.count == 1, "\(log)")
        #expect(cleaned.first?.contains("exitCode=137") == true, "\(cleaned)")
        let restart = Self.lines(log, message: "restarting by the restart policy", id: id)
        #expect(restart.count == 1, "\(log)")
        #expect(restart.first?.contains("restartCount=1") == true, "\(restart)")
        #expect(Self.lines(log, message: "restart scheduled", id: id).first?.contains("level=debug") == true, "\(log)")
        // Every line is logfmt: time (RFC 3339, milliseconds), level, msg.
        let pattern = #/^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z" level=(debug|info|warning|error) msg=/#
        for line in log.split(separator: "\n") { #expect(line.firstMatch(of: pattern) != nil, "\(line)") }
        #expect(log.contains("msg=\"tetherd started\""), "\(log)")

        // A restarted tetherd says it reconnected to the container's (new) shim.
        daemon.kill9()
        try daemon.start()
        #expect(Self.lines(daemon.logText, message: "reconnected to the shim of a running container", id: id).count == 1, "\(daemon.logText)")
        #expect(try daemon.ctl(["rm", "-f", "logged"]).status == 0)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func infoLeavesDebugOutAndAStopIsLogged() throws {
        let daemon = try DaemonFixture()
        let run = try daemon.ctl(["run", "-d", "--name", "quiet", "--restart", "on-failure", Self.rootfs, "/bin/sh", "-c", "exit 3"])
        #expect(run.status == 0, "\(run)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(waitUntil(timeout: 10) {
            !Self.lines(daemon.logText, message: "restarting by the restart policy", id: id).isEmpty
        }, "\(daemon.logText)")
        #expect(!daemon.logText.contains("level=debug"), "\(daemon.logText)")
        #expect(try daemon.ctl(["rm", "-f", "quiet"]).status == 0)
        let process = try #require(daemon.process)
        process.terminate()
        process.waitUntilExit()
        daemon.process = nil
        let log = daemon.logText
        #expect(log.contains("level=info msg=\"tetherd stopping\" signal=SIGTERM"), "\(log)")
        #expect(log.contains("level=info msg=\"tetherd stopped\""), "\(log)")
    }

    @Test("an unknown --log-level is refused, naming the flag")
    func unknownLevel() throws {
        let result = try runCommand(TestEnvironment.binary("tetherd"), ["--log-level", "loud", "--root", "/nonexistent-tether"], timeout: 10)
        #expect(result.status == 2, "a usage error, as every other bad flag of tetherd")
        #expect(result.stderr.contains("--log-level loud"), "\(result)")
    }
}
