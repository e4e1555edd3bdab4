import Foundation
import Testing

/// Terminal sessions through tetherctl on a real pty: attach, exec -t/-it, window size changes, and the local
/// terminal's modes given back when tetherctl is terminated.
extension DaemonInteractiveTests {
    static func tetherctl(_ daemon: DaemonFixture, _ command: String, _ arguments: [String]) -> [String] {
        [TestEnvironment.binary("tetherctl"), command, "--socket", daemon.socket] + arguments
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func attachToAnInteractiveTerminalContainer() throws {
        let daemon = try DaemonFixture()
        let run = try daemon.ctl(["run", "-d", "-i", "-t", "--name", "shell", Self.rootfs, "/bin/sh"])
        #expect(run.status == 0, "\(run)")
        let terminal = try PseudoTerminal(Self.tetherctl(daemon, "attach", ["shell"]), rows: 24, columns: 80)
        // The prompt was written before the attach (attach shows what comes next): the input waits in the pty.
        try terminal.type("echo $((6*7))\n")
        #expect(terminal.read(until: "42\r\n"), "\(terminal.output)")
        try terminal.type("exit 4\n")
        #expect(terminal.wait() == 4, "\(terminal.output)")
        #expect(try Self.state(daemon, "shell")["ExitCode"] as? Int == 4)
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func attachFollowsTheLiveOutputOfABackgroundContainer() throws {
        let daemon = try DaemonFixture()
        _ = try daemon.ctl(["run", "-d", "--name", "ticker", Self.rootfs, "/bin/sh", "-c",
                            "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 1; done"])
        var logs = ""
        for _ in 0..<100 where !logs.contains("tick-1\n") {
            usleep(100_000)
            logs = try daemon.ctl(["logs", "ticker"]).stdout
        }
        let terminal = try PseudoTerminal(Self.tetherctl(daemon, "attach", ["ticker"]), rows: 24, columns: 80)
        #expect(terminal.read(until: "tick-3"), "\(terminal.output)")
        #expect(!terminal.output.contains("tick-0"), "attach replayed old output: \(terminal.output)")
        _ = try daemon.ctl(["kill", "ticker"])
        #expect(terminal.wait() == 137, "\(terminal.output)")

        let unknown = try daemon.ctl(["attach", "nope"])
        #expect(unknown.status == 1, "\(unknown)")
        #expect(unknown.stderr == "tetherctl: no such container: nope\n", "\(unknown)")
        let stopped = try daemon.ctl(["attach", "ticker"])
        #expect(stopped.status == 1, "\(stopped)")
        #expect(stopped.stderr.contains("cannot attach to a stopped container"), "\(stopped)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func execWithATerminal() throws {
        let daemon = try DaemonFixture()
        _ = try daemon.ctl(["run", "-d", "--name", "box", Self.rootfs, "/bin/sleep", "1000"])
        let interactive = try PseudoTerminal(
            Self.tetherctl(daemon, "exec", ["-it", "box", "/bin/sh", "-c", "test -t 0 && echo tty; stty size; exit 5"]),
            rows: 27, columns: 99)
        #expect(interactive.wait() == 5, "\(interactive.output)")
        #expect(interactive.output.contains("tty\r\n"), "\(interactive.output)")
        #expect(interactive.output.contains("27 99\r\n"), "\(interactive.output)")
        let outputOnly = try PseudoTerminal(
            Self.tetherctl(daemon, "exec", ["-t", "box", "/bin/sh", "-c", "test -t 1 && echo out-tty; stty size; exit 2"]),
            rows: 31, columns: 101)
        #expect(outputOnly.wait() == 2, "\(outputOnly.output)")
        // Without -i the local terminal is not made raw (as docker): it adds its own CR to the container's CR LF.
        #expect(outputOnly.output.contains("out-tty\r\r\n"), "\(outputOnly.output)")
        #expect(outputOnly.output.contains("31 101\r\r\n"), "\(outputOnly.output)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func aTerminalStartsWithTheLocalTerminalsSize() throws {
        let daemon = try DaemonFixture()
        // Detached: no client resizes the pty afterwards, so the size is the one it was created with.
        let terminal = try PseudoTerminal(
            Self.tetherctl(daemon, "run", ["-d", "-t", "--name", "sized", Self.rootfs, "/bin/sh", "-c", "stty size"]),
            rows: 37, columns: 113)
        #expect(terminal.wait() == 0, "\(terminal.output)")
        #expect(try daemon.ctl(["wait", "sized"]).stdout == "0\n")
        let logs = try daemon.ctl(["logs", "sized"])
        #expect(logs.stdout == "37 113\r\n", "\(logs)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func theContainersTerminalFollowsTheWindowSize() throws {
        let daemon = try DaemonFixture()
        let terminal = try PseudoTerminal(Self.tetherctl(daemon, "run", ["-it", "--rm", Self.rootfs, "/bin/sh"]), rows: 20, columns: 70)
        #expect(terminal.read(until: "# "), "no prompt: \(terminal.output)")
        try terminal.type("stty size\n")
        #expect(terminal.read(until: "20 70\r\n"), "\(terminal.output)")
        try terminal.resize(rows: 41, columns: 132)
        // SIGWINCH from the kernel to tetherctl, which passes the size on; a command after that sees it.
        var followed = false
        for _ in 0..<40 where !followed {
            try terminal.type("stty size\n")
            followed = terminal.read(until: "41 132\r\n", timeout: 0.5)
        }
        #expect(followed, "\(terminal.output)")
        try terminal.type("exit\n")
        #expect(terminal.wait() == 0, "\(terminal.output)")
    }

    @Test(.enabled(if: TestEnvironment.canRunContainers, "needs root and the busybox rootfs"))
    func sigtermRestoresTheLocalTerminal() throws {
        let daemon = try DaemonFixture()
        let terminal = try PseudoTerminal(Self.tetherctl(daemon, "run", ["-it", "--name", "raw", Self.rootfs, "/bin/sh"]),
                                          rows: 24, columns: 80)
        #expect(terminal.read(until: "# "), "no prompt: \(terminal.output)")
        let raw = try terminal.modes()
        #expect(raw.c_lflag & tcflag_t(ECHO | ICANON | ISIG) == 0, "the session's terminal is not raw")
        kill(terminal.pid, SIGTERM)
        #expect(terminal.wait() == 128 + SIGTERM, "\(terminal.output)")
        // A new pty's modes, as they were before tetherctl made it raw.
        let restored = try terminal.modes()
        #expect(restored.c_lflag & tcflag_t(ECHO | ICANON | ISIG) == tcflag_t(ECHO | ICANON | ISIG))
        #expect(restored.c_iflag & tcflag_t(ICRNL) != 0)
        #expect(restored.c_oflag & tcflag_t(OPOST | ONLCR) == tcflag_t(OPOST | ONLCR))
        // The container outlives its client.
        #expect(try Self.state(daemon, "raw")["Status"] as? String == "running")
    }
}
