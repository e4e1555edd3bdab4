#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux

/// Process-level facts and guards.
public enum ProcessSupport {
    /// Fails loudly unless the process has exactly one thread: forking a multi-threaded Swift process is unsafe.
    public static func requireSingleThreaded(before stage: String) throws {
        let threads = tether_thread_count()
        if threads != 1 {
            throw SyscallError("\(stage): process has \(threads) threads, fork requires 1", errno: EDEADLK)
        }
    }

    /// The exit status convention: exited → code, signalled → 128 + signal.
    public static func exitStatus(fromWaitStatus status: Int32) -> Int32 {
        if tether_wifexited(status) != 0 { return tether_wexitstatus(status) }
        if tether_wifsignaled(status) != 0 { return 128 + tether_wtermsig(status) }
        return 255
    }

    /// The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or nil if it is gone.
    /// Paired with the pid it identifies a process across pid reuse.
    public static func startTime(of pid: Int32) -> UInt64? {
        guard let fields = statFields(of: pid), fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// Whether the process is PID 1 of a pid namespace of its own (the last `NSpid:` value in /proc/PID/status is
    /// 1): when it exits the kernel kills every other process in that namespace. False when it is gone or unknown.
    public static func isPidNamespaceInit(_ pid: Int32) -> Bool {
        guard let text = try? FileIO.readText("/proc/\(pid)/status"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") }) else { return false }
        let ids = line.dropFirst("NSpid:".count).split(whereSeparator: { $0 == " " || $0 == "\t" })
        return ids.count > 1 && ids.last == "1"
    }

    /// The state letter of /proc/PID/stat (R, S, D, Z, T, X, ...), or nil if it is gone.
    public static func state(of pid: Int32) -> Character? {
        guard let fields = statFields(of: pid), let first = fields.first?.first else { return nil }
        return first
    }

    /// A live, non-zombie process with this pid and (if given) this start time.
    public static func isAlive(_ pid: Int32, startTime expected: UInt64? = nil) -> Bool {
        guard pid > 0, let fields = statFields(of: pid), let state = fields.first?.first else { return false }
        if state == "Z" || state == "X" { return false }
        if let expected, fields.count > 19, UInt64(fields[19]) != expected { return false }
        return true
    }

    /// Fields of /proc/PID/stat after the command name (so index 0 is the state).
    private static func statFields(of pid: Int32) -> [Substring]? {
        guard let text = try? FileIO.readText("/proc/\(pid)/stat"),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    public static func signalNumber(named name: String) -> Int32? {
        if let number = Int32(name), number > 0, number < 65 { return number }
        var upper = name.uppercased()
        if upper.hasPrefix("SIG") { upper.removeFirst(3) }
        return signalNames[upper]
    }

    public static let signalNames: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT,
        "IOT": SIGABRT, "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV,
        "USR2": SIGUSR2, "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "STKFLT": SIGSTKFLT,
        "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP, "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU,
        "URG": SIGURG, "XCPU": SIGXCPU, "XFSZ": SIGXFSZ, "VTALRM": SIGVTALRM, "PROF": SIGPROF,
        "WINCH": SIGWINCH, "IO": SIGIO, "POLL": SIGIO, "PWR": SIGPWR, "SYS": SIGSYS,
    ]
}
