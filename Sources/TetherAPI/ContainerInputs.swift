import TetherSystem

/// What `run` and `create` accept besides the name (ContainerName), checked by tetherctl where it can and by
/// tetherd always, with docker's messages where docker has one.
public enum ContainerInputs {
    /// Docker's floor (`linuxMinMemory`): below it the container's own runtime set-up runs out of memory.
    public static let minimumMemoryBytes: Int64 = 6 * 1024 * 1024
    public static let minimumMemoryMessage = "Minimum memory limit allowed is 6MB"
    /// Docker's floor for `--cpus` (0.01 CPU).
    public static let minimumNanoCPUs: Int64 = 10_000_000

    /// Why `rootfs` cannot be a container's root directory, or nil: it must be an absolute path (an empty or
    /// relative one would be resolved against whichever directory the daemon or the client runs in), and it
    /// becomes the overlay's `lowerdir=` option, so `,` (option separator), `:` (lower layer separator), `\`
    /// (their escape) and control characters would change the mount instead of naming a directory.
    public static func rootfsProblem(_ rootfs: String) -> String? {
        if rootfs.isEmpty { return "ROOTFS: an empty path is not a directory (give an absolute path)" }
        if !rootfs.hasPrefix("/") { return "ROOTFS \(PrintableText.quoted(rootfs)): must be an absolute path" }
        if rootfs.unicodeScalars.contains(where: { $0 == "," || $0 == ":" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7f }) {
            return "ROOTFS \(PrintableText.quoted(rootfs)): must not contain ',', ':', '\\' or control characters (overlay mount options)"
        }
        return nil
    }

    /// Docker's check of `--cpus` against the CPUs this process may run on.
    public static func cpusProblem(nanoCPUs: Int64, hostCPUs: Int) -> String? {
        guard nanoCPUs != 0 else { return nil }
        if nanoCPUs < minimumNanoCPUs || nanoCPUs > Int64(hostCPUs) * 1_000_000_000 {
            return "range of CPUs is from 0.01 to \(hostCPUs).00, as there are only \(hostCPUs) CPUs available"
        }
        return nil
    }
}
