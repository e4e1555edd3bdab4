#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import TetherSystem

/// The last exec of every container process goes through tether-exec (scripts/exec-helper), a program of a few
/// hundred bytes that only execs, run from a file the container cannot open for writing. So no process of ours
/// enters a container from a writable host file (CVE-2019-5736): whatever a container reaches through
/// `/proc/PID/exe` of a process we put in it, or runs as `#!/proc/self/exe`, is tether-exec, and read-only.
///
/// The parent opens it before it clones (the child inherits the descriptor; it is close-on-exec, so the
/// container's process never holds it): the image written to an unnamed file (O_TMPFILE) in the runtime's root,
/// and a detached read-only bind mount of that file made, after which the writable descriptor is closed. The file
/// never has a name, so nothing is left behind and no one else can change it. Where a kernel or file system cannot
/// do that (open_tree and mount_setattr came in 5.2 and 5.12), a sealed memfd copy (runc's way): it can be opened
/// for writing but never written.
struct ExecHelper {
    /// An O_PATH descriptor (read-only mount) or a sealed memfd, close-on-exec.
    let descriptor: Int32

    /// Its argv[0]: the helper refuses to run under any other.
    static let marker = "tether-exec"

    /// Prepares the helper in the runtime's `root` (a directory that exists).
    static func open(root: String) throws -> ExecHelper {
        if let mounted = readOnlyMount(in: root) { return mounted }
        return try sealedCopy()
    }

    private static func readOnlyMount(in directory: String) -> ExecHelper? {
        let file = tether_open_unnamed_file(directory, 0o555)
        if file < 0 { return nil }
        defer { FileIO.close(file) }
        guard (try? FileIO.writeAll(file, ExecHelperImage.bytes)) != nil else { return nil }
        let mount = tether_open_read_only_clone("/proc/self/fd/\(file)")
        return mount < 0 ? nil : ExecHelper(descriptor: mount)
    }

    /// The image in a memfd sealed against every change (write, grow, shrink, further seals).
    private static func sealedCopy() throws -> ExecHelper {
        let fd = try sys("memfd_create tether-exec") { tether_memfd_create_sealable(marker) }
        do {
            try FileIO.writeAll(fd, ExecHelperImage.bytes)
            try sys("seal tether-exec") { tether_memfd_seal_all(fd) }
        } catch {
            FileIO.close(fd)
            throw error
        }
        return ExecHelper(descriptor: fd)
    }

    /// The same helper at a descriptor at or above `floor` (the child moves it out of the way of stdio and the
    /// preserved fds, as the sync socket).
    func relocated(above floor: Int32) -> ExecHelper {
        ExecHelper(descriptor: ProcessSetup.relocate(descriptor, above: floor))
    }

    /// Runs `path` with `args` and `env` through the helper; returns the errno only if the helper could not be
    /// executed (a failure of the final exec is reported by the helper itself, on stderr).
    func exec(_ path: String, args: [String], env: [String]) -> Int32 {
        func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] { strings.map { strdup($0) } + [nil] }
        let argv = cStrings([ExecHelper.marker, path] + args)
        let envp = cStrings(env)
        _ = tether_execveat_fd(descriptor, argv, envp)
        return errno
    }

    func close() { FileIO.close(descriptor) }
}
