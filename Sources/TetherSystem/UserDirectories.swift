#if canImport(Glibc)
import Glibc
#endif

/// Where a program keeps its files: the system's directories for root, the user's own (XDG base directories) for
/// anyone else, so that a user's runtime, shims and daemon never need root's (rootless, as runc and docker do).
public enum UserDirectories {
    /// Whether the caller is not root.
    public static var isRootless: Bool { geteuid() != 0 }

    /// `base` (e.g. /run/tether) for root; `$XDG_RUNTIME_DIR/<base's last component>` for anyone else when the
    /// variable is set (runc's default root, $XDG_RUNTIME_DIR/runc).
    /// Root of a user namespace (a rootless podman's runtime) counts as a user unless $USER is root (runc's
    /// shouldHonorXDGRuntimeDir).
    public static func runtime(_ base: String) -> String {
        guard let xdg = absoluteVariable("XDG_RUNTIME_DIR") else { return base }
        guard isRootless || (inUserNamespace && (getenv("USER").map { String(cString: $0) } ?? "") != "root") else { return base }
        return xdg + "/" + lastComponent(base)
    }

    /// Whether the caller runs in a user namespace other than the host's (its uid_map is not the whole range).
    public static var inUserNamespace: Bool {
        guard let text = try? FileIO.readText("/proc/self/uid_map") else { return false }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return !(fields.count == 3 && fields[0] == "0" && fields[1] == "0" && fields[2] == "4294967295")
    }

    /// `base` (e.g. /var/lib/tether) for root; `$XDG_DATA_HOME/<name>`, else `$HOME/.local/share/<name>`, for anyone
    /// else (rootless docker's data root).
    public static func data(_ base: String) -> String {
        guard isRootless else { return base }
        if let data = absoluteVariable("XDG_DATA_HOME") { return data + "/" + lastComponent(base) }
        if let home = absoluteVariable("HOME") { return home + "/.local/share/" + lastComponent(base) }
        return base
    }

    private static func absoluteVariable(_ name: String) -> String? {
        guard let value = getenv(name).map({ String(cString: $0) }), value.hasPrefix("/") else { return nil }
        return value.count > 1 && value.hasSuffix("/") ? String(value.dropLast()) : value
    }

    private static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? "tether"
    }
}
