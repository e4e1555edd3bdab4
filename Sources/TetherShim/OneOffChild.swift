#if canImport(Glibc)
import Glibc
#endif
import TTRPC
import TetherSystem

/// Runs one-off heavy work (the runtime library's create and start) in a short-lived child forked from the
/// shim, so that the long-lived shim never pays for it: decoding config.json and the state record, cgroup and
/// seccomp set-up instantiate Swift metadata and conformance caches, grow the heap and the stack and map code
/// pages, and all of that would stay resident in every idle shim (one per container) for its whole life.
/// The child does the work and exits; what it cloned (the container init) is re-parented to the shim, which is
/// the subreaper, and is reaped by it like any of its children. The answer (a few bytes, or the error as the
/// ttrpc status the shim would have answered) comes back on a pipe.
///
/// The caller blocks until the child is done, as it did running the work itself; the loop does not run
/// meanwhile, so no `wait4(-1)` can reap the child first. Fork is safe: the shim is single-threaded.
enum OneOffChild {
    /// Runs `work` in a forked child; returns what it returned (at most 16 KiB), or throws the TTRPCStatus it
    /// failed with.
    static func run(_ what: String, _ work: () throws -> [UInt8]) throws -> [UInt8] {
        // The child's clones hold the write end until they exec (close-on-exec), so the answer is read after
        // the child exited, never until EOF.
        let (readEnd, writeEnd) = try FileIO.pipe()
        defer { FileIO.close(readEnd) }
        let pid = fork()
        if pid < 0 {
            let error = SyscallError.current("fork")
            FileIO.close(writeEnd)
            throw TTRPCStatus(.unknown, "\(what): \(error)")
        }
        if pid == 0 {
            FileIO.close(readEnd)
            let answer: [UInt8]
            do {
                answer = [0] + (try work()).prefix(16 * 1024)
            } catch {
                let status = Shim.status(error)
                answer = [1] + bytes(of: status.code.rawValue) + Array(status.message.utf8.prefix(16 * 1024))
            }
            try? FileIO.writeAll(writeEnd, answer)
            _exit(0)
        }
        FileIO.close(writeEnd)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        try? FileIO.setNonblocking(readEnd)
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(readEnd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            answer += chunk[0..<count]
        }
        if answer.first == 0 { return Array(answer.dropFirst()) }
        guard answer.count >= 5 else {
            throw TTRPCStatus(.unknown, "\(what): the child doing it ended with wait status \(status) and no answer")
        }
        let code = TTRPCStatusCode(rawValue: int32(answer[1..<5])) ?? .unknown
        throw TTRPCStatus(code, String(decoding: answer[5...], as: UTF8.self))
    }

    /// Little-endian, for answers that carry numbers.
    static func int32(_ bytes: ArraySlice<UInt8>) -> Int32 {
        Int32(bitPattern: bytes.prefix(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) })
    }

    static func bytes(of value: Int32) -> [UInt8] {
        let bits = UInt32(bitPattern: value)
        return (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) }
    }
}
