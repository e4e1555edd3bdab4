#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import OCISpec
import TetherSystem

/// The last steps of a container process (init after start, or an exec'd process): stdio, rlimits, user,
/// cwd, environment, fds, then the exec (through the exec helper) with runc's PATH lookup.
struct ProcessSetup {
    let process: OCISpec.Process
    let preserveFDs: Int
    let isInit: Bool
    var security = ProcessSecurity()

    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Returns `fd`, or a close-on-exec duplicate of it at or above `floor` when it is below.
    static func relocate(_ fd: Int32, above floor: Int32) -> Int32 {
        if fd < 0 || fd >= floor { return fd }
        let moved = fcntl(fd, F_DUPFD_CLOEXEC, floor)
        return moved < 0 ? fd : moved
    }

    /// Puts the caller's chosen descriptors on 0, 1 and 2 (nil: /dev/null).
    static func installStdio(_ io: ProcessIO, preserveFDs: Int) throws {
        let floor = Int32(3 + preserveFDs)
        var null: Int32 = -1
        func source(_ fd: Int32?) throws -> Int32 {
            if let fd { return try sys("dup stdio") { fcntl(fd, F_DUPFD_CLOEXEC, floor) } }
            if null < 0 {
                let opened = try FileIO.open("/dev/null", O_RDWR)
                null = try sys("dup /dev/null") { fcntl(opened, F_DUPFD_CLOEXEC, floor) }
                FileIO.close(opened)
            }
            return try sys("dup /dev/null") { fcntl(null, F_DUPFD_CLOEXEC, floor) }
        }
        let sources = [try source(io.stdin), try source(io.stdout), try source(io.stderr)]
        for (target, fd) in sources.enumerated() {
            try sys("dup2 stdio") { dup2(fd, Int32(target)) }
            FileIO.close(fd)
        }
        if null >= 0 { FileIO.close(null) }
    }

    var environment: [String] {
        var env = process.env ?? []
        if !env.contains(where: { $0.hasPrefix("HOME=") }) {
            env.append("HOME=" + (ProcessSetup.homeDirectory(uid: process.user.uid) ?? "/"))
        }
        if isInit && preserveFDs > 0 {
            env.removeAll { $0.hasPrefix("LISTEN_FDS=") || $0.hasPrefix("LISTEN_PID=") }
            env.append("LISTEN_FDS=\(preserveFDs)")
            env.append("LISTEN_PID=1")
        }
        return env
    }

    /// The home directory of `uid` from the container's /etc/passwd.
    static func homeDirectory(uid: UInt32) -> String? {
        guard let text = try? FileIO.readText("/etc/passwd") else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 6, UInt32(fields[2]) == uid { return String(fields[5]) }
        }
        return nil
    }

    /// runc's lookup (Go's exec.LookPath, then runc's system.Eaccess), after the chdir into process.cwd, so a
    /// relative name (`./echo`) is found from there. The texts are Go's, which managers classify: podman maps
    /// "permission denied" to exit code 126 and "no such file or directory" / "executable file not found" to 127.
    /// A directory is `permission denied`, as LookPath says (execve would say EACCES too).
    func resolveExecutable() throws(InitFailure) -> String {
        guard let name = process.args?.first, !name.isEmpty else { throw InitFailure("exec", "process.args: must not be empty") }
        var resolved: String? = nil
        if name.contains("/") {
            switch ProcessSetup.executableProblem(name) {
            case nil: resolved = name
            case EACCES?:
                throw InitFailure("exec", errno: EACCES, "exec: \(PrintableText.quoted(name)): permission denied")
            case let code?:
                throw InitFailure("exec", errno: code, "exec: \(PrintableText.quoted(name)): stat \(name): \(ProcessSetup.goErrorText(code))")
            }
        } else {
            let path = environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? ""
            for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
                let dir = directory.isEmpty ? "." : String(directory)
                let candidate = dir + "/" + name
                if ProcessSetup.executableProblem(candidate) == nil {
                    resolved = candidate
                    break
                }
            }
        }
        guard let executable = resolved else {
            throw InitFailure("exec", errno: ENOENT, "exec: \(PrintableText.quoted(name)): executable file not found in $PATH")
        }
        // A file on a noexec mount passes the mode check: ask the kernel, as the process's effective ids.
        if faccessat(AT_FDCWD, executable, X_OK, AT_EACCESS) != 0 {
            let code = errno
            throw InitFailure("exec", errno: code, "exec \(executable): \(ProcessSetup.goErrorText(code))")
        }
        return executable
    }

    /// nil when `path` is an executable regular file; EACCES for a directory or a file without an x bit (Go's
    /// findExecutable), else stat's errno.
    static func executableProblem(_ path: String) -> Int32? {
        var info = stat()
        if stat(path, &info) != 0 { return errno }
        if (info.st_mode & S_IFMT) == S_IFDIR || info.st_mode & 0o111 == 0 { return EACCES }
        return nil
    }

    /// Go's text for an errno (its syscall table is strerror with a lowercase first letter).
    static func goErrorText(_ code: Int32) -> String {
        let text = SyscallError.describe(code)
        guard let first = text.first else { return text }
        return first.lowercased() + text.dropFirst()
    }

    /// What `finalize` leaves for the exec: the resolved executable and the environment.
    struct Finalized {
        let executable: String
        let environment: [String]
    }

    /// Sets the process up (runc's finalizeNamespace and what surrounds it) up to, not including, the exec: rlimits,
    /// no_new_privs, seccomp, fds, bounding set, user and groups, cwd, capabilities, the executable. The init does
    /// this before it waits on exec.fifo, as runc's standard_init_linux.go, so each failure fails `create`.
    func finalize() throws(InitFailure) -> Finalized {
        for limit in process.rlimits ?? [] {
            guard let number = ResourceLimit.number(of: limit.type) else { continue }
            try step("rlimit \(limit.type)") {
                try check(tether_setrlimit(number, limit.soft, limit.hard), "setrlimit \(limit.type)")
            }
        }
        if let score = process.oomScoreAdj {
            try step("oomScoreAdj") { try FileIO.writeFile("/proc/self/oom_score_adj", "\(score)", flags: O_WRONLY) }
        }
        // noNewPrivileges comes before the seccomp filter. Where the filter is loaded follows runc
        // (standard_init_linux.go, setns_init_linux.go): without noNewPrivileges, loading it needs CAP_SYS_ADMIN, so
        // it is loaded before the capabilities are dropped; with it, as late as possible, once all else is done,
        // so the profile has to allow as few of the runtime's own syscalls as possible.
        let noNewPrivileges = process.noNewPrivileges == true
        if noNewPrivileges {
            try step("noNewPrivileges") { try check(tether_set_no_new_privs(), "prctl PR_SET_NO_NEW_PRIVS") }
        } else {
            try security.loadSeccomp()
        }
        try step("close fds") {
            for fd in 3..<(3 + Int32(preserveFDs)) { _ = tether_set_cloexec(fd, 0) }
            try check(tether_cloexec_from(3 + Int32(preserveFDs)), "close fds")
        }
        try security.capabilities?.dropBoundingSetAndKeepCaps()
        let user = process.user
        try step("user") {
            let groups = (user.additionalGids ?? []).map { gid_t($0) }
            // A user namespace whose gid map was written without root has setgroups "deny" (runc: groups are then
            // left as they are, and asking for additional ones fails).
            if ProcessSetup.setgroupsDenied {
                if !groups.isEmpty {
                    throw InitFailure("user", errno: EPERM, "cannot set any additional groups in a rootless container (process.user.additionalGids)")
                }
            } else {
                try check(groups.withUnsafeBufferPointer { setgroups($0.count, $0.baseAddress) }, "setgroups")
            }
            try check(tether_setresgid(user.gid), "setresgid \(user.gid)")
            try check(tether_setresuid(user.uid), "setresuid \(user.uid)")
        }
        if let mask = user.umask { umask(mode_t(mask)) }
        try step("cwd") {
            if chdir(process.cwd) != 0 {
                let code = errno
                throw InitFailure("cwd", errno: code,
                                  "chdir to cwd (\(PrintableText.quoted(process.cwd))) set in config.json failed: \(ProcessSetup.goErrorText(code))")
            }
            try ProcessSetup.verifyWorkingDirectoryInsideRoot()
        }
        try security.capabilities?.apply()
        let executable = try resolveExecutable()
        if noNewPrivileges { try security.loadSeccomp() }
        return Finalized(executable: executable, environment: environment)
    }

    /// The exec itself, through the exec helper, once `finalize` succeeded. `beforeExec` runs first: the container
    /// init's startContainer hooks, which runc runs once the process is what it will be, right before execve.
    func exec(_ finalized: Finalized, beforeExec: () throws(InitFailure) -> Void = {}) throws(InitFailure) -> Never {
        try beforeExec()
        guard let helper = security.execHelper else { throw InitFailure("exec", "exec helper not prepared") }
        let code = helper.exec(finalized.executable, args: process.args ?? [], env: finalized.environment)
        throw InitFailure("exec", errno: code, "exec \(ExecHelper.marker) for \(finalized.executable): \(ProcessSetup.goErrorText(code))")
    }

    /// Whether this process's user namespace forbids setgroups (/proc/self/setgroups says "deny").
    static var setgroupsDenied: Bool {
        guard let text = try? FileIO.readText("/proc/self/setgroups") else { return false }
        return text.hasPrefix("deny")
    }

    /// runc's verifyCwd (CVE-2024-21626): getcwd fails with ENOENT when the working directory is not reachable
    /// from the process's root, i.e. a leaked host directory.
    static func verifyWorkingDirectoryInsideRoot() throws {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        if getcwd(&buffer, buffer.count) == nil {
            if errno == ENOENT {
                throw InitFailure("cwd", errno: ENOENT, "current working directory is outside of the container's root -- possible container breakout detected")
            }
            throw SyscallError.current("getcwd")
        }
        if buffer[0] != CChar(UInt8(ascii: "/")) {
            throw InitFailure("cwd", "current working directory is not absolute -- possible container breakout detected")
        }
    }

    /// Writes a child-side failure to the process's stderr (the container's stderr after setup).
    static func report(_ failure: InitFailure) {
        try? FileIO.writeAll(2, "tether-runtime: \(failure.stage): \(failure.message)\n")
    }
}
