import FoundationEssentials
import OCISpec

/// What `run`/`create` asked for beyond the command itself: terminal and stdin, user, pid namespace, cgroup
/// limits and the security profile. Every field has a default and decodes when absent, so records written
/// before a field existed still load.
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
    /// `--log-opt max-size=… max-file=…`: container.log's rotation, applied by the shim.
    var logOptions = LogOptions()

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ContainerSettings()
        tty = try container.decodeIfPresent(Bool.self, forKey: .tty) ?? defaults.tty
        openStdin = try container.decodeIfPresent(Bool.self, forKey: .openStdin) ?? defaults.openStdin
        user = try container.decodeIfPresent(String.self, forKey: .user) ?? defaults.user
        pid = try container.decodeIfPresent(String.self, forKey: .pid) ?? defaults.pid
        memoryBytes = try container.decodeIfPresent(Int64.self, forKey: .memoryBytes) ?? defaults.memoryBytes
        nanoCPUs = try container.decodeIfPresent(Int64.self, forKey: .nanoCPUs) ?? defaults.nanoCPUs
        pidsLimit = try container.decodeIfPresent(Int64.self, forKey: .pidsLimit) ?? defaults.pidsLimit
        privileged = try container.decodeIfPresent(Bool.self, forKey: .privileged) ?? defaults.privileged
        capAdd = try container.decodeIfPresent([String].self, forKey: .capAdd) ?? defaults.capAdd
        capDrop = try container.decodeIfPresent([String].self, forKey: .capDrop) ?? defaults.capDrop
        securityOptions = try container.decodeIfPresent([String].self, forKey: .securityOptions) ?? defaults.securityOptions
        consoleSize = try container.decodeIfPresent(OCISpec.Process.ConsoleSize.self, forKey: .consoleSize)
        logOptions = try container.decodeIfPresent(LogOptions.self, forKey: .logOptions) ?? defaults.logOptions
    }

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
