import FoundationEssentials
import OCISpec
import TTRPC
import TetherSystem

/// Docker's defaults for a container's process: its fourteen capabilities (in the bounding, effective and
/// permitted sets), adjusted by `--cap-add`/`--cap-drop` (names with or without `CAP_`, or `ALL`); every
/// capability with `--privileged`; and the default seccomp profile unless `--privileged` or
/// `--security-opt seccomp=unconfined`. As with Docker, a capability tetherd itself does not have (not in its
/// bounding set) is never given.
enum SecurityProfile {
    static let dockerCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]
    static let securityOptions = ["seccomp=unconfined", "no-new-privileges", "no-new-privileges:true"]

    /// The capability set, in kernel order.
    static func capabilities(_ settings: ContainerSettings) throws(TTRPCStatus) -> [String] {
        let all = OCISpec.Process.Capabilities.knownNames
        let adds = try settings.capAdd.map { name throws(TTRPCStatus) in try canonical(name, flag: "--cap-add") }
        let drops = try settings.capDrop.map { name throws(TTRPCStatus) in try canonical(name, flag: "--cap-drop") }
        var chosen = Set(settings.privileged || adds.contains("ALL") ? all : dockerCapabilities)
        if drops.contains("ALL") { chosen = [] }
        chosen.formUnion(adds.filter { $0 != "ALL" })
        chosen.subtract(drops)
        chosen.formIntersection(available)
        return all.filter(chosen.contains)
    }

    /// The capabilities in tetherd's own bounding set (`CapBnd` in /proc/self/status).
    static let available: Set<String> = {
        let all = OCISpec.Process.Capabilities.knownNames
        guard let status = try? FileIO.readText("/proc/self/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapBnd:") }),
              // (not trimmingCharacters(in:): CharacterSet is Foundation's, and it linked ICU's data into tetherd)
              let mask = UInt64(String(line.dropFirst("CapBnd:".count).filter { !$0.isWhitespace }), radix: 16) else {
            return Set(all)
        }
        return Set(all.indices.filter { $0 < 64 && mask & (1 << UInt64($0)) != 0 }.map { all[$0] })
    }()

    /// `net_admin`, `NET_ADMIN` and `CAP_NET_ADMIN` all name CAP_NET_ADMIN; `ALL` stays `ALL`.
    static func canonical(_ name: String, flag: String) throws(TTRPCStatus) -> String {
        let upper = name.uppercased()
        if upper == "ALL" { return upper }
        let full = upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
        guard OCISpec.Process.Capabilities.number(of: full) != nil else {
            throw TTRPCStatus(.invalidArgument, "\(flag) \(name): unknown capability")
        }
        return full
    }

    static func validate(_ settings: ContainerSettings) throws(TTRPCStatus) {
        _ = try capabilities(settings)
        for option in settings.securityOptions where !securityOptions.contains(option) {
            throw TTRPCStatus(.invalidArgument, "--security-opt \(option): expected seccomp=unconfined or no-new-privileges")
        }
    }

    /// The seccomp filter for a process with `capabilities`, nil when unconfined.
    static func seccomp(_ settings: ContainerSettings, capabilities: [String]) -> Seccomp? {
        settings.seccompUnconfined ? nil : DefaultSeccompProfile.profile(capabilities: Set(capabilities))
    }
}
