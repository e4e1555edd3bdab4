#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer on malloc'd memory, appended to with memcpy: for output assembled from many small
/// pieces (a CRI record per 2-byte line) where Array's per-append checks would cost more than the copy.
final class ByteBuffer {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var count = 0
    private var capacity = 0

    init() {}

    deinit { free(base) }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private func grow(to needed: Int) {
        var next = max(capacity * 2, 4096)
        while next < needed { next *= 2 }
        guard let moved = realloc(base, next) else { fatalError("ByteBuffer: out of memory (\(next) bytes)") }
        base = moved
        capacity = next
    }

    @inline(__always)
    func append(_ bytes: UnsafeRawPointer, count length: Int) {
        reserve(length)
        if length > 0 { memcpy(base! + count, bytes, length) }
        count += length
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        reserve(1)
        base!.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { if let address = $0.baseAddress { append(address, count: $0.count) } }
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    func removeAll() { count = 0 }

    /// Gives the memory back (after a burst, so that an idle shim does not keep megabytes).
    func release() {
        free(base)
        base = nil
        count = 0
        capacity = 0
    }
}
