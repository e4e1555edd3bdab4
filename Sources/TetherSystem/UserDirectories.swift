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
    public static func runtime(_ base: String) -> String {
        guard isRootless, let xdg = absoluteVariable("XDG_RUNTIME_DIR") else { return base }
        return xdg + "/" + lastComponent(base)
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
