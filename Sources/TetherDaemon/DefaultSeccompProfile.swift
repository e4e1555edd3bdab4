import FoundationEssentials
import OCISpec

/// The default seccomp profile, Docker's (moby `profiles/seccomp/default.json`, Docker 25 and later) for the x86
/// family: every syscall not allowed here fails with EPERM. Calls that need a capability (mount, unshare, setns,
/// reboot, …) are allowed only when the process has it, as in Docker; `clone` may not create namespaces and
/// `clone3` reports ENOSYS (so that libc falls back to `clone`) unless the process has CAP_SYS_ADMIN.
///
/// Reviewed call by call against moby's file (2026-12): the unconditional list, the `socket` (no AF_VSOCK) and
/// `personality` argument rules, the `clone`/`clone3` rules and every capability-gated group are moby's, names
/// included that exist only for 32-bit x86 (`chown32`, `mmap2`, `socketcall`, `_llseek`, `*_time64`, ...), so that
/// an i386 binary runs as under Docker. The differences, each with its reason:
///
/// * `io_uring_setup`, `io_uring_enter`, `io_uring_register`: denied (EPERM), as Docker 25+ and containerd 2.0
///   (moby#46762, containerd#9320; the moby copy this was reviewed against still listed them). io_uring performs
///   reads, writes, opens and connects that seccomp never sees, and has been the way out of containers in kCTF.
/// * Architectures: `SCMP_ARCH_X86_64` with `X86` and `X32` only. moby's `archMap` also covers arm, mips, ppc64le,
///   s390 and riscv64 with their arch-only calls (`arm_fadvise64_64`, `s390_pci_mmio_read`, `riscv_flush_icache`,
///   the s390 `clone` argument order, ...): tether builds and is tested on x86_64 only, so those rules are left out
///   rather than shipped untested. A port adds them with its architecture.
/// * `arch_prctl` and `modify_ldt` are in the unconditional list, so they are allowed for every x86 ABI; moby allows
///   `arch_prctl` for amd64/x32 only (not i386, where the kernel has it since 4.12 for CET/`ARCH_*` queries) and
///   `modify_ldt` for the three. No privilege comes with either.
/// * `ptrace`, `process_vm_readv`, `process_vm_writev`: moby allows them from kernel 4.8 on (`minKernel`), where
///   seccomp is re-checked after a ptrace stop; tether needs a far newer kernel (pidfd, close_range: 5.9), so the
///   condition always holds and is not written.
/// * `socketcall` (i386) and `ipc` are allowed as in moby: their real arguments are in memory, which seccomp cannot
///   read, so a 32-bit process can create an AF_VSOCK socket through `socketcall` under Docker and here alike.
enum DefaultSeccompProfile {
    /// Allowed for every process.
    static let allowed = [
        "accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk", "capget", "capset", "chdir",
        "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
        "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
        "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
        "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve",
        "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
        "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64",
        "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64",
        "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64",
        "futex_waitv", "futimesat", "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents", "getdents64",
        "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
        "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
        "getresgid32", "getresuid", "getresuid32", "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt",
        "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init",
        "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
        "io_pgetevents_time64", "io_setup", "io_submit", "ioctl", "ioprio_get", "ioprio_set", "ipc", "kill",
        "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
        "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
        "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
        "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "modify_ldt", "mprotect", "mq_getsetattr",
        "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
        "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
        "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause",
        "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll",
        "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "process_vm_readv",
        "process_vm_writev", "pselect6", "pselect6_time64", "ptrace", "pwrite64", "pwritev", "pwritev2", "read",
        "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
        "remap_file_pages", "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq",
        "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
        "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_getscheduler",
        "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
        "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
        "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "set_robust_list",
        "set_thread_area", "set_tid_address", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
        "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid",
        "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid", "setsockopt",
        "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
        "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
        "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill",
        "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
        "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
        "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink",
        "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid",
        "waitpid", "write", "writev",
    ]

    /// Allowed only to a process holding the capability.
    static let allowedWithCapability: [(capability: String, syscalls: [String])] = [
        ("CAP_SYS_ADMIN", ["bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                           "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
                           "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
                           "umount2", "unshare"]),
        ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
        ("CAP_SYS_BOOT", ["reboot"]),
        ("CAP_SYS_CHROOT", ["chroot"]),
        ("CAP_SYS_MODULE", ["delete_module", "init_module", "finit_module"]),
        ("CAP_SYS_PACCT", ["acct"]),
        ("CAP_SYS_PTRACE", ["kcmp", "pidfd_getfd", "process_madvise"]),
        ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
        ("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
        ("CAP_SYS_TTY_CONFIG", ["vhangup"]),
        ("CAP_SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
        ("CAP_SYSLOG", ["syslog"]),
        ("CAP_BPF", ["bpf"]),
        ("CAP_PERFMON", ["perf_event_open"]),
    ]

    /// `personality` only with the values Docker allows (PER_LINUX, PER_LINUX32, UNAME26 variants, query).
    static let personalities: [UInt64] = [0, 0x0008, 0x20000, 0x20008, 0xffff_ffff]
    /// The CLONE_NEW* flags: a `clone` without CAP_SYS_ADMIN must not set any of them.
    static let namespaceCloneFlags: UInt64 = 0x7e02_0000
    static let addressFamilyVsock: UInt64 = 40
    static let errnoNotImplemented: UInt32 = 38

    static func profile(capabilities: Set<String>) -> Seccomp {
        typealias Rule = Seccomp.Syscall
        typealias Argument = Seccomp.Arg
        let allow = "SCMP_ACT_ALLOW"
        var rules = [Rule(names: allowed, action: allow)]
        rules.append(Rule(names: ["socket"], action: allow, args: [Argument(index: 0, value: addressFamilyVsock, op: "SCMP_CMP_NE")]))
        for persona in personalities {
            rules.append(Rule(names: ["personality"], action: allow, args: [Argument(index: 0, value: persona, op: "SCMP_CMP_EQ")]))
        }
        for (capability, syscalls) in allowedWithCapability where capabilities.contains(capability) {
            rules.append(Rule(names: syscalls, action: allow))
        }
        if !capabilities.contains("CAP_SYS_ADMIN") {
            rules.append(Rule(names: ["clone"], action: allow, args: [
                Argument(index: 0, value: namespaceCloneFlags, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ"),
            ]))
            rules.append(Rule(names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: errnoNotImplemented))
        }
        // Built directly, once per container: a trip through JSONEncoder and JSONDecoder was most of tetherd's own
        // work in a `run --rm` (callgrind).
        return Seccomp(defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1,
                       architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], syscalls: rules)
    }
}
