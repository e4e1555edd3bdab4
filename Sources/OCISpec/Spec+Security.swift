/// The names `process.capabilities` and `linux.seccomp` accept, and their validation.

extension Process.Capabilities {
    /// Every capability name the runtime knows, in kernel order: the index of a name is its number
    /// (CAP_CHOWN = 0 … CAP_CHECKPOINT_RESTORE = 40). The one table of capability names.
    public static let knownNames = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// The kernel number of a capability name, nil when unknown.
    public static func number(of name: String) -> Int? { knownNames.firstIndex(of: name) }

    /// The five sets with their JSON keys, in the order runc applies them.
    public var namedSets: [(key: String, names: [String]?)] {
        [("bounding", bounding), ("effective", effective), ("inheritable", inheritable), ("permitted", permitted),
         ("ambient", ambient)]
    }

    /// Every name must be known: `process.capabilities.bounding[3]: unknown capability "CAP_FOO"`.
    public func validate(path: String) throws(SpecError) {
        for (key, names) in namedSets {
            for (index, name) in (names ?? []).enumerated() where Self.number(of: name) == nil {
                throw SpecError(path: "\(path).\(key)[\(index)]", "unknown capability \"\(name)\"")
            }
        }
    }
}

extension Seccomp {
    public static let knownActions = [
        "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
    ]
    public static let knownOperators = [
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
    ]
    /// runc's flags: TSYNC is accepted and has no effect (the process is single-threaded when it loads the filter).
    public static let knownFlags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]
    /// runtime-spec's architectures; libseccomp resolves each by its lower-cased name without `SCMP_ARCH_`.
    public static let knownArchitectures = [
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
        "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
        "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
    ]

    /// Whether any rule hands syscalls to a user-space agent (`linux.seccomp.listenerPath`).
    public var usesNotify: Bool { (syscalls ?? []).contains { $0.action == "SCMP_ACT_NOTIFY" } }

    /// Names, actions, operators, flags and architectures must be known; NOTIFY needs a listener and, as with
    /// runc, may not be the default action nor apply to the calls the runtime needs to hand the fd over.
    public func validate(path: String) throws(SpecError) {
        if !Self.knownActions.contains(defaultAction) {
            throw SpecError(path: "\(path).defaultAction", "unknown action \"\(defaultAction)\"")
        }
        if defaultAction == "SCMP_ACT_NOTIFY" {
            throw SpecError(path: "\(path).defaultAction", "SCMP_ACT_NOTIFY cannot be the default action")
        }
        for (index, architecture) in (architectures ?? []).enumerated() where !Self.knownArchitectures.contains(architecture) {
            throw SpecError(path: "\(path).architectures[\(index)]", "unknown architecture \"\(architecture)\"")
        }
        for (index, flag) in (flags ?? []).enumerated() where !Self.knownFlags.contains(flag) {
            throw SpecError(path: "\(path).flags[\(index)]", "unknown flag \"\(flag)\"")
        }
        for (index, rule) in (syscalls ?? []).enumerated() {
            let rulePath = "\(path).syscalls[\(index)]"
            if rule.names.isEmpty { throw SpecError(path: "\(rulePath).names", "must not be empty") }
            for (nameIndex, name) in rule.names.enumerated() where name.isEmpty {
                throw SpecError(path: "\(rulePath).names[\(nameIndex)]", "must not be empty")
            }
            if !Self.knownActions.contains(rule.action) {
                throw SpecError(path: "\(rulePath).action", "unknown action \"\(rule.action)\"")
            }
            if rule.action == "SCMP_ACT_NOTIFY", let name = rule.names.first(where: { $0 == "write" || $0 == "sendmsg" }) {
                throw SpecError(path: "\(rulePath).names", "SCMP_ACT_NOTIFY cannot be used for \(name) (the runtime needs it to pass the listener fd)")
            }
            for (argIndex, arg) in (rule.args ?? []).enumerated() {
                if arg.index > 5 {
                    throw SpecError(path: "\(rulePath).args[\(argIndex)].index", "must be 0 to 5, got \(arg.index)")
                }
                if !Self.knownOperators.contains(arg.op) {
                    throw SpecError(path: "\(rulePath).args[\(argIndex)].op", "unknown operator \"\(arg.op)\"")
                }
            }
        }
        if usesNotify && (listenerPath ?? "").isEmpty {
            throw SpecError(path: "\(path).listenerPath", "required when a rule uses SCMP_ACT_NOTIFY")
        }
    }
}
