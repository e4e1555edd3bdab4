#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux

/// The environment of this process, as a dictionary.
public enum ProcessEnvironment {
    public static var current: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

/// Runs a short-lived command (such as `shim start`, which leaves a daemon behind, or an OCI hook) and collects
/// its combined output, as containerd and runc do: posix_spawn, fds above 2 not inherited, signal mask and
/// dispositions reset to the defaults, wait for that pid only. The caller must be single-threaded: the
/// working directory is changed around the spawn, and nothing else may reap the child.
public enum Spawner {
    public struct Result: Sendable {
        public let status: Int32
        public let output: String
        /// The command ran past its deadline and was SIGKILLed (`status` is then 137).
        public let timedOut: Bool
    }

    /// Runs `arguments` in `directory`. The caller's working directory is changed to `directory` (callers
    /// are single-threaded CLIs and daemons that spawn from one thread).
    public static func run(_ arguments: [String], directory: String, environment: [String: String]) throws -> Result {
        try run(arguments, directory: directory, environment: environment.map { "\($0.key)=\($0.value)" })
    }

    /// Runs a command to completion.
    /// - Parameters:
    ///   - arguments: argv; `arguments[0]` is searched in PATH unless `executable` is given.
    ///   - executable: the file to execute (absolute), with `arguments` as its argv as is.
    ///   - directory: where the command runs (nil: the caller's working directory).
    ///   - environment: `KEY=value` entries (nil: the caller's environment).
    ///   - input: written to the command's stdin (a socket, so a command that does not read it cannot raise
    ///     SIGPIPE here); empty: stdin is /dev/null.
    ///   - timeout: seconds after which the command's process group (it gets its own) is SIGKILLed (nil: no limit).
    /// Output is collected until the command exits (a daemon it leaves behind holding the pipe does not block).
    public static func run(_ arguments: [String], executable: String? = nil, directory: String? = nil,
                           environment: [String]? = nil, input: [UInt8] = [], timeout: Double? = nil) throws -> Result {
        let (read, write) = try FileIO.pipe()
        defer { FileIO.close(read) }
        var inputEnds: (mine: Int32, theirs: Int32)? = nil
        if !input.isEmpty {
            do {
                inputEnds = try FileIO.socketPair(type: Int32(SOCK_STREAM.rawValue))
            } catch {
                FileIO.close(write)
                throw error
            }
        }
        let pid: pid_t
        do {
            defer {
                FileIO.close(write)
                if let theirs = inputEnds?.theirs { FileIO.close(theirs) }
            }
            pid = try spawn(arguments, executable: executable, directory: directory, environment: environment,
                            stdin: inputEnds?.theirs, output: write)
        } catch {
            if let mine = inputEnds?.mine { FileIO.close(mine) }
            throw error
        }
        return collect(pid: pid, output: read, input: input, inputFD: inputEnds?.mine, timeout: timeout)
    }

    private static func spawn(_ arguments: [String], executable: String?, directory: String?, environment: [String]?,
                              stdin: Int32?, output: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin {
            posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        // Its own process group, so that a timeout kills what the command started too.
        let attributes = SpawnAttributes(flags: Int32(POSIX_SPAWN_SETPGROUP))

        let cArguments = arguments.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { $0.map { strdup($0) } + [nil] }
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment ?? [] { free(pointer) }
        }
        var previous: String? = nil
        if let directory {
            previous = FileIO.currentDirectory()
            guard chdir(directory) == 0 else { throw SyscallError.current("chdir \(directory)") }
        }
        defer { if let previous { _ = chdir(previous) } }
        var pid: pid_t = 0
        let program = executable ?? arguments[0]
        let spawned = cEnvironment.map { cEnvironment in
            executable != nil
                ? posix_spawn(&pid, program, &actions, &attributes.raw, cArguments, cEnvironment)
                : posix_spawnp(&pid, program, &actions, &attributes.raw, cArguments, cEnvironment)
        } ?? (executable != nil
                ? posix_spawn(&pid, program, &actions, &attributes.raw, cArguments, environ)
                : posix_spawnp(&pid, program, &actions, &attributes.raw, cArguments, environ))
        if spawned != 0 { throw SyscallError("posix_spawn \(program)", errno: spawned) }
        return pid
    }

    /// Feeds `input`, gathers output until the process exits or the deadline passes (then SIGKILLs it), reaps it.
    private static func collect(pid: pid_t, output: Int32, input: [UInt8], inputFD: Int32?, timeout: Double?) -> Result {
        let pidfd = tether_pidfd_open(pid, 0)
        defer { if pidfd >= 0 { FileIO.close(pidfd) } }
        var inputFD = inputFD
        defer { if let fd = inputFD { FileIO.close(fd) } }
        if let fd = inputFD { _ = tether_set_nonblock(fd, 1) }
        _ = tether_set_nonblock(output, 1)
        let deadline = timeout.map { monotonicSeconds() + $0 }
        var collected: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        var written = 0
        var outputOpen = true
        var timedOut = false

        /// Reads what is available; false at end of file or on error.
        func drain() -> Bool {
            while true {
                let n = Glibc.read(output, &buffer, buffer.count)
                if n > 0 { collected += buffer[0..<n]; continue }
                if n < 0 && errno == EINTR { continue }
                return n < 0 && errno == EAGAIN
            }
        }

        while outputOpen || pidfd >= 0 {
            var fds: [pollfd] = []
            if outputOpen { fds.append(pollfd(fd: output, events: Int16(POLLIN), revents: 0)) }
            if let fd = inputFD { fds.append(pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)) }
            if pidfd >= 0 { fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
            var wait: Int32 = -1
            if let deadline {
                let left = deadline - monotonicSeconds()
                if left <= 0 { timedOut = true; break }
                wait = Int32(min(left * 1000 + 1, 60_000))
            }
            if poll(&fds, nfds_t(fds.count), wait) < 0 && errno != EINTR { break }
            if outputOpen { outputOpen = drain() }
            if let fd = inputFD {
                let n = input[written...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n > 0 { written += n }
                if written == input.count || (n < 0 && errno != EAGAIN && errno != EINTR) {
                    FileIO.close(fd)
                    inputFD = nil
                }
            }
            if pidfd >= 0, let last = fds.last, last.fd == pidfd, last.revents != 0 {
                if outputOpen { _ = drain() }
                break
            }
        }
        if timedOut { Glibc.kill(-pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Result(status: ProcessSupport.exitStatus(fromWaitStatus: status),
                      output: String(decoding: collected, as: UTF8.self), timedOut: timedOut)
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
