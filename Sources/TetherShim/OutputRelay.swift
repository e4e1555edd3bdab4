#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// Copies one readable descriptor (a pipe from the container, or the pty master) to a sink descriptor
/// (a FIFO or a file) on the event loop. The sink is written non-blockingly: when it cannot take more
/// (a reader that stopped reading, or is gone), the bytes are dropped and counted, so a dead reader never
/// wedges the workload. A source EOF unregisters and closes the source (and the sink, if owned).
final class OutputRelay {
    let source: Int32
    let sink: Int32?
    private let ownsSink: Bool
    private unowned let loop: EventLoop
    private(set) var droppedBytes = 0
    private(set) var copiedBytes = 0
    private(set) var isClosed = false
    var onClose: (() -> Void)?
    /// Instead of a sink: a consumer of every chunk read (the CRI log writer).
    private let consumer: ((ArraySlice<UInt8>) -> Void)?
    private static let chunk = 65536
    private var buffer = [UInt8](repeating: 0, count: OutputRelay.chunk)

    init(loop: EventLoop, source: Int32, sink: Int32?, ownsSink: Bool) throws {
        self.loop = loop
        self.source = source
        self.sink = sink
        self.ownsSink = ownsSink
        self.consumer = nil
        try FileIO.setNonblocking(source)
        try loop.register(source, .readable) { [weak self] _ in self?.pump(limit: 16) }
    }

    init(loop: EventLoop, source: Int32, consumer: @escaping (ArraySlice<UInt8>) -> Void) throws {
        self.loop = loop
        self.source = source
        self.sink = nil
        self.ownsSink = false
        self.consumer = consumer
        try FileIO.setNonblocking(source)
        try loop.register(source, .readable) { [weak self] _ in self?.pump(limit: 16) }
    }

    /// Reads up to `limit` chunks; returns false when the source reached EOF (or failed).
    @discardableResult
    func pump(limit: Int = .max) -> Bool {
        var rounds = 0
        while !isClosed && rounds < limit {
            rounds += 1
            let n = buffer.withUnsafeMutableBytes { Glibc.read(source, $0.baseAddress, $0.count) }
            if n > 0 {
                deliver(n)
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { return true }
            // EOF, or EIO on a pty master whose slave side is all closed.
            close()
            return false
        }
        return !isClosed
    }

    /// Drains whatever is readable now (used before publishing an exit).
    func drain() { pump() }

    private func deliver(_ count: Int) {
        if let consumer {
            consumer(buffer[0..<count])
            copiedBytes += count
            return
        }
        guard let sink else {
            droppedBytes += count
            return
        }
        var offset = 0
        while offset < count {
            let written = buffer.withUnsafeBytes { Glibc.write(sink, $0.baseAddress! + offset, count - offset) }
            if written > 0 {
                offset += written
                continue
            }
            if written < 0 && errno == EINTR { continue }
            // EAGAIN (reader not keeping up), EPIPE (reader gone): drop the rest of this chunk.
            break
        }
        copiedBytes += offset
        droppedBytes += count - offset
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.unregister(source)
        FileIO.close(source)
        if ownsSink, let sink { FileIO.close(sink) }
        onClose?()
    }
}

/// Copies the stdin FIFO into the container's stdin (a pipe, or the pty master), buffering a bounded amount
/// when the container is not reading. CloseIO closes the container's side.
final class InputRelay {
    let source: Int32
    private(set) var sink: Int32
    private let closeSinkOnEnd: Bool
    private unowned let loop: EventLoop
    private var pending: [UInt8] = []
    private var isClosed = false
    private static let limit = 1 << 20

    init(loop: EventLoop, source: Int32, sink: Int32, closeSinkOnEnd: Bool) throws {
        self.loop = loop
        self.source = source
        self.sink = sink
        self.closeSinkOnEnd = closeSinkOnEnd
        try FileIO.setNonblocking(source)
        try loop.register(source, .readable) { [weak self] _ in self?.readSource() }
    }

    private func readSource() {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { Glibc.read(source, $0.baseAddress, $0.count) }
        if n > 0 {
            pending.append(contentsOf: chunk[0..<n])
            flush()
            if pending.count >= InputRelay.limit { try? loop.modify(source, []) }
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            close()
        }
    }

    private func flush() {
        while !pending.isEmpty {
            let written = pending.withUnsafeBytes { Glibc.write(sink, $0.baseAddress, $0.count) }
            if written > 0 {
                pending.removeFirst(written)
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && errno == EAGAIN {
                if !loop.isRegistered(sink) {
                    try? loop.register(sink, .writable) { [weak self] _ in self?.sinkWritable() }
                }
                return
            } else {
                pending.removeAll()  // EPIPE: nobody reads stdin any more
                return
            }
        }
    }

    private func sinkWritable() {
        flush()
        if pending.isEmpty {
            loop.unregister(sink)
            try? loop.modify(source, .readable)
        }
    }

    /// Ends the input: the container sees EOF (pipe) once the buffered bytes are written.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.unregister(source)
        FileIO.close(source)
        if !pending.isEmpty { flushBlocking() }
        if closeSinkOnEnd {
            loop.unregister(sink)
            FileIO.close(sink)
        }
    }

    private func flushBlocking() {
        try? FileIO.setNonblocking(sink, false)
        _ = try? FileIO.writeAll(sink, pending)
        pending.removeAll()
    }
}
