import Foundation
import Testing

/// Issue 4: `tether-runtime exec` beyond the basics in RuntimeTests: a terminal over the console socket,
/// detached execs with a pid file, and PID 1's protection from SIGKILL sent inside its own namespace.
@Suite("tether-runtime exec")
struct RuntimeExecTests {
    typealias Fixture = RuntimeTests.Fixture

    /// A running `sleep 100` container; the caller deletes it.
    static func runningContainer() throws -> (Fixture, String) {
        let fixture = try Fixture(args: ["/bin/sleep", "100"])
        let id = uniqueID()
        let run = try fixture.runDetached(["run", "-d", "-b", fixture.bundle, id])
        try #require(run.status == 0, "\(run)")
        return (fixture, id)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func execWithATerminalGetsAWorkingTty() throws {
        let (fixture, id) = try Self.runningContainer()
        defer { _ = try? fixture.run(["delete", "-f", id]) }
        let console = try ConsoleSocket(path: fixture.directory.path + "/exec-console.sock")
        let exec = try fixture.runDetached([
            "exec", "-t", "-d", "--console-socket", console.path, id, "/bin/sh", "-c", "test -t 0 && echo exec-tty; tty; sleep 1",
        ])
        #expect(exec.status == 0, "\(exec)")
        let received = try #require(try console.receiveMaster(), "the exec's pty master on the console socket")
        defer { close(received.master) }
        let output = ConsoleSocket.read(received.master) { $0.contains("exec-tty") && $0.contains("/dev/pts/") }
        #expect(output.contains("exec-tty"), "\(output)")
        #expect(output.contains("/dev/pts/"), "\(output)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func killDash9Of1FromInsideLeavesTheContainerRunning() throws {
        let (fixture, id) = try Self.runningContainer()
        defer { _ = try? fixture.run(["delete", "-f", id]) }
        let pid = try fixture.state(id)?["pid"] as? Int ?? 0
        let exec = try fixture.run(["exec", id, "/bin/sh", "-c", "kill -9 1; sleep 0.3; echo still-here"])
        #expect(exec.status == 0, "\(exec)")
        #expect(exec.stdout.contains("still-here"), "\(exec)")
        #expect(try fixture.state(id)?["status"] as? String == "running")
        #expect(kill(Int32(pid), 0) == 0, "the init \(pid) is alive")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aDetachedExecWritesItsPidFile() throws {
        let (fixture, id) = try Self.runningContainer()
        defer { _ = try? fixture.run(["delete", "-f", id]) }
        let pidFile = fixture.directory.path + "/exec.pid"
        let exec = try fixture.runDetached(["exec", "-d", "--pid-file", pidFile, id, "/bin/sleep", "30"])
        #expect(exec.status == 0, "\(exec)")
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let pid = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), "pid file: \(text)")
        #expect(kill(pid, 0) == 0, "the exec'd process \(pid) runs")
        // As with runc, the pid may be written just before the process's own execve.
        var comm = ""
        for _ in 0..<100 where !comm.hasPrefix("sleep") {
            comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
            if !comm.hasPrefix("sleep") { usleep(20_000) }
        }
        #expect(comm.hasPrefix("sleep"), "\(comm)")
        let ps = try fixture.run(["ps", "-f", "json", id])
        #expect(ps.stdout.contains("\(pid)"), "ps lists the exec: \(ps)")
    }
}
