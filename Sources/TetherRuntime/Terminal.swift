#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import OCISpec
import TetherSystem

/// `process.terminal`: a pty from the container's own devpts; the slave becomes stdio and controlling tty,
/// the master goes to whoever listens on the console socket (one message, "/dev/ptmx" as payload and the
/// master fd via SCM_RIGHTS: runc's format, which containerd-shim-runc-v2 and conmon read).
enum Terminal {
    static func setUp(size: OCISpec.Process.ConsoleSize?, consoleSocket: Int32?) throws(InitFailure) {
        guard let consoleSocket else { throw InitFailure("terminal", "process.terminal requires a console socket") }
        let master = try step("open pty") { try FileIO.open("/dev/ptmx", O_RDWR | O_NOCTTY) }
        defer { FileIO.close(master) }
        try step("unlock pty") { try check(tether_unlock_pt(master), "ioctl TIOCSPTLCK") }
        let slave = try step("open pty slave") {
            try sys("ioctl TIOCGPTPEER") { tether_pty_peer(master, O_RDWR | O_NOCTTY | O_CLOEXEC) }
        }
        defer { FileIO.close(slave) }
        if let size {
            try step("console size") { try TerminalSize(height: size.height, width: size.width).apply(to: master) }
        }
        // /dev/console is the pty, as in runc.
        try step("dev console") {
            var name = [CChar](repeating: 0, count: 256)
            let n = readlink("/proc/self/fd/\(slave)", &name, 255)
            try check(n < 0 ? -1 : 0, "readlink pty slave")
            let path = String(decoding: name[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
            if fd >= 0 {
                close(fd)
                try check(mount(path, "/dev/console", nil, MountFlag.bind, nil), "bind mount \(path) on /dev/console")
            }
        }
        try step("send console") {
            try UnixSocket.send(consoleSocket, Array("/dev/ptmx".utf8), fds: [master])
        }
        try step("terminal stdio") {
            for target in Int32(0)...2 { try sys("dup2 pty") { dup2(slave, target) } }
            try check(tether_set_ctty(0), "ioctl TIOCSCTTY")
        }
        FileIO.close(consoleSocket)
    }
}
