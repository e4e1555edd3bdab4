import OCISpec

/// The device cgroup allow-list, as runc builds it: the config's `linux.resources.devices` rules in order, then
/// the devices every container gets (runc's AllowedDevices: mknod of any device, /dev/null, zero, full, random,
/// urandom, tty, ptmx and the pty slaves).
///
/// cgroup v1 enforces it with `devices.deny "a"` followed by each rule (DeviceRules.applyV1). cgroup v2 has no
/// device files: the same list becomes a BPF_PROG_TYPE_CGROUP_DEVICE program (DeviceFilterProgram).
enum DeviceRules {
    /// runc's default allowed devices.
    static let defaults: [Resources.DeviceCgroup] = [
        .init(allow: true, type: "c", major: nil, minor: nil, access: "m"),
        .init(allow: true, type: "b", major: nil, minor: nil, access: "m"),
        .init(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),    // /dev/null
        .init(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),    // /dev/random
        .init(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),    // /dev/full
        .init(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),    // /dev/tty
        .init(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),    // /dev/zero
        .init(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),    // /dev/urandom
        .init(allow: true, type: "c", major: 136, minor: nil, access: "rwm"), // /dev/pts/*
        .init(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),    // /dev/ptmx
    ]

    /// `resources` with an allow rule ("rwm") for every device the config creates (`linux.devices`), after the
    /// config's own rules and before the defaults, as runc's specconv does. FIFOs (type "p") get no rule: the
    /// device cgroup has no FIFO type, and runc skips them (DeviceType.CanCgroup).
    static func allowingCreatedDevices(_ resources: Resources?, _ devices: [Linux.Device]?) -> Resources? {
        let devices = (devices ?? []).filter { $0.type != "p" }
        guard !devices.isEmpty else { return resources }
        var result = resources ?? Resources()
        var rules = result.devices ?? []
        for device in devices {
            rules.append(.init(allow: true, type: device.type == "u" ? "c" : device.type, major: device.major, minor: device.minor, access: "rwm"))
        }
        result.devices = rules
        return result
    }

    /// The v1 line for a rule: `type major:minor access`, `*` for a missing or negative number.
    static func line(_ rule: Resources.DeviceCgroup, field: String) throws -> String {
        let type = rule.type ?? "a"
        guard ["a", "c", "b"].contains(type) else {
            throw RuntimeError(.invalidConfig, "\(field).type: \"\(type)\" is not a, c or b", stage: "cgroups")
        }
        let access = rule.access ?? "rwm"
        guard !access.isEmpty, access.allSatisfy({ "rwm".contains($0) }) else {
            throw RuntimeError(.invalidConfig, "\(field).access: \"\(access)\" is not a combination of r, w and m", stage: "cgroups")
        }
        func number(_ value: Int64?) -> String {
            guard let value, value >= 0 else { return "*" }
            return String(value)
        }
        return "\(type) \(number(rule.major)):\(number(rule.minor)) \(access)"
    }

    /// The whole list as cgroup v1 ends up holding it: deny everything, the config's rules in order, the defaults.
    static func effective(_ rules: [Resources.DeviceCgroup]) -> [Resources.DeviceCgroup] {
        [.init(allow: false, type: "a", major: nil, minor: nil, access: "rwm")] + rules + defaults
    }

    /// Deny everything, then the config's rules in order, then the defaults.
    static func applyV1(_ rules: [Resources.DeviceCgroup], directory: String) throws {
        try ControlGroupFile.write(directory, "devices.deny", "a", field: "linux.resources.devices")
        for (index, rule) in rules.enumerated() {
            let field = "linux.resources.devices[\(index)]"
            try ControlGroupFile.write(directory, rule.allow ? "devices.allow" : "devices.deny", try line(rule, field: field), field: field)
        }
        for rule in defaults {
            try ControlGroupFile.write(directory, "devices.allow", try line(rule, field: "default devices"))
        }
    }
}
