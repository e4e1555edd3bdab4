import FoundationEssentials
import OCISpec
import TetherSystem

/// Writes a container's OCI bundle: config.json with Docker-like defaults (Docker's default capability set,
/// masked and read-only /proc paths, a private network unless `--network host`). The root is `rootfs/`,
/// which the shim mounts as an overlay of the image directory (the Create request's rootfs mount, `Daemon.launch`).
enum BundleWriter {
    static let dockerCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    static func spec(for record: ContainerRecord) -> Spec {
        var env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        env += record.env
        let capabilities = OCISpec.Process.Capabilities(
            bounding: dockerCapabilities, effective: dockerCapabilities, inheritable: nil, permitted: dockerCapabilities, ambient: nil)
        var process = OCISpec.Process(terminal: false, user: .init(uid: 0, gid: 0), args: record.args, env: env,
                                      cwd: record.cwd.isEmpty ? "/" : record.cwd)
        process.capabilities = capabilities
        process.rlimits = [.init(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)]
        var namespaces: [Linux.Namespace] = [.init(type: "pid"), .init(type: "ipc"), .init(type: "uts"), .init(type: "mount")]
        if record.network != "host" { namespaces.append(.init(type: "network")) }
        var linux = Linux(namespaces: namespaces)
        linux.cgroupsPath = "/tether/\(record.id)"
        linux.maskedPaths = Linux.runcMaskedPaths
        linux.readonlyPaths = Linux.runcReadonlyPaths
        return Spec(ociVersion: OCIVersion.current, process: process, root: Root(path: "rootfs", readonly: record.readOnly),
                    hostname: record.hostname.isEmpty ? String(record.id.prefix(12)) : record.hostname,
                    mounts: Mount.runcDefaults, linux: linux)
    }

    static func write(_ record: ContainerRecord, to bundle: String) throws {
        try FileIO.makeDirectories(bundle + "/rootfs", mode: 0o711)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileIO.writeAtomically(bundle + "/config.json", Array(try encoder.encode(spec(for: record))), sync: false)
    }
}
