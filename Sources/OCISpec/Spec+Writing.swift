/// config.json and the parts of it a runtime's state keeps, written by JSONWriter, member for member what their
/// Codable conformance writes (OCISpecTests' parity test checks every member, both ways); the seldom used members
/// (the process's consoleSize, ioPriority, scheduler and execCPUAffinity; linux's timeOffsets, intelRdt and
/// personality; block I/O, hugepage, network and rdma resources) go through JSONEncoder.

extension Spec: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("ociVersion", ociVersion)
            writer.field("process", process)
            writer.field("root", root)
            writer.field("hostname", hostname)
            writer.field("domainname", domainname)
            writer.field("mounts", mounts)
            writer.field("hooks", hooks)
            writer.field("annotations", annotations)
            writer.field("linux", linux)
        }
    }
}

extension Root: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("path", path)
            writer.field("readonly", readonly)
        }
    }
}

extension Mount: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("destination", destination)
            writer.field("type", type)
            writer.field("source", source)
            writer.field("options", options)
            writer.field("uidMappings", uidMappings)
            writer.field("gidMappings", gidMappings)
        }
    }
}

extension IDMapping: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("containerID", containerID)
            writer.field("hostID", hostID)
            writer.field("size", size)
        }
    }
}

extension Linux: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("namespaces", namespaces)
            writer.field("uidMappings", uidMappings)
            writer.field("gidMappings", gidMappings)
            writer.encodedField("timeOffsets", timeOffsets)
            writer.field("devices", devices)
            writer.field("cgroupsPath", cgroupsPath)
            writer.field("resources", resources)
            writer.field("rootfsPropagation", rootfsPropagation)
            writer.field("seccomp", seccomp)
            writer.field("sysctl", sysctl)
            writer.field("maskedPaths", maskedPaths)
            writer.field("readonlyPaths", readonlyPaths)
            writer.field("mountLabel", mountLabel)
            writer.encodedField("intelRdt", intelRdt)
            writer.encodedField("personality", personality)
        }
    }
}

extension Linux.Device: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("type", type)
            writer.field("path", path)
            writer.field("major", major)
            writer.field("minor", minor)
            writer.field("fileMode", fileMode)
            writer.field("uid", uid)
            writer.field("gid", gid)
        }
    }
}

extension Process: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("terminal", terminal)
            writer.encodedField("consoleSize", consoleSize)
            writer.field("user", user)
            writer.field("args", args)
            writer.field("commandLine", commandLine)
            writer.field("env", env)
            writer.field("cwd", cwd)
            writer.field("capabilities", capabilities)
            writer.field("rlimits", rlimits)
            writer.field("noNewPrivileges", noNewPrivileges)
            writer.field("apparmorProfile", apparmorProfile)
            writer.field("oomScoreAdj", oomScoreAdj)
            writer.field("selinuxLabel", selinuxLabel)
            writer.encodedField("ioPriority", ioPriority)
            writer.encodedField("scheduler", scheduler)
            writer.encodedField("execCPUAffinity", execCPUAffinity)
        }
    }
}

extension Process.User: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("uid", uid)
            writer.field("gid", gid)
            writer.field("umask", umask)
            writer.field("additionalGids", additionalGids)
            writer.field("username", username)
        }
    }
}

extension Process.Capabilities: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("bounding", bounding)
            writer.field("effective", effective)
            writer.field("inheritable", inheritable)
            writer.field("permitted", permitted)
            writer.field("ambient", ambient)
        }
    }
}

extension Process.Rlimit: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("type", type)
            writer.field("hard", hard)
            writer.field("soft", soft)
        }
    }
}

extension Linux.Namespace: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("type", type.rawValue)
            writer.field("path", path)
        }
    }
}

extension Seccomp: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("defaultAction", defaultAction)
            writer.field("defaultErrnoRet", defaultErrnoRet)
            writer.field("architectures", architectures)
            writer.field("flags", flags)
            writer.field("listenerPath", listenerPath)
            writer.field("listenerMetadata", listenerMetadata)
            writer.field("syscalls", syscalls)
        }
    }
}

extension Seccomp.Syscall: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("names", names)
            writer.field("action", action)
            writer.field("errnoRet", errnoRet)
            writer.field("args", args)
        }
    }
}

extension Seccomp.Arg: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("index", index)
            writer.field("value", value)
            writer.field("valueTwo", valueTwo)
            writer.field("op", op)
        }
    }
}

extension Hooks: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("prestart", prestart)
            writer.field("createRuntime", createRuntime)
            writer.field("createContainer", createContainer)
            writer.field("startContainer", startContainer)
            writer.field("poststart", poststart)
            writer.field("poststop", poststop)
        }
    }
}

extension Hook: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("path", path)
            writer.field("args", args)
            writer.field("env", env)
            writer.field("timeout", timeout)
        }
    }
}

/// `linux.resources`, which a runtime keeps to merge `update`s into (as runc's state.json keeps the cgroup
/// config). The seldom used block I/O, hugepage, network and rdma sections go through JSONEncoder.
extension Resources: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("devices", devices)
            writer.field("memory", memory)
            writer.field("cpu", cpu)
            writer.field("pids", pids)
            writer.encodedField("blockIO", blockIO)
            writer.encodedField("hugepageLimits", hugepageLimits)
            writer.encodedField("network", network)
            writer.encodedField("rdma", rdma)
            writer.field("unified", unified)
        }
    }
}

extension Resources.DeviceCgroup: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("allow", allow)
            writer.field("type", type)
            writer.field("major", major)
            writer.field("minor", minor)
            writer.field("access", access)
        }
    }
}

extension Resources.Memory: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("limit", limit)
            writer.field("reservation", reservation)
            writer.field("swap", swap)
            writer.field("kernel", kernel)
            writer.field("kernelTCP", kernelTCP)
            writer.field("swappiness", swappiness)
            writer.field("disableOOMKiller", disableOOMKiller)
            writer.field("useHierarchy", useHierarchy)
            writer.field("checkBeforeUpdate", checkBeforeUpdate)
        }
    }
}

extension Resources.CPU: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("shares", shares)
            writer.field("quota", quota)
            writer.field("burst", burst)
            writer.field("period", period)
            writer.field("realtimeRuntime", realtimeRuntime)
            writer.field("realtimePeriod", realtimePeriod)
            writer.field("cpus", cpus)
            writer.field("mems", mems)
            writer.field("idle", idle)
        }
    }
}

extension Resources.Pids: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in writer.field("limit", limit) }
    }
}
