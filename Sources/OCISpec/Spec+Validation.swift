extension Spec {
    /// Checks what the runtime needs before it forks anything. Returns the first problem, naming its JSON path.
    /// `requireProcess` is false for validating a bundle that is only inspected.
    public func validate(requireProcess: Bool = true) throws(SpecError) {
        if ociVersion.isEmpty { throw SpecError(path: "ociVersion", "must not be empty") }
        guard let root else { throw SpecError(path: "root", "missing required field") }
        if root.path.isEmpty { throw SpecError(path: "root.path", "must not be empty") }

        if let process {
            try process.validate(path: "process")
        } else if requireProcess {
            throw SpecError(path: "process", "missing required field")
        }

        for (index, mount) in (mounts ?? []).enumerated() {
            if !mount.destination.hasPrefix("/") {
                throw SpecError(path: "mounts[\(index)].destination", "must be an absolute path, got \"\(mount.destination)\"")
            }
        }
        try hooks?.validate(path: "hooks")

        let namespaces = linux?.namespaces ?? []
        var seen: Set<NamespaceType> = []
        for (index, namespace) in namespaces.enumerated() {
            if !namespace.type.isKnown {
                throw SpecError(path: "linux.namespaces[\(index)].type", "unknown namespace \"\(namespace.type)\"")
            }
            if !seen.insert(namespace.type).inserted {
                throw SpecError(path: "linux.namespaces[\(index)].type", "duplicate namespace \"\(namespace.type)\"")
            }
            if let path = namespace.path, !path.hasPrefix("/") {
                throw SpecError(path: "linux.namespaces[\(index)].path", "must be an absolute path, got \"\(path)\"")
            }
        }
        let newUTS = namespaces.contains { $0.type == .uts }
        if let hostname, !hostname.isEmpty, !newUTS {
            throw SpecError(path: "hostname", "requires a uts namespace")
        }
        if let domainname, !domainname.isEmpty, !newUTS {
            throw SpecError(path: "domainname", "requires a uts namespace")
        }
        let hasUserNS = namespaces.contains { $0.type == .user }
        if !hasUserNS {
            if let maps = linux?.uidMappings, !maps.isEmpty {
                throw SpecError(path: "linux.uidMappings", "requires a user namespace")
            }
            if let maps = linux?.gidMappings, !maps.isEmpty {
                throw SpecError(path: "linux.gidMappings", "requires a user namespace")
            }
        } else if namespaces.first(where: { $0.type == .user })?.path == nil {
            if (linux?.uidMappings ?? []).isEmpty { throw SpecError(path: "linux.uidMappings", "required with a new user namespace") }
            if (linux?.gidMappings ?? []).isEmpty { throw SpecError(path: "linux.gidMappings", "required with a new user namespace") }
        }
        if let offsets = linux?.timeOffsets, !offsets.isEmpty, !namespaces.contains(where: { $0.type == .time }) {
            throw SpecError(path: "linux.timeOffsets", "requires a time namespace")
        }
        for clock in (linux?.timeOffsets ?? [:]).keys.sorted() where clock != "monotonic" && clock != "boottime" {
            throw SpecError(path: "linux.timeOffsets.\(clock)", "unknown clock (monotonic or boottime)")
        }
        if let offsets = linux?.timeOffsets, !offsets.isEmpty, namespaces.contains(where: { $0.type == .time && $0.path != nil }) {
            throw SpecError(path: "linux.timeOffsets", "cannot be set when joining an existing time namespace")
        }
        if let propagation = linux?.rootfsPropagation, !propagation.isEmpty,
           !["private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"].contains(propagation) {
            throw SpecError(path: "linux.rootfsPropagation", "unknown propagation \"\(propagation)\"")
        }
        for (index, device) in (linux?.devices ?? []).enumerated() {
            if !["c", "u", "b", "p"].contains(device.type) {
                throw SpecError(path: "linux.devices[\(index)].type", "unknown device type \"\(device.type)\"")
            }
            if !device.path.hasPrefix("/dev/") {
                throw SpecError(path: "linux.devices[\(index)].path", "must be under /dev, got \"\(device.path)\"")
            }
            if device.type != "p" && (device.major == nil || device.minor == nil) {
                throw SpecError(path: "linux.devices[\(index)]", "major and minor are required for type \"\(device.type)\"")
            }
        }
        for key in (linux?.sysctl ?? [:]).keys.sorted() where key.isEmpty || key.contains("/") || key.contains("..") {
            throw SpecError(path: "linux.sysctl", "invalid key \"\(key)\"")
        }
        try linux?.seccomp?.validate(path: "linux.seccomp")
    }
}

extension Process {
    /// Rlimit names the runtime knows (`RLIMIT_*`).
    public static let rlimitTypes = [
        "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC",
        "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
    ]

    /// Validates a process (the config's `process`, or an exec's process.json), naming fields under `path`.
    public func validate(path: String) throws(SpecError) {
        guard let args, !args.isEmpty else { throw SpecError(path: "\(path).args", "must not be empty") }
        if args[0].isEmpty { throw SpecError(path: "\(path).args[0]", "must not be empty") }
        if !cwd.hasPrefix("/") { throw SpecError(path: "\(path).cwd", "must be an absolute path, got \"\(cwd)\"") }
        for (index, entry) in (env ?? []).enumerated() where !entry.contains("=") {
            throw SpecError(path: "\(path).env[\(index)]", "must be KEY=value, got \"\(entry)\"")
        }
        try capabilities?.validate(path: "\(path).capabilities")
        var seen: Set<String> = []
        for (index, limit) in (rlimits ?? []).enumerated() {
            if !Process.rlimitTypes.contains(limit.type) {
                throw SpecError(path: "\(path).rlimits[\(index)].type", "unknown rlimit \"\(limit.type)\"")
            }
            if !seen.insert(limit.type).inserted {
                throw SpecError(path: "\(path).rlimits[\(index)].type", "duplicate rlimit \"\(limit.type)\"")
            }
            if limit.soft > limit.hard {
                throw SpecError(path: "\(path).rlimits[\(index)]", "soft limit \(limit.soft) exceeds hard limit \(limit.hard)")
            }
        }
    }
}
