import OCISpec
import TetherSystem

/// The standard streams a container process gets. Descriptors belong to the caller and stay open in it;
/// the runtime dups them into the child. nil means /dev/null (or the terminal when `process.terminal`).
public struct ProcessIO: Sendable {
    public var stdin: Int32?
    public var stdout: Int32?
    public var stderr: Int32?
    /// A connected unix socket on which the pty master is sent (SCM_RIGHTS, runc's wire format) when the
    /// process asks for a terminal. Required when `process.terminal` is true.
    public var consoleSocket: Int32?

    public init(stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil, consoleSocket: Int32? = nil) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.consoleSocket = consoleSocket
    }

    /// The caller's own 0, 1, 2 (what a CLI passes through).
    public static let inherited = ProcessIO(stdin: 0, stdout: 1, stderr: 2)
}

/// Options for `Runtime.create`, mirroring `runc create`'s flags.
public struct CreateOptions: Sendable {
    public var bundle: String
    public var io: ProcessIO
    public var pidFile: String?
    public var noPivot: Bool
    /// Pass fds 3 ..< 3+preserveFDs of the caller into the container (and set LISTEN_FDS accordingly).
    public var preserveFDs: Int
    /// The bundle's config.json when the caller already loaded it with `Runtime.loadSpec(bundle:)`; nil: read it.
    public var spec: Spec?
    /// Mounts stacked on the rootfs directory by the init itself, in the container's own mount and user namespaces
    /// (a rootless shim's overlay: the kernel allows an unprivileged overlay there, not in the caller's).
    public var rootfsMounts: [Mount] = []

    public init(
        bundle: String, io: ProcessIO = .inherited, pidFile: String? = nil, noPivot: Bool = false, preserveFDs: Int = 0,
        spec: Spec? = nil
    ) {
        self.bundle = bundle
        self.spec = spec
        self.io = io
        self.pidFile = pidFile
        self.noPivot = noPivot
        self.preserveFDs = preserveFDs
    }
}

/// The OCI runtime as a library. Every container operation a runc-compatible CLI offers, run in-process.
///
/// `create` forks (clone with namespace flags) the container init **from the calling process**, so the caller
/// must be single-threaded (checked; it fails otherwise) and becomes the init's parent: the shim reaps its
/// containers itself. The init waits in the container until `start`. State lives under `root/<id>/`.
public final class Runtime {
    public let root: String
    /// Where problems that do not fail an operation go (a failed poststop hook); stderr unless replaced.
    public var warn: (String) -> Void = { message in try? FileIO.writeAll(2, "warning: \(message)\n") }
    /// The state.json this instance last wrote or read, reused while the file is unchanged (`run` and the shim
    /// create, start and delete through one instance: two JSON decodes fewer per container).
    var lastRecord: ContainerRecord.Cached?
    /// runc's rootless mode (default: the caller is not root, or is root of a user namespace): id maps through newuidmap/newgidmap when they are
    /// more than the caller's own id, and cgroups the caller may not create are left out (see Rootless).
    public var rootless = Rootless.isRootless || Rootless.inUserNamespace

    /// The default root: /run/tether-runtime for root, $XDG_RUNTIME_DIR/tether-runtime for anyone else.
    public static var defaultRoot: String { Rootless.defaultDirectory("/run/tether-runtime") }

    public init(root: String = Runtime.defaultRoot) {
        self.root = root
    }
}
