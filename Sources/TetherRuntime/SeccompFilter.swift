#if canImport(Glibc)
import Glibc
#endif
import CSeccomp
import CTetherLinux
import OCISpec
import TetherSystem

/// `linux.seccomp` compiled by libseccomp in the parent, before clone, into a classic BPF program (runc's
/// libcontainer/seccomp semantics); the child only hands the program to seccomp(2), so nothing can fail there but
/// the kernel's verdict.
///
/// As runc: KILL is KILL_THREAD; ERRNO and TRACE return `errnoRet` (default EPERM), the default action
/// `defaultErrnoRet`; a rule whose action equals the default is skipped; syscall names libseccomp does not know
/// are skipped; conditions on the same argument index are added as one rule per condition, otherwise all
/// conditions form one rule; TSYNC is accepted and ignored (the process is single-threaded); more than 32 rules
/// turn on libseccomp's binary-tree optimization. Not done: runc's patchbpf ENOSYS stub for syscalls newer than
/// the profile.
struct SeccompProgram {
    /// `struct sock_filter` instructions, 8 bytes each.
    let instructions: [UInt8]
    /// SECCOMP_FILTER_FLAG_* for seccomp(2).
    let flags: UInt32
    /// A rule uses SCMP_ACT_NOTIFY: the filter is loaded with a listener and its fd goes to `listenerPath`.
    let notifies: Bool

    private static let flagLog: UInt32 = 1 << 1  // SECCOMP_FILTER_FLAG_LOG
    private static let flagSpecAllow: UInt32 = 1 << 2  // SECCOMP_FILTER_FLAG_SPEC_ALLOW
    private static let flagNewListener: UInt32 = 1 << 3  // SECCOMP_FILTER_FLAG_NEW_LISTENER

    /// Compiles a validated `linux.seccomp`; errors name the field at fault.
    static func compile(_ seccomp: Seccomp) throws -> SeccompProgram {
        let defaultAction = action(seccomp.defaultAction, errnoRet: seccomp.defaultErrnoRet)
        guard let context = seccomp_init(defaultAction) else {
            throw RuntimeError(.invalidConfig, "linux.seccomp.defaultAction: libseccomp rejected \"\(seccomp.defaultAction)\"",
                               stage: "seccomp")
        }
        defer { seccomp_release(context) }

        for (index, name) in (seccomp.architectures ?? []).enumerated() {
            let libseccompName = String(name.lowercased().dropFirst("scmp_arch_".count))
            let token = seccomp_arch_resolve_name(libseccompName)
            if token == 0 {
                throw RuntimeError(.unsupported, "linux.seccomp.architectures[\(index)]: unknown architecture \"\(name)\"",
                                   stage: "seccomp")
            }
            let result = seccomp_arch_add(context, token)
            if result < 0 && result != -EEXIST {
                throw RuntimeError(.system, "linux.seccomp.architectures[\(index)]: \(name): \(SyscallError.describe(-result))",
                                   stage: "seccomp")
            }
        }
        let rules = seccomp.syscalls ?? []
        if rules.count > 32 { _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_OPTIMIZE, 2) }

        for (index, rule) in rules.enumerated() {
            let ruleAction = action(rule.action, errnoRet: rule.errnoRet)
            if ruleAction == defaultAction { continue }
            let conditions = (rule.args ?? []).map { arg in
                scmp_arg_cmp(arg: arg.index, op: comparison(arg.op), datum_a: arg.value, datum_b: arg.valueTwo ?? 0)
            }
            let indices = conditions.map(\.arg)
            let sharesAnIndex = Set(indices).count < indices.count
            let groups = sharesAnIndex ? conditions.map { [$0] } : [conditions]
            for name in rule.names {
                let number = seccomp_syscall_resolve_name(name)
                if number == __NR_SCMP_ERROR { continue }
                for group in groups {
                    let result = group.withUnsafeBufferPointer {
                        seccomp_rule_add_array(context, ruleAction, number, UInt32($0.count), $0.baseAddress)
                    }
                    if result < 0 {
                        throw RuntimeError(.invalidConfig, "linux.seccomp.syscalls[\(index)]: rule for \(name): \(SyscallError.describe(-result))",
                                           stage: "seccomp")
                    }
                }
            }
        }

        return SeccompProgram(seccomp, instructions: try export(context))
    }

    /// The program of `seccomp` given its compiled instructions (flags and notification follow from the profile).
    init(_ seccomp: Seccomp, instructions: [UInt8]) {
        var flags: UInt32 = 0
        for flag in seccomp.flags ?? [] {
            if flag == "SECCOMP_FILTER_FLAG_LOG" { flags |= SeccompProgram.flagLog }
            if flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW" { flags |= SeccompProgram.flagSpecAllow }
        }
        if seccomp.usesNotify { flags |= SeccompProgram.flagNewListener }
        self.instructions = instructions
        self.flags = flags
        self.notifies = seccomp.usesNotify
    }

    /// The BPF program, through a memfd (libseccomp 2.5 exports only to a file descriptor).
    private static func export(_ context: scmp_filter_ctx) throws -> [UInt8] {
        do {
            let fd = try sys("memfd_create") { tether_memfd_create("tether-seccomp", 1 /* MFD_CLOEXEC */) }
            defer { FileIO.close(fd) }
            let result = seccomp_export_bpf(context, fd)
            if result < 0 { throw SyscallError("seccomp_export_bpf", errno: -result) }
            if lseek(fd, 0, SEEK_SET) < 0 { throw SyscallError.current("lseek") }
            return try FileIO.readAll(fd)
        } catch let error as SyscallError {
            throw RuntimeError.system(error, stage: "seccomp")
        }
    }

    /// Loads the filter into the calling process. Returns the notification listener's fd when the filter notifies.
    func load() throws(InitFailure) -> Int32? {
        let count = instructions.count / 8
        let result = instructions.withUnsafeBytes { tether_seccomp_load($0.baseAddress, UInt16(count), flags) }
        if result < 0 {
            let code = errno
            throw InitFailure("seccomp", errno: code, "seccomp(SECCOMP_SET_MODE_FILTER): \(SyscallError.describe(code))")
        }
        return notifies ? result : nil
    }

    /// libseccomp's value for a validated action name.
    static func action(_ name: String, errnoRet: UInt32?) -> UInt32 {
        let code = (errnoRet ?? UInt32(EPERM)) & 0xffff
        switch name {
        case "SCMP_ACT_KILL_PROCESS": return SCMP_ACT_KILL_PROCESS
        case "SCMP_ACT_TRAP": return SCMP_ACT_TRAP
        case "SCMP_ACT_ERRNO": return 0x0005_0000 | code  // SCMP_ACT_ERRNO(code)
        case "SCMP_ACT_TRACE": return 0x7ff0_0000 | code  // SCMP_ACT_TRACE(code)
        case "SCMP_ACT_ALLOW": return SCMP_ACT_ALLOW
        case "SCMP_ACT_LOG": return SCMP_ACT_LOG
        case "SCMP_ACT_NOTIFY": return SCMP_ACT_NOTIFY
        default: return SCMP_ACT_KILL_THREAD  // SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD
        }
    }

    static func comparison(_ name: String) -> scmp_compare {
        switch name {
        case "SCMP_CMP_NE": return SCMP_CMP_NE
        case "SCMP_CMP_LT": return SCMP_CMP_LT
        case "SCMP_CMP_LE": return SCMP_CMP_LE
        case "SCMP_CMP_GE": return SCMP_CMP_GE
        case "SCMP_CMP_GT": return SCMP_CMP_GT
        case "SCMP_CMP_MASKED_EQ": return SCMP_CMP_MASKED_EQ
        default: return SCMP_CMP_EQ
        }
    }
}
