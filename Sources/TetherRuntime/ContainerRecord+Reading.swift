import OCISpec

/// state.json read straight from a JSONNode (OCISpec's JSONReadable), not JSONDecoder + Codable: in a fresh
/// process (`start`, `state`, `kill`, `delete`, the shim's one-off child) Codable's cost is mostly generic
/// metadata instantiation and conformance scans. The same record as the Codable conformance reads from what
/// `save` writes: the embedded spec parts go through Spec+Reading's readers (hooks, and the process's and
/// resources' rare members, through JSONDecoder on their own bytes); null is read as absent, unknown members
/// are ignored. Errors give the JSON path: `cgroups.paths.memory: expected a string`.
extension ContainerRecord: JSONReadable {
    init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        id = try object.required("id")
        initPid = try object.required("initPid")
        initStartTime = try object.required("initStartTime")
        bundle = try object.required("bundle")
        rootfs = try object.required("rootfs")
        created = try object.required("created")
        owner = try object.required("owner")
        annotations = try object.optional("annotations")
        cgroups = try object.required("cgroups")
        namespaces = try object.required("namespaces")
        process = try object.optional("process")
        seccomp = try object.optional("seccomp")
        hooks = try object.decoded("hooks")
        resources = try object.optional("resources")
    }
}

extension ControlGroupSet: JSONReadable {
    init(json: JSONNode, path: String, document: [UInt8]) throws(SpecError) {
        let object = try JSONObject(json, path: path, document: document)
        paths = try object.required("paths")
    }
}
