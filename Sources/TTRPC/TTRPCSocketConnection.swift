#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// A non-blocking stream socket on an `EventLoop` that speaks frames: reads are fed to a `TTRPCFrameDecoder`,
/// writes are buffered and flushed when the socket is writable. Used by server connections and `TTRPCLoopClient`.
///
/// Replies produced while a batch of reads is being handled are written together after the batch. When the
/// peer stops reading and more than `outputHighWater` bytes are queued, reading pauses until the queue drains,
/// so a client that only writes cannot make the server buffer without bound.
/// Scratch space for `read`, shared by the connections of one loop thread (a read is fully consumed by the
/// decoder before the next one), so that idle connections cost no buffer. Public so that a daemon holding many
/// `TTRPCLoopClient`s on one loop can give them one.
public final class TTRPCReadBuffer {
    let bytes: UnsafeMutableRawBufferPointer

    public init(size: Int = 64 << 10) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    }

    deinit { bytes.deallocate() }
}

final class TTRPCSocketConnection {
    static let outputHighWater = 8 << 20
    static let outputLowWater = 1 << 20

    let loop: EventLoop
    let fd: Int32
    private var decoder = TTRPCFrameDecoder()
    private var output: [UInt8] = []
    private var outputStart = 0
    private var inReadBatch = false
    private var readingPaused = false
    private(set) var isClosed = false
    private let scratch: TTRPCReadBuffer

    var onEvent: (TTRPCFrameDecoder.Event) -> Void = { _ in }
    /// Called once when the connection closes, for whatever reason (EOF, error, `close()`).
    var onClose: () -> Void = {}

    init(loop: EventLoop, fd: Int32, readBuffer: TTRPCReadBuffer = TTRPCReadBuffer()) throws {
        self.loop = loop
        self.fd = fd
        scratch = readBuffer
        try FileIO.setNonblocking(fd)
        try loop.register(fd, [.readable, .peerClosed]) { [weak self] events in self?.handle(events) }
    }

    var pendingOutput: Int { output.count - outputStart }

    func send(streamID: UInt32, type: TTRPCFrame.MessageType, data: [UInt8]) {
        guard !isClosed else { return }
        TTRPCFrame.append(to: &output, streamID: streamID, type: type, data: data)
        if !inReadBatch { flush() }
    }

    /// Closes the socket; queued output is written first as far as the socket takes it without blocking.
    func close() {
        guard !isClosed else { return }
        if pendingOutput > 0 { _ = writeOutput() }
        isClosed = true
        loop.unregister(fd)
        FileIO.close(fd)
        output = []
        outputStart = 0
        let onClose = self.onClose
        self.onClose = {}
        self.onEvent = { _ in }
        onClose()
    }

    private func handle(_ events: EventLoop.Events) {
        if events.contains(.writable) {
            flush()
            if isClosed { return }
        }
        if events.contains(.readable) && !readingPaused {
            readAvailable()
            if isClosed { return }
        } else if !events.isDisjoint(with: [.hangup, .error]) {
            close()
        }
    }

    private func readAvailable() {
        inReadBatch = true
        defer {
            inReadBatch = false
            if !isClosed { flush() }
        }
        let readBuffer = scratch.bytes
        // Bounded so that one busy connection cannot starve the others on the loop.
        for _ in 0..<16 {
            let n = Glibc.read(fd, readBuffer.baseAddress, readBuffer.count)
            if n > 0 {
                decoder.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n])) { event in
                    if !isClosed { onEvent(event) }
                }
                if isClosed { return }
                if n < readBuffer.count { return }
                if pendingOutput > Self.outputHighWater { return }
            } else if n == 0 {
                close()
                return
            } else {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK { close() }
                return
            }
        }
    }

    private func flush() {
        guard !isClosed else { return }
        guard writeOutput() else {
            close()
            return
        }
        updateInterest()
    }

    /// Writes as much queued output as the socket takes; false when the socket failed.
    private func writeOutput() -> Bool {
        while outputStart < output.count {
            let n = output[outputStart...].withUnsafeBytes { buffer in
                Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                outputStart += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else {
                return false
            }
        }
        if outputStart == output.count {
            output.removeAll(keepingCapacity: output.capacity <= 1 << 16)
            outputStart = 0
        } else if outputStart > 1 << 20 {
            output.removeSubrange(0..<outputStart)
            outputStart = 0
        }
        return true
    }

    private func updateInterest() {
        let pending = pendingOutput
        if readingPaused && pending <= Self.outputLowWater {
            readingPaused = false
        } else if !readingPaused && pending > Self.outputHighWater {
            readingPaused = true
        }
        var events: EventLoop.Events = readingPaused ? [] : [.readable, .peerClosed]
        if pending > 0 { events.insert(.writable) }
        do {
            try loop.modify(fd, events)
        } catch {
            close()
        }
    }
}
