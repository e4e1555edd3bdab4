#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// Keeps a `-t` container's output in its log: the shim copies the pty master to the bundle's `terminal` FIFO
/// (a pty cannot be a `file://` log), and this appends what the FIFO carries to `container.log` on the daemon's
/// loop, so `logs` and attached clients read tty containers like the others. The FIFO is opened read-write:
/// the open never blocks and the FIFO never reports end-of-file between tasks of a restarted container.
final class TerminalLog {
    private let fifo: Int32
    private let log: Int32
    private unowned let loop: EventLoop
    private var buffer = [UInt8](repeating: 0, count: 65536)

    init(loop: EventLoop, fifo path: String, log logPath: String) throws {
        self.loop = loop
        fifo = try FileIO.open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        do {
            log = try FileIO.open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode: 0o640)
        } catch {
            FileIO.close(fifo)
            throw error
        }
        try loop.register(fifo, .readable) { [weak self] _ in self?.drain() }
    }

    /// Appends everything the FIFO holds now (called on readable and before an exit is reported).
    func drain() {
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fifo, $0.baseAddress, $0.count) }
            if n > 0 {
                try? FileIO.writeAll(log, Array(buffer[0..<n]))
                continue
            }
            if n < 0 && errno == EINTR { continue }
            return
        }
    }

    func close() {
        drain()
        loop.unregister(fifo)
        FileIO.close(fifo)
        FileIO.close(log)
    }
}
