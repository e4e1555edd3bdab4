#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TTRPC
import TetherAPI
import TetherSystem

/// Connects the local stdio to a container's or an exec's until it exits, and returns its exit code:
/// - output: the container's log (followed from an offset, and on into the new log when the shim rotates it) or
///   an exec's stdout/stderr FIFOs, polled every 10 ms;
/// - input: the local stdin copied to the stdin FIFO; its end closes the FIFO, which the process sees as EOF;
/// - with a terminal: the local terminal in raw mode (restored on every way out, SIGTERM and SIGHUP included)
///   and its size sent to the process's pty at the start and on every SIGWINCH;
/// - the exit: a Wait (or WaitExec) held on tetherd; the output is drained once more after it.
final class AttachSession {
    struct Output {
        var source: Int32
        let destination: Int32
        /// For a log: its path, reopened when the file there is no longer the one read (the shim rotated it).
        var logPath: String? = nil
    }

    let daemon: Tetherd
    var outputs: [Output] = []
    var stdinFIFO: String?
    /// Set for a terminal: the container (and exec) whose pty follows the local size.
    var resize: Tether_Daemon_V1_ResizeRequest?

    init(daemon: Tetherd) { self.daemon = daemon }

    /// Follows the log at `path` from `offset` to stdout (nothing when there is no log).
    func follow(log path: String, from offset: Int64 = 0) {
        guard let fd = try? FileIO.open(path, O_RDONLY | O_CLOEXEC) else { return }
        follow(log: path, descriptor: fd, from: offset)
    }

    /// Follows the open log `fd` (the session closes it) from `offset`, and on across rotations of `path`.
    func follow(log path: String, descriptor fd: Int32, from offset: Int64) {
        _ = lseek(fd, off_t(offset), SEEK_SET)
        outputs.append(Output(source: fd, destination: 1, logPath: path))
    }

    /// Reads the FIFO at `path` to `destination` (1 or 2); opening never blocks (the shim holds a writer).
    func read(fifo path: String, to destination: Int32) throws {
        outputs.append(Output(source: try FileIO.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), destination: destination))
    }

    /// Runs until `method` (Wait or WaitExec) answers; returns the exit code (125 when tetherd failed).
    func run<Request>(waitingWith method: TTRPCMethod<Request, Tether_Daemon_V1_WaitResponse>, _ request: Request) throws -> Int32 {
        let loop = try EventLoop()
        let terminal = RawTerminal(fd: 0)
        defer {
            terminal.restore()
            for output in outputs { FileIO.close(output.source) }
        }
        var exitCode: Int32?
        let client = try TTRPCLoopClient(loop: loop, path: daemon.socket)
        defer { client.close() }
        client.call(method, request) { result in
            exitCode = (try? result.get().exitCode) ?? 125
            loop.stop()
        }
        loop.schedule(after: 10, repeating: true) { [self] in drainOutputs() }
        let input = try stdinFIFO.map { try StdinRelay(loop: loop, fifo: $0) }
        defer { input?.close() }
        let handled = [SIGWINCH, SIGTERM, SIGHUP]
        try SignalFD.block(handled)
        let signals = SignalSource(try SignalFD(handled))
        if resize != nil {
            if input != nil { terminal.enable() }
            sendSize()
        }
        try loop.register(signals.fd, .readable) { [self] _ in
            for signal in signals.drain() {
                if signal == SIGWINCH {
                    sendSize()
                } else {
                    exitCode = 128 + signal
                    loop.stop()
                }
            }
        }
        try loop.run()
        loop.unregister(signals.fd)
        drainOutputs()
        return exitCode ?? 125
    }

    private func sendSize() {
        guard var resize, let size = TerminalMode.localSize else { return }
        resize.height = UInt32(size.rows)
        resize.width = UInt32(size.columns)
        _ = try? daemon.call(DaemonService.resize, resize)
    }

    private func drainOutputs() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        for index in outputs.indices {
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(outputs[index].source, $0.baseAddress, $0.count) }
                if n > 0 {
                    try? FileIO.writeAll(outputs[index].destination, Array(buffer[0..<n]))
                    continue
                }
                // At the end of a log that was rotated away: on to the new one, from its start.
                guard n == 0, let path = outputs[index].logPath, let next = AttachSession.rotated(outputs[index].source, path)
                else { break }
                FileIO.close(outputs[index].source)
                outputs[index].source = next
            }
        }
    }

    /// The file now at `path`, opened, when it is not the one `fd` reads (nil when it is, or there is none).
    private static func rotated(_ fd: Int32, _ path: String) -> Int32? {
        var reading = stat(), current = stat()
        guard fstat(fd, &reading) == 0, stat(path, &current) == 0,
              reading.st_ino != current.st_ino || reading.st_dev != current.st_dev else { return nil }
        return try? FileIO.open(path, O_RDONLY | O_CLOEXEC)
    }
}

/// Copies the local stdin to a stdin FIFO on the loop; at the local end of input the FIFO is closed, which the
/// container sees as end of file. A stdin that epoll cannot watch (a regular file, /dev/null) is copied at once.
final class StdinRelay {
    private var fifo: Int32?
    private unowned let loop: EventLoop
    private var watching = false

    init(loop: EventLoop, fifo path: String) throws {
        self.loop = loop
        // The process's reader is there while it runs; ENXIO: it already exited, and nothing is sent.
        guard let fd = try? FileIO.open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC) else { return }
        try FileIO.setNonblocking(fd, false)
        fifo = fd
        do {
            try loop.register(0, .readable) { [weak self] _ in self?.copy() }
            watching = true
        } catch {
            while copy() {}
        }
    }

    /// Copies one chunk; false at the end of input (the FIFO is closed then).
    @discardableResult
    private func copy() -> Bool {
        guard let fifo else { return false }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
        if n < 0 && (errno == EINTR || errno == EAGAIN) { return true }
        if n > 0, (try? FileIO.writeAll(fifo, Array(buffer[0..<n]))) != nil { return true }
        close()
        return false
    }

    func close() {
        if watching {
            loop.unregister(0)
            watching = false
        }
        if let fifo { FileIO.close(fifo) }
        fifo = nil
    }
}

/// A signalfd the loop's handler can hold (SignalFD is not copyable).
final class SignalSource {
    private let signals: SignalFD
    var fd: Int32 { signals.fd }

    init(_ signals: consuming SignalFD) { self.signals = signals }

    func drain() -> [Int32] { signals.drain() }
}
