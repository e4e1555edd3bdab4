#if canImport(Glibc)
import Glibc
#endif
import TetherFlags
import TetherSystem

/// Streams a task's FIFOs to this terminal: stdout/stderr FIFOs to our stdout/stderr, our stdin to the stdin
/// FIFO. With --tty the local terminal is put in raw mode while attached.
struct Attach: HarnessCommand {
    static let syntax = CommandSyntax.harness(
        "attach", "Stream a task's stdio FIFOs.", target: false,
        flags: [Flag("--stdin", value: "PATH", help: "stdin FIFO path."),
                Flag("--stdout", value: "PATH", help: "stdout FIFO path."),
                Flag("--stderr", value: "PATH", help: "stderr FIFO path."),
                Flag("--tty", help: "Put the local terminal in raw mode.")])
    let stdin: String?
    let stdout: String?
    let stderr: String?
    let tty: Bool

    init(_ arguments: ParsedFlags) {
        stdin = arguments.value("--stdin")
        stdout = arguments.value("--stdout")
        stderr = arguments.value("--stderr")
        tty = arguments.isSet("--tty")
    }

    func run() throws {
        let raw = tty ? RawTerminal(fd: 0) : nil
        raw?.enable()
        defer { raw?.restore() }
        let loop = try EventLoop()
        var open = 0
        var outputs = 0
        func copy(from source: Int32, to sink: Int32, onEnd: @escaping () -> Void) throws {
            open += 1
            outputs += 1
            try loop.register(source, .readable) { _ in
                var buffer = [UInt8](repeating: 0, count: 65536)
                let n = buffer.withUnsafeMutableBytes { Glibc.read(source, $0.baseAddress, $0.count) }
                if n > 0 {
                    try? FileIO.writeAll(sink, Array(buffer[0..<n]))
                } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                    loop.unregister(source)
                    onEnd()
                    open -= 1
                    outputs -= 1
                    // The process's output ended: it exited; stop even if our stdin is still open.
                    if open == 0 || outputs == 0 { loop.stop() }
                }
            }
        }
        // Output FIFOs are opened read-only: EOF arrives when the shim closes its end (the process exited).
        if let stdout { try copy(from: try FileIO.open(stdout, O_RDONLY), to: 1) {} }
        if let stderr { try copy(from: try FileIO.open(stderr, O_RDONLY), to: 2) {} }
        if let stdin {
            let fifo = try FileIO.open(stdin, O_WRONLY)
            let relayStdin: EventLoop.Handler = { _ in
                var buffer = [UInt8](repeating: 0, count: 65536)
                let n = buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
                if n > 0 {
                    try? FileIO.writeAll(fifo, Array(buffer[0..<n]))
                } else {
                    loop.unregister(0)
                    FileIO.close(fifo)
                    open -= 1
                    if open == 0 { loop.stop() }
                }
            }
            if (try? loop.register(0, .readable, handler: relayStdin)) != nil {
                open += 1
            } else {
                // Not pollable (a regular file, /dev/null): copy it all now; EOF closes the FIFO.
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    try? FileIO.writeAll(fifo, Array(buffer[0..<n]))
                }
                FileIO.close(fifo)
                if outputs == 0 { return }
            }
        }
        if open == 0 { throw FlagError(command: "attach", "nothing to attach: give --stdin, --stdout or --stderr") }
        try loop.run()
    }
}
