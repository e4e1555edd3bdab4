/// config.json read straight from a JSONNode (see `Spec.decode`): the same fields and the same `Spec` as the
/// Codable conformance, unknown members ignored, null read as absent. What nearly every config has (process,
/// root, mounts, namespaces, devices, resources, seccomp) is read here; rarer sections (hooks, timeOffsets,
/// intelRdt, personality, blockIO, hugepage limits, network, rdma, and the process's consoleSize, ioPriority,
/// scheduler, execCPUAffinity) go through JSONDecoder on their own bytes.

extension Spec: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        ociVersion = try object.required("ociVersion")
        process = try object.optional("process")
        root = try object.optional("root")
        hostname = try object.optional("hostname")
        domainname = try object.optional("domainname")
        mounts = try object.optional("mounts")
        hooks = try object.decoded("hooks")
        annotations = try object.optional("annotations")
        linux = try object.optional("linux")
    }
}

extension Root: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        self.path = try object.required("path")
        readonly = try object.optional("readonly")
    }
}

extension Mount: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        destination = try object.required("destination")
        type = try object.optional("type")
        source = try object.optional("source")
        options = try object.optional("options")
        uidMappings = try object.optional("uidMappings")
        gidMappings = try object.optional("gidMappings")
    }
}

extension IDMapping: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        containerID = try object.required("containerID")
        hostID = try object.required("hostID")
        size = try object.required("size")
    }
}

extension Process: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        terminal = try object.optional("terminal")
        consoleSize = try object.decoded("consoleSize")
        user = try object.required("user")
        args = try object.optional("args")
        commandLine = try object.optional("commandLine")
        env = try object.optional("env")
        cwd = try object.required("cwd")
        capabilities = try object.optional("capabilities")
        rlimits = try object.optional("rlimits")
        noNewPrivileges = try object.optional("noNewPrivileges")
        apparmorProfile = try object.optional("apparmorProfile")
        oomScoreAdj = try object.optional("oomScoreAdj")
        selinuxLabel = try object.optional("selinuxLabel")
        ioPriority = try object.decoded("ioPriority")
        scheduler = try object.decoded("scheduler")
        execCPUAffinity = try object.decoded("execCPUAffinity")
    }
}

extension Process.User: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        uid = try object.required("uid")
        gid = try object.required("gid")
        umask = try object.optional("umask")
        additionalGids = try object.optional("additionalGids")
        username = try object.optional("username")
    }
}

extension Process.Capabilities: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        bounding = try object.optional("bounding")
        effective = try object.optional("effective")
        inheritable = try object.optional("inheritable")
        permitted = try object.optional("permitted")
        ambient = try object.optional("ambient")
    }
}

extension Process.Rlimit: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        type = try object.required("type")
        hard = try object.required("hard")
        soft = try object.required("soft")
    }
}

extension Linux: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        namespaces = try object.optional("namespaces")
        uidMappings = try object.optional("uidMappings")
        gidMappings = try object.optional("gidMappings")
        timeOffsets = try object.decoded("timeOffsets")
        devices = try object.optional("devices")
        cgroupsPath = try object.optional("cgroupsPath")
        resources = try object.optional("resources")
        rootfsPropagation = try object.optional("rootfsPropagation")
        seccomp = try object.optional("seccomp")
        sysctl = try object.optional("sysctl")
        maskedPaths = try object.optional("maskedPaths")
        readonlyPaths = try object.optional("readonlyPaths")
        mountLabel = try object.optional("mountLabel")
        intelRdt = try object.decoded("intelRdt")
        personality = try object.decoded("personality")
    }
}

extension Linux.Namespace: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        type = NamespaceType(rawValue: try object.required("type", as: String.self))
        self.path = try object.optional("path")
    }
}

extension Linux.Device: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        type = try object.required("type")
        self.path = try object.required("path")
        major = try object.optional("major")
        minor = try object.optional("minor")
        fileMode = try object.optional("fileMode")
        uid = try object.optional("uid")
        gid = try object.optional("gid")
    }
}

extension Resources: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        devices = try object.optional("devices")
        memory = try object.optional("memory")
        cpu = try object.optional("cpu")
        pids = try object.optional("pids")
        blockIO = try object.decoded("blockIO")
        hugepageLimits = try object.decoded("hugepageLimits")
        network = try object.decoded("network")
        rdma = try object.decoded("rdma")
        unified = try object.optional("unified")
    }
}

extension Resources.DeviceCgroup: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        allow = try object.required("allow")
        type = try object.optional("type")
        major = try object.optional("major")
        minor = try object.optional("minor")
        access = try object.optional("access")
    }
}

extension Resources.Memory: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        limit = try object.optional("limit")
        reservation = try object.optional("reservation")
        swap = try object.optional("swap")
        kernel = try object.optional("kernel")
        kernelTCP = try object.optional("kernelTCP")
        swappiness = try object.optional("swappiness")
        disableOOMKiller = try object.optional("disableOOMKiller")
        useHierarchy = try object.optional("useHierarchy")
        checkBeforeUpdate = try object.optional("checkBeforeUpdate")
    }
}

extension Resources.CPU: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        shares = try object.optional("shares")
        quota = try object.optional("quota")
        burst = try object.optional("burst")
        period = try object.optional("period")
        realtimeRuntime = try object.optional("realtimeRuntime")
        realtimePeriod = try object.optional("realtimePeriod")
        cpus = try object.optional("cpus")
        mems = try object.optional("mems")
        idle = try object.optional("idle")
    }
}

extension Resources.Pids: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        limit = try object.required("limit")
    }
}

extension Seccomp: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        defaultAction = try object.required("defaultAction")
        defaultErrnoRet = try object.optional("defaultErrnoRet")
        architectures = try object.optional("architectures")
        flags = try object.optional("flags")
        listenerPath = try object.optional("listenerPath")
        listenerMetadata = try object.optional("listenerMetadata")
        syscalls = try object.optional("syscalls")
    }
}

extension Seccomp.Syscall: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        names = try object.required("names")
        action = try object.required("action")
        errnoRet = try object.optional("errnoRet")
        args = try object.optional("args")
    }
}

extension Seccomp.Arg: JSONReadable {
    public init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        index = try object.required("index")
        value = try object.required("value")
        valueTwo = try object.optional("valueTwo")
        op = try object.required("op")
    }
}
