#if canImport(Glibc)
import Glibc
#endif
import CLibcap
import CTetherLinux
import OCISpec
import TetherSystem

/// `process.capabilities` resolved to kernel numbers by the parent, applied by the child in runc's order
/// (libcontainer/capabilities, finalizeNamespace):
/// 1. while still privileged, drop from the bounding set every capability not listed (PR_CAPBSET_DROP), and keep
///    the permitted set across the uid change (PR_SET_KEEPCAPS);
/// 2. setgroups / setresgid / setresuid (ProcessSetup);
/// 3. clear PR_SET_KEEPCAPS, set effective, permitted and inheritable with capset, then reset the ambient set and
///    raise each listed ambient capability (failures to raise are ignored, as runc only warns).
/// Names are validated by OCISpec (an unknown name is a config error); known names above the kernel's
/// /proc/sys/kernel/cap_last_cap are ignored, as runc does. An absent `process.capabilities` changes nothing
/// (runc ≥ 1.2; runc 1.1 dropped every capability).
struct CapabilitySets {
    var bounding: [cap_value_t]
    var effective: [cap_value_t]
    var inheritable: [cap_value_t]
    var permitted: [cap_value_t]
    var ambient: [cap_value_t]
    /// The highest capability number the kernel knows.
    let lastCapability: cap_value_t

    /// nil when the process has no `capabilities` (no change).
    static func resolve(_ capabilities: Process.Capabilities?) -> CapabilitySets? {
        guard let capabilities else { return nil }
        let last = lastKernelCapability()
        func numbers(_ names: [String]?) -> [cap_value_t] {
            (names ?? []).compactMap { Process.Capabilities.number(of: $0) }.map { cap_value_t($0) }.filter { $0 <= last }
        }
        return CapabilitySets(
            bounding: numbers(capabilities.bounding), effective: numbers(capabilities.effective),
            inheritable: numbers(capabilities.inheritable), permitted: numbers(capabilities.permitted),
            ambient: numbers(capabilities.ambient), lastCapability: last)
    }

    /// /proc/sys/kernel/cap_last_cap, or libcap's probe of the bounding set when it cannot be read.
    static func lastKernelCapability() -> cap_value_t {
        if let text = try? FileIO.readText("/proc/sys/kernel/cap_last_cap"),
           let line = text.split(separator: "\n").first, let value = Int32(line) {
            return value
        }
        return cap_max_bits() - 1
    }

    /// Step 1: bounding set and keep-caps. Like runc (gocapability), the bounding set is only changed when
    /// CAP_SETPCAP is effective, and EINVAL (a capability this kernel lacks) is ignored.
    func dropBoundingSetAndKeepCaps() throws(InitFailure) {
        try step("capabilities: bounding set") {
            if CapabilitySets.isEffective(cap_value_t(CAP_SETPCAP)) {
                for cap in 0...lastCapability where !bounding.contains(cap) {
                    if tether_cap_bset_drop(cap) < 0 && errno != EINVAL {
                        throw SyscallError.current("prctl PR_CAPBSET_DROP \(CapabilitySets.name(cap))")
                    }
                }
            }
            try check(tether_set_keepcaps(1), "prctl PR_SET_KEEPCAPS 1")
        }
    }

    /// Step 3, after the uid change.
    func apply() throws(InitFailure) {
        try step("capabilities") {
            try check(tether_set_keepcaps(0), "prctl PR_SET_KEEPCAPS 0")
            try requireHeld()
            guard let state = cap_init() else { throw SyscallError.current("cap_init") }
            defer { cap_free(UnsafeMutableRawPointer(state)) }
            for (flag, values) in [(CAP_EFFECTIVE, effective), (CAP_PERMITTED, permitted), (CAP_INHERITABLE, inheritable)]
            where !values.isEmpty {
                try check(values.withUnsafeBufferPointer { cap_set_flag(state, flag, Int32($0.count), $0.baseAddress, CAP_SET) },
                          "cap_set_flag")
            }
            try check(cap_set_proc(state), "capset")
            // EINVAL: a kernel without ambient capabilities (runc goes on too).
            if tether_cap_ambient_clear_all() < 0 && errno != EINVAL {
                throw SyscallError.current("prctl PR_CAP_AMBIENT_CLEAR_ALL")
            }
            for cap in ambient { _ = tether_cap_ambient_raise(cap) }
        }
    }

    /// capset cannot raise a capability the process does not hold (one outside the bounding set the runtime
    /// was started with): fail naming it, where capset only says EPERM.
    func requireHeld() throws {
        guard let state = cap_get_proc() else { throw SyscallError.current("cap_get_proc") }
        defer { cap_free(UnsafeMutableRawPointer(state)) }
        let missing = Set(effective + permitted + inheritable).filter { cap in
            var value = CAP_CLEAR
            return cap_get_flag(state, cap, CAP_PERMITTED, &value) == 0 && value != CAP_SET
        }
        if !missing.isEmpty {
            let names = missing.sorted().map { CapabilitySets.name($0) }.joined(separator: ", ")
            throw SyscallError("capset: \(names) not in the permitted and bounding sets the runtime was started with", errno: EPERM)
        }
    }

    static func isEffective(_ cap: cap_value_t) -> Bool {
        guard let state = cap_get_proc() else { return false }
        defer { cap_free(UnsafeMutableRawPointer(state)) }
        var value = CAP_CLEAR
        return cap_get_flag(state, cap, CAP_EFFECTIVE, &value) == 0 && value == CAP_SET
    }

    static func name(_ cap: cap_value_t) -> String {
        let names = Process.Capabilities.knownNames
        return Int(cap) < names.count ? names[Int(cap)] : "capability \(cap)"
    }
}
