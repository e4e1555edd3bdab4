import FoundationEssentials
import OCISpec

/// What `run`/`create` asked for beyond the command itself: terminal and stdin, user, pid namespace, cgroup
/// limits and the security profile. Plain Codable (record.json): a field added later must be optional, so that
/// records written before it existed still load (TetherDaemonTests' committed record of each format).
struct ContainerSettings: Codable, Sendable, Equatable {
    var tty = false
    var openStdin = false
    /// `UID[:GID]`; empty: root.
    var user = ""
    /// Empty: a pid namespace of its own; `host`; or `container:NAME`.
    var pid = ""
    var memoryBytes: Int64 = 0
    var nanoCPUs: Int64 = 0
    var pidsLimit: Int64 = 0
    var privileged = false
    var capAdd: [String] = []
    var capDrop: [String] = []
    var securityOptions: [String] = []
    /// With `tty`: the pty's size when the process starts (the size of the terminal `run -it` was typed in).
    var consoleSize: OCISpec.Process.ConsoleSize?
    /// `--log-opt max-size=… max-file=…`: container.log's rotation, applied by the shim; nil: none (the log only
    /// grows, docker's default).
    var logOptions: LogOptions?

    init() {}

    /// The container whose pid namespace this one joins (`--pid container:NAME`), if any.
    var pidNamespaceContainer: String? {
        pid.hasPrefix("container:") ? String(pid.dropFirst("container:".count)) : nil
    }

    var seccompUnconfined: Bool { privileged || securityOptions.contains("seccomp=unconfined") }
    var noNewPrivileges: Bool { securityOptions.contains("no-new-privileges") || securityOptions.contains("no-new-privileges:true") }
}

extension KeyedDecodingContainer {
    /// A record written before settings existed decodes with the defaults.
    func decode(_ type: ContainerSettings.Type, forKey key: Key) throws -> ContainerSettings {
        try decodeIfPresent(type, forKey: key) ?? ContainerSettings()
    }
}
