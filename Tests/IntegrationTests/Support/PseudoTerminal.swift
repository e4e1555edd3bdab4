import CTetherLinux
import Foundation
import TetherSystem

/// A command run with a new pseudo-terminal as its stdio, driven from the master side as a user at a terminal
/// would. The child starts through bash, which closes every fd above 2; it leads a session of its own whose
/// controlling terminal is the pty, so a size change (`resize`) signals it SIGWINCH as a terminal window's does.
final class PseudoTerminal {
    let master: Int32
    let pid: pid_t
    private(set) var output = ""
    private(set) var exitStatus: Int32?
    /// glibc's POSIX_SPAWN_SETSID (a _GNU_SOURCE constant the Glibc module does not show).
    private static let spawnSetsid: Int16 = 0x80

    init(_ argv: [String], rows: Int, columns: Int) throws {
        let master = try FileIO.open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        self.master = master
        let slave: Int32
        do {
            _ = try sys("ioctl TIOCSPTLCK") { tether_unlock_pt(master) }
            _ = try sys("ioctl TIOCSWINSZ") { tether_set_winsize(master, UInt16(rows), UInt16(columns)) }
            slave = try sys("ioctl TIOCGPTPEER") { tether_pty_peer(master, O_RDWR | O_NOCTTY) }
        } catch {
            FileIO.close(master)
            throw error
        }
        defer { FileIO.close(slave) }
        let slavePath = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(slave)")
        // In its new session, bash opens the pty by name (without O_NOCTTY): it becomes the controlling terminal.
        let script = #"for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-" 2>/dev/null; done; "#
            + #"exec 3<>"$1"; exec 3>&-; shift; exec "$@""#
        let arguments = ["/bin/bash", "-c", script, "bash", slavePath] + argv
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, PseudoTerminal.spawnSetsid)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, slave, 0)
        posix_spawn_file_actions_adddup2(&actions, slave, 1)
        posix_spawn_file_actions_adddup2(&actions, slave, 2)
        let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"]
        let cArguments = arguments.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, "/bin/bash", &actions, &attributes, cArguments, cEnvironment)
        guard rc == 0 else {
            FileIO.close(master)
            throw SyscallError("posix_spawn", errno: rc)
        }
        pid = child
    }

    func type(_ text: String) throws { try FileIO.writeAll(master, text) }

    /// Sets the terminal's size as a terminal emulator does when its window changes: the kernel sends SIGWINCH to
    /// the terminal's foreground process group, the command's.
    func resize(rows: Int, columns: Int) throws {
        _ = try sys("ioctl TIOCSWINSZ") { tether_set_winsize(master, UInt16(rows), UInt16(columns)) }
    }

    /// The terminal's modes (the termios calls on a pty master read and set its slave's).
    func modes() throws -> termios {
        var modes = termios()
        _ = try sys("tcgetattr") { tcgetattr(master, &modes) }
        return modes
    }

    /// Reads until the output contains `text` or the child exited; false at the deadline.
    @discardableResult
    func read(until text: String? = nil, timeout: TimeInterval = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            if let text, output.contains(text) { return true }
            var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 50) > 0 {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
                if n > 0 {
                    output += String(decoding: buffer[0..<n], as: UTF8.self)
                    continue
                }
                usleep(10_000)  // EIO: every slave fd closed
            }
            if reap() { return text.map(output.contains) ?? true }
        }
        return false
    }

    /// Waits for the child (killing it at the deadline); its exit status.
    func wait(timeout: TimeInterval = 30) -> Int32 {
        if !read(until: nil, timeout: timeout) {
            kill(pid, SIGKILL)
            while !reap() { usleep(10_000) }
        }
        return exitStatus ?? -1
    }

    private func reap() -> Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return false }
        exitStatus = ProcessSupport.exitStatus(fromWaitStatus: status)
        return true
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        close(master)
    }
}
