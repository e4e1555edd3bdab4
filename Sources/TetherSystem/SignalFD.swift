#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux

/// Signals consumed through a signalfd. Block them first (`SignalFD.block`) in the process's first
/// instructions, before any thread exists, so that every thread inherits the mask (tini's model).
public struct SignalFD: ~Copyable {
    public let fd: Int32

    public init(_ signals: [Int32]) throws {
        var set = SignalFD.makeSet(signals)
        fd = try sys("signalfd") { signalfd(-1, &set, Int32(SFD_CLOEXEC | SFD_NONBLOCK)) }
    }

    deinit { Glibc.close(fd) }

    /// Blocks `signals` for the calling thread (and so for every thread it creates later).
    public static func block(_ signals: [Int32]) throws {
        var set = makeSet(signals)
        try sys("sigprocmask") { sigprocmask(SIG_BLOCK, &set, nil) }
    }

    /// Restores an empty signal mask and default dispositions; used in a child before exec.
    public static func resetForChild() {
        var empty = sigset_t()
        sigemptyset(&empty)
        sigprocmask(SIG_SETMASK, &empty, nil)
        for signal in 1..<Int32(65) where signal != SIGKILL && signal != SIGSTOP {
            Glibc.signal(signal, SIG_DFL)
        }
    }

    static func makeSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }

    /// Reads every pending signal number (non-blocking).
    public func drain() -> [Int32] {
        var result: [Int32] = []
        var info = signalfd_siginfo()
        while true {
            let n = withUnsafeMutableBytes(of: &info) { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n != MemoryLayout<signalfd_siginfo>.size { return result }
            result.append(Int32(info.ssi_signo))
        }
    }
}
