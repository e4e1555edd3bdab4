#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import TetherSystem

/// Where a container process's standard streams go, as a task request names them: FIFO paths (what ctr and
/// tetherd create), `file:///path` log files, `binary:///path?args` logger processes, `cri:///path?max-size=N`
/// CRI-format log files, or nothing (/dev/null). The shim holds every end:
/// - stdout/stderr to a FIFO: a pipe the shim splices into the FIFO (a slow reader holds the workload back, a
///   dead one does not: see OutputRelay);
/// - stdout/stderr to a `file://` log: a pipe whose read end the shim appends to the file (see LogFileWriter):
///   the process never holds a host file, so it cannot seek, truncate or rewrite the log;
/// - stdout/stderr to a `binary://` logger: its pipes (fds 3 and 4 of the logger) are the process's streams;
/// - stdout/stderr to a `cri://` log: a pipe whose read end the shim turns into CRI records (see CRILogWriter);
/// - stdin from a FIFO: relayed into a pipe that CloseIO closes;
/// - terminal: the pty master (received on the console socket) relayed both ways (its output to the stdout FIFO,
///   `file://` or `cri://` log); ResizePty sets its size.
final class ProcessStdio {
    let stdinPath: String
    let stdoutPath: String
    let stderrPath: String
    let terminal: Bool
    private unowned let loop: EventLoop

    /// The descriptors the child receives as 0, 1, 2 (closed in the shim once the child has them).
    private(set) var childStdin: Int32?
    private(set) var childStdout: Int32?
    private(set) var childStderr: Int32?
    /// The shim's end of the console socket pair; the child's end is `consoleSocketForChild`.
    private(set) var consoleSocket: Int32?
    private(set) var consoleSocketForChild: Int32?

    private(set) var master: Int32?
    private var outputs: [OutputRelay] = []
    private var input: InputRelay?
    private var stdinWriteEnd: Int32?

    private let containerID: String
    private let namespace: String
    private var criLog: CRILogWriter?
    private var fileLogs: [LogFileWriter] = []
    private var binaryLoggerStreams: (stdout: Int32, stderr: Int32)?
    /// The logger process, when stdout or stderr went to a `binary://` logger (reaped like any orphan).
    private(set) var loggerPid: Int32?

    init(loop: EventLoop, stdin: String, stdout: String, stderr: String, terminal: Bool,
         containerID: String = "", namespace: String = "") throws {
        self.loop = loop
        self.containerID = containerID
        self.namespace = namespace
        self.stdinPath = stdin
        self.stdoutPath = stdout
        self.stderrPath = stderr
        self.terminal = terminal
        do {
            try prepare()
        } catch {
            closeAll()
            throw error
        }
    }

    private func prepare() throws {
        if terminal {
            let (mine, theirs) = try FileIO.socketPair(type: Int32(SOCK_STREAM.rawValue))
            consoleSocket = mine
            consoleSocketForChild = theirs
            _ = try logWriter(stdoutPath, stream: "stdout")  // a bad log fails Create; the pty is relayed to it later
            return
        }
        if !stdinPath.isEmpty {
            let fifo = try ProcessStdio.openStdinFIFO(stdinPath)
            let (read, write) = try FileIO.pipe()
            childStdin = read
            stdinWriteEnd = write
            try FileIO.setNonblocking(write)
            input = try InputRelay(loop: loop, source: fifo, sink: write, closeSinkOnEnd: true)
        }
        childStdout = try output(stdoutPath, stream: "stdout")
        childStderr = try output(stderrPath, stream: "stderr")
        if let streams = binaryLoggerStreams {
            // A stream that does not name the logger does not use its pipe.
            if !stdoutPath.hasPrefix("binary://") { FileIO.close(streams.stdout) }
            if !stderrPath.hasPrefix("binary://") { FileIO.close(streams.stderr) }
            binaryLoggerStreams = nil
        }
    }

    /// The descriptor the child writes to for `destination`, setting up the relay when needed.
    private func output(_ destination: String, stream: String) throws -> Int32? {
        if destination.isEmpty { return nil }
        if destination.hasPrefix("binary://") {
            if binaryLoggerStreams == nil {
                let started = try BinaryLogger.start(try BinaryLogger.parse(destination), containerID: containerID,
                                                     namespace: namespace)
                binaryLoggerStreams = (started.stdout, started.stderr)
                loggerPid = started.pid
            }
            guard let streams = binaryLoggerStreams else { return nil }
            return stream == "stdout" ? streams.stdout : streams.stderr
        }
        if let log = try logWriter(destination, stream: stream) {
            let (read, write) = try FileIO.pipe()
            _ = tether_pipe_size(read, 1 << 20)
            let relay = try OutputRelay(loop: loop, source: read, consumer: log.append)
            relay.onClose = log.finish
            outputs.append(relay)
            return write
        }
        let fifo = try ProcessStdio.openFIFO(destination)
        let (read, write) = try FileIO.pipe()
        _ = tether_pipe_size(read, 1 << 20)
        try FileIO.setNonblocking(fifo)
        outputs.append(try OutputRelay(loop: loop, source: read, sink: fifo, ownsSink: true))
        return write
    }

    /// The writer of a `cri://` or `file://` log for `stream` (what it is handed, and what it does at the
    /// stream's end); nil for other destinations. stdout and stderr naming the same file share its writer.
    private func logWriter(_ destination: String, stream: String) throws
        -> (append: (UnsafeRawBufferPointer) -> Void, finish: () -> Void)? {
        if destination.hasPrefix("cri://") {
            let options = try CRILogWriter.parse(destination)
            let writer: CRILogWriter
            if let criLog, criLog.options.path == options.path {
                writer = criLog
            } else {
                writer = try CRILogWriter(options)
                criLog = writer
            }
            return ({ bytes in writer.append(stream: stream, bytes) }, { writer.finish(stream: stream) })
        }
        if destination.hasPrefix("file://") {
            let options = try LogFileWriter.parse(destination)
            let writer: LogFileWriter
            if let shared = fileLogs.first(where: { $0.options.path == options.path }) {
                writer = shared
            } else {
                writer = try LogFileWriter(options)
                fileLogs.append(writer)
            }
            return (writer.append, {})
        }
        return nil
    }

    /// The stdin FIFO, as containerd's runc shim opens it: O_RDONLY|O_NONBLOCK never blocks, and the loop only
    /// reads when epoll says so: nothing before a writer connects, EOF (HUP) once the last writer has gone,
    /// which closes the process's stdin (for a terminal the pty stays open).
    static func openStdinFIFO(_ path: String) throws -> Int32 {
        try FileIO.open(path, O_RDONLY | O_NONBLOCK)
    }

    /// stdout/stderr FIFOs are opened read-write (containerd's shim opens a read side next to its writer for the
    /// same reason): the open never blocks whether or not a reader is there yet, a write never gets EPIPE when a
    /// reader leaves, and the FIFO stays usable when a client goes away and a new one attaches.
    static func openFIFO(_ path: String) throws -> Int32 {
        try FileIO.open(path, O_RDWR | O_NONBLOCK)
    }

    /// After the runtime created the process: close the child's ends here and, for a terminal, receive the
    /// pty master from the console socket and start relaying it.
    func childStarted() throws {
        for fd in [childStdin, childStdout, childStderr, consoleSocketForChild].compactMap({ $0 }) { FileIO.close(fd) }
        childStdin = nil
        childStdout = nil
        childStderr = nil
        consoleSocketForChild = nil
        guard terminal, let consoleSocket else { return }
        let message = try UnixSocket.receive(consoleSocket, capacity: 4096)
        FileIO.close(consoleSocket)
        self.consoleSocket = nil
        guard let received = message.fds.first else {
            throw SyscallError("console socket: no pty master received", errno: EPROTO)
        }
        master = received
        try FileIO.setNonblocking(received)
        if let log = try logWriter(stdoutPath, stream: "stdout") {
            let relay = try OutputRelay(loop: loop, source: received, consumer: log.append)
            relay.onClose = log.finish
            outputs.append(relay)
        } else {
            let sink = stdoutPath.isEmpty ? nil : try? ProcessStdio.openFIFO(stdoutPath)
            outputs.append(try OutputRelay(loop: loop, source: received, sink: sink, ownsSink: true))
        }
        if !stdinPath.isEmpty {
            let fifo = try ProcessStdio.openStdinFIFO(stdinPath)
            input = try InputRelay(loop: loop, source: fifo, sink: received, closeSinkOnEnd: false)
        }
    }

    func resize(width: UInt32, height: UInt32) throws {
        guard let master else { throw SyscallError("resize: process has no terminal", errno: ENOTTY) }
        try TerminalSize(height: height, width: width).apply(to: master)
    }

    /// CloseIO: the process sees EOF on stdin (for a terminal: an end-of-file character).
    func closeStdin() {
        if let input {
            input.close()
            self.input = nil
        }
        if terminal, let master {
            var eot: UInt8 = 4
            _ = Glibc.write(master, &eot, 1)
        }
    }

    /// Copies what the process wrote and is still buffered; called when it exits.
    func drain() {
        for relay in outputs where !relay.isClosed { relay.drain() }
    }

    /// Whether stdout or stderr goes to a `file://` log (what tetherd asks for): its dropped bytes are reported.
    var writesLogFiles: Bool { !fileLogs.isEmpty }

    /// Bytes the process wrote that no reader or log got: a FIFO that stayed full, a log write that failed.
    var droppedBytes: Int {
        outputs.reduce(0) { $0 + $1.droppedBytes } + fileLogs.reduce(0) { $0 + $1.droppedBytes } + (criLog?.droppedBytes ?? 0)
    }

    func closeAll() {
        input?.close()
        input = nil
        for relay in outputs { relay.closeWhenDrained() }
        outputs.removeAll()
        for fd in [childStdin, childStdout, childStderr, consoleSocket, consoleSocketForChild].compactMap({ $0 }) { FileIO.close(fd) }
        childStdin = nil
        childStdout = nil
        childStderr = nil
        consoleSocket = nil
        consoleSocketForChild = nil
        master = nil  // closed by its relay
    }
}
