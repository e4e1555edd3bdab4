#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import TetherSystem

/// Copies one readable descriptor (a pipe from the container, or the pty master) to a sink descriptor (a FIFO)
/// or hands what it reads to a consumer (the CRI log writer), on the event loop:
/// - pipe → FIFO: splice(2), so the bytes never enter the shim. When the FIFO is full (a slow reader) the bytes
///   wait in the container's pipe, and the container blocks once that is full (backpressure, as with containerd's
///   shim) while the relay waits for the FIFO to take bytes. A FIFO that stays full for `stallLimit` ms (a reader
///   that stopped reading, or is gone: the shim holds the FIFO open itself) makes the relay drop bytes, counted,
///   until the FIFO takes bytes again: a dead reader never wedges the workload.
/// - pty master → FIFO (splice does not read a tty): read and written non-blockingly, what the FIFO cannot take
///   dropped and counted.
/// A source EOF unregisters and closes the source (and the sink, if owned).
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
    private let consumer: ((UnsafeRawBufferPointer) -> Void)?
    /// How long a full sink holds the source back before bytes are dropped.
    private let stallLimit: UInt64
    /// The source is a pipe and the sink takes splice(2) (cleared on EINVAL: a pty master).
    private var splices: Bool
    /// Set while the sink is full: the timer that ends the wait.
    private var stallTimer: EventLoop.TimerID?
    /// The sink stayed full past `stallLimit`: bytes are dropped until it takes some again.
    private var dropping = false
    /// While a stalled relay finishes after `closeWhenDrained`: itself, so that it outlives its owner.
    private var keptUntilDrained: OutputRelay?

    /// One read buffer for every relay: the shim is single-threaded and a chunk never outlives its handling.
    nonisolated(unsafe) static let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 128 * 1024, alignment: 16)
    /// The most bytes one splice(2) moves.
    private static let spliceChunk = 1 << 20

    init(loop: EventLoop, source: Int32, sink: Int32?, ownsSink: Bool, stallLimit: UInt64 = 5000) throws {
        self.loop = loop
        self.source = source
        self.sink = sink
        self.ownsSink = ownsSink
        self.consumer = nil
        self.stallLimit = stallLimit
        self.splices = sink != nil
        try FileIO.setNonblocking(source)
        try watchSource()
    }

    init(loop: EventLoop, source: Int32, consumer: @escaping (UnsafeRawBufferPointer) -> Void) throws {
        self.loop = loop
        self.source = source
        self.sink = nil
        self.ownsSink = false
        self.consumer = consumer
        self.stallLimit = 0
        self.splices = false
        try FileIO.setNonblocking(source)
        try watchSource()
    }

    private func watchSource() throws {
        try loop.register(source, .readable) { [weak self] events in self?.pump(limit: 16, hungUp: events.contains(.hangup)) }
    }

    /// Moves up to `limit` chunks; returns false when the source reached EOF (or failed). `hungUp`: epoll saw
    /// every writer of the source gone (splice cannot tell an empty source at EOF from one when the sink is full).
    @discardableResult
    func pump(limit: Int = .max, hungUp: Bool = false) -> Bool {
        var rounds = 0
        var ended = false
        while !isClosed && stallTimer == nil && rounds < limit {
            rounds += 1
            if splices, let sink {
                let moved = tether_splice_nonblocking(source, sink, UInt(OutputRelay.spliceChunk))
                if moved > 0 {
                    copiedBytes += moved
                    dropping = false
                    continue
                }
                if moved == 0 {
                    ended = true
                    break
                }
                if errno == EINTR { continue }
                if errno != EAGAIN {
                    splices = false  // EINVAL: not a pipe (a pty master); copy instead
                    continue
                }
                // EAGAIN: the source is empty, or the sink is full.
                if tether_pipe_pending(source) <= 0 {
                    if !hungUp { return true }
                    ended = true
                    break
                }
                if !dropping {
                    stall()
                    return true
                }
            }
            let count = Glibc.read(source, OutputRelay.scratch.baseAddress, OutputRelay.scratch.count)
            if count > 0 {
                deliver(count)
                continue
            }
            if count < 0 && (errno == EAGAIN || errno == EINTR) { return true }
            ended = true  // EOF, or EIO on a pty master whose slave side is all closed.
            break
        }
        if ended { close() }
        return !isClosed
    }

    /// Drains whatever is readable now (used before publishing an exit).
    func drain() { pump() }

    private func deliver(_ count: Int) {
        let chunk = UnsafeRawBufferPointer(rebasing: OutputRelay.scratch[0..<count])
        if let consumer {
            consumer(chunk)
            copiedBytes += count
            return
        }
        guard let sink, !dropping else {
            droppedBytes += count
            return
        }
        var offset = 0
        while offset < count {
            let written = Glibc.write(sink, chunk.baseAddress! + offset, count - offset)
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

    /// The sink is full: stop reading the source (the container's pipe holds the bytes) until the sink is
    /// writable again, or `stallLimit` has passed.
    private func stall() {
        guard let sink else { return }
        loop.unregister(source)  // not just modified: a hung-up source would be reported, level-triggered, meanwhile
        do {
            try loop.register(sink, .writable) { [weak self] _ in self?.resume(dropping: false) }
        } catch {
            dropping = true
            try? watchSource()
            return
        }
        stallTimer = loop.schedule(after: stallLimit) { [weak self] in
            self?.stallTimer = nil
            self?.resume(dropping: true)
        }
    }

    private func resume(dropping drop: Bool) {
        if let stallTimer {
            loop.cancel(stallTimer)
            self.stallTimer = nil
        }
        if let sink { loop.unregister(sink) }
        dropping = drop
        if keptUntilDrained != nil && drop {
            close()  // closing, and the reader does not read: the rest is dropped
            return
        }
        do {
            try watchSource()
        } catch {
            close()
            return
        }
        pump(limit: 16)
    }

    /// Closes now, or, while the sink is full, once the source is drained into it (or the stall limit passed):
    /// what the process wrote before it exited reaches a slow reader.
    func closeWhenDrained() {
        if stallTimer == nil || isClosed {
            close()
        } else {
            keptUntilDrained = self
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        if let stallTimer {
            loop.cancel(stallTimer)
            self.stallTimer = nil
            if let sink { loop.unregister(sink) }
        }
        loop.unregister(source)
        FileIO.close(source)
        if ownsSink, let sink { FileIO.close(sink) }
        onClose?()
        onClose = nil
        keptUntilDrained = nil
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
        let scratch = OutputRelay.scratch
        let n = Glibc.read(source, scratch.baseAddress, scratch.count)
        if n > 0 {
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
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
