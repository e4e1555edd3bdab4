#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import OCISpec
import TetherSystem

/// The device allow-list for cgroup v2, which has no devices files: an eBPF program of type
/// BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup, asked for every open or mknod of a device node.
///
/// It decides as cgroup v1 does with the same list (DeviceRules.effectiveRules: "deny all", the config's rules,
/// the defaults): the last rule that matches wins. An allow rule matches when it grants every access asked for, a
/// deny rule when it takes any of them away. Rules are emitted last first, each returning its verdict on a match;
/// nothing matching denies.
///
/// The context (`struct bpf_cgroup_dev_ctx`): u32 access_type = access << 16 | type at offset 0, u32 major at 4,
/// u32 minor at 8; type 1 block, 2 char; access bits mknod 1, read 2, write 4.
struct DeviceFilterProgram {
    /// `struct bpf_insn`s, 8 bytes each.
    private(set) var instructions: [UInt8] = []

    init(rules: [Resources.DeviceCgroup]) {
        // r2 = type, r3 = access, r4 = major, r5 = minor
        load(register: 2, offset: 0)
        alu32(0x54, register: 2, immediate: 0xFFFF)   // and
        load(register: 3, offset: 0)
        alu32(0x74, register: 3, immediate: 16)       // rsh
        load(register: 4, offset: 4)
        load(register: 5, offset: 8)
        // A rule that matches everything ends the program: what it hides could never run, and the verifier
        // refuses unreachable instructions.
        for rule in rules.reversed() {
            if appendRule(rule) { return }
        }
        returnVerdict(false)
    }

    var count: Int { instructions.count / 8 }

    // MARK: rules

    private static let typeBlock: Int32 = 1
    private static let typeChar: Int32 = 2

    static func accessBits(_ access: String) -> Int32 {
        var bits: Int32 = 0
        if access.contains("m") { bits |= 1 }
        if access.contains("r") { bits |= 2 }
        if access.contains("w") { bits |= 4 }
        return bits
    }

    /// One rule: checks that jump past the rule on a mismatch, then the verdict. Returns whether it matches every
    /// access (no checks).
    private mutating func appendRule(_ rule: Resources.DeviceCgroup) -> Bool {
        // Each check is one or two instructions and jumps to the end of this rule's block on a mismatch; the
        // offsets are known once the block is laid out, so checks are collected first.
        enum Check { case type(Int32), accessSubset(Int32), accessIntersects(Int32), major(Int32), minor(Int32) }
        var checks: [Check] = []
        switch rule.type ?? "a" {
        case "b": checks.append(.type(DeviceFilterProgram.typeBlock))
        case "c": checks.append(.type(DeviceFilterProgram.typeChar))
        default: break
        }
        let bits = DeviceFilterProgram.accessBits(rule.access ?? "rwm")
        if bits != 7 { checks.append(rule.allow ? .accessSubset(bits) : .accessIntersects(bits)) }
        if let major = rule.major, major >= 0 { checks.append(.major(Int32(truncatingIfNeeded: major))) }
        if let minor = rule.minor, minor >= 0 { checks.append(.minor(Int32(truncatingIfNeeded: minor))) }

        func length(_ check: Check) -> Int {
            switch check {
            case .type, .major, .minor: return 1
            case .accessSubset, .accessIntersects: return 3
            }
        }
        var remaining = checks.map(length).reduce(0, +) + 2  // + the verdict (mov, exit)
        for check in checks {
            remaining -= length(check)
            let skip = Int16(remaining)  // from the instruction after this check to the end of the block
            switch check {
            case .type(let value): jumpIfNotEqual(register: 2, value, skip: skip)
            case .major(let value): jumpIfNotEqual(register: 4, value, skip: skip)
            case .minor(let value): jumpIfNotEqual(register: 5, value, skip: skip)
            case .accessSubset(let value):
                // r1 = access & ^granted; a bit asked for but not granted → no match
                move(destination: 1, source: 3)
                alu32(0x54, register: 1, immediate: ~value & 7)
                jumpIfNotEqual(register: 1, 0, skip: skip)
            case .accessIntersects(let value):
                // r1 = access & denied; nothing in common → no match
                move(destination: 1, source: 3)
                alu32(0x54, register: 1, immediate: value)
                emit(code: 0x15, destination: 1, source: 0, offset: skip, immediate: 0)  // jeq r1, 0
            }
        }
        returnVerdict(rule.allow)
        return checks.isEmpty
    }

    // MARK: encoding

    private mutating func emit(code: UInt8, destination: UInt8, source: UInt8, offset: Int16, immediate: Int32) {
        instructions.append(code)
        instructions.append((source << 4) | (destination & 0x0F))
        withUnsafeBytes(of: offset.littleEndian) { instructions.append(contentsOf: $0) }
        withUnsafeBytes(of: immediate.littleEndian) { instructions.append(contentsOf: $0) }
    }

    /// r<register> = *(u32 *)(r1 + offset)
    private mutating func load(register: UInt8, offset: Int16) {
        emit(code: 0x61, destination: register, source: 1, offset: offset, immediate: 0)
    }

    private mutating func alu32(_ code: UInt8, register: UInt8, immediate: Int32) {
        emit(code: code, destination: register, source: 0, offset: 0, immediate: immediate)
    }

    private mutating func move(destination: UInt8, source: UInt8) {
        emit(code: 0xbf, destination: destination, source: source, offset: 0, immediate: 0)
    }

    private mutating func jumpIfNotEqual(register: UInt8, _ value: Int32, skip: Int16) {
        emit(code: 0x55, destination: register, source: 0, offset: skip, immediate: value)
    }

    private mutating func returnVerdict(_ allow: Bool) {
        emit(code: 0xb7, destination: 0, source: 0, offset: 0, immediate: allow ? 1 : 0)  // r0 = verdict
        emit(code: 0x95, destination: 0, source: 0, offset: 0, immediate: 0)              // exit
    }
}
