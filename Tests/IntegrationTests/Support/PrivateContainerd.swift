import Foundation
import TetherTestSupport

/// A private Debian containerd for interop tests: its own root, state, sockets and opt dir under a temporary
/// directory, CRI and the snapshotters it cannot use disabled. Shim sockets still go to /run/containerd/s
/// (hard-coded in containerd 1.6); ctr's FIFOs to /run/containerd/fifo.
final class PrivateContainerd {
    static let binary = "/usr/bin/containerd"
    static let ctrBinary = "/usr/bin/ctr"
    static let unshare = "/usr/bin/unshare"
    static let nsenter = "/usr/bin/nsenter"
    static var isInstalled: Bool { TestEnvironment.hasCommand(binary) && TestEnvironment.hasCommand(ctrBinary) }

    let directory: TemporaryDirectory
    let namespace: String
    /// Whether the daemon (and so every shim and container it starts) runs in a mount namespace of its own
    /// (`unshare -m --propagation private`), so that mounts made for a test never reach the host's.
    let privateMountNamespace: Bool
    var address: String { directory.path + "/containerd.sock" }
    /// Directories put first in the daemon's PATH, where containerd looks for `containerd-shim-<name>-v2` binaries.
    let shimSearchPath: [String]
    private(set) var process: Process?

    /// `criPlugin`, when given, enables containerd's CRI plugin with the configuration it returns for the
    /// temporary directory (TOML under `[plugins."io.containerd.grpc.v1.cri"]`, see CRIFixture).
    init(namespace: String = "tethertest", privateMountNamespace: Bool = false, shimSearchPath: [String] = [],
         criPlugin: ((String) -> String)? = nil) throws {
        directory = try TemporaryDirectory("tether-ctrd")
        self.namespace = namespace
        self.privateMountNamespace = privateMountNamespace
        self.shimSearchPath = shimSearchPath
        let dir = directory.path
        let cri = criPlugin == nil ? "\"io.containerd.grpc.v1.cri\", " : ""
        let config = """
            version = 2
            root = "\(dir)/root"
            state = "\(dir)/state"
            disabled_plugins = [\(cri)"io.containerd.snapshotter.v1.btrfs", \
            "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", \
            "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
            [grpc]
              address = "\(dir)/containerd.sock"
            [ttrpc]
              address = "\(dir)/containerd.sock.ttrpc"
            [plugins."io.containerd.internal.v1.opt"]
              path = "\(dir)/opt"
            """ + (criPlugin.map { "\n" + $0(dir) } ?? "")
        try config.write(toFile: dir + "/config.toml", atomically: true, encoding: .utf8)
        try start()
    }

    /// Starts (or restarts) the daemon and waits until `ctr version` answers.
    func start() throws {
        let process = Process()
        let arguments = ["--config", directory.path + "/config.toml", "--log-level", "warn"]
        if privateMountNamespace {
            // unshare execs containerd: the process is the daemon itself.
            process.executableURL = URL(fileURLWithPath: Self.unshare)
            process.arguments = ["-m", "--propagation", "private", Self.binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = arguments
        }
        if !shimSearchPath.isEmpty {
            var environment = ProcessInfo.processInfo.environment
            environment["PATH"] = (shimSearchPath + [environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"]).joined(separator: ":")
            process.environment = environment
        }
        let log = FileHandle(forWritingAtPath: directory.path + "/containerd.log") ?? {
            _ = FileManager.default.createFile(atPath: directory.path + "/containerd.log", contents: nil)
            return FileHandle(forWritingAtPath: directory.path + "/containerd.log")!
        }()
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        for _ in 0..<200 {
            if let result = try? ctr(["version"], timeout: 5), result.status == 0 { return }
            usleep(50_000)
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "containerd did not come up: \(logText)"])
    }

    /// SIGKILLs the daemon (shims survive), as in a crash.
    func kill9() {
        guard let process else { return }
        let pid = process.processIdentifier
        kill(pid, SIGKILL)
        // Bounded: Foundation has been seen to leave a SIGKILLed daemon a zombie for good; reap it then.
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            var status: Int32 = 0
            waitpid(pid, &status, WNOHANG)
        }
        self.process = nil
    }

    var logText: String { (try? String(contentsOfFile: directory.path + "/containerd.log", encoding: .utf8)) ?? "" }

    @discardableResult
    func ctr(_ arguments: [String], timeout: TimeInterval = 60) throws -> CommandResult {
        try runCommand(Self.ctrBinary, ["--address", address, "--namespace", namespace] + arguments, timeout: timeout)
    }

    /// `sh -c script` in the daemon's mount namespace: the "host" its containers see.
    @discardableResult
    func hostShell(_ script: String) throws -> CommandResult {
        guard privateMountNamespace else { return try runCommand("/bin/sh", ["-c", script]) }
        guard let pid = process?.processIdentifier else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "containerd is not running"])
        }
        return try runCommand(Self.nsenter, ["-t", String(pid), "-m", "--", "/bin/sh", "-c", script])
    }

    /// Kills and removes every task and container in the namespace, then stops the daemon.
    func stop() {
        if process != nil {
            if let tasks = try? ctr(["task", "ls", "-q"]) {
                for id in tasks.stdout.split(separator: "\n") {
                    _ = try? ctr(["task", "kill", "-s", "SIGKILL", String(id)])
                    _ = try? ctr(["task", "delete", "-f", String(id)])
                }
            }
            if let containers = try? ctr(["container", "ls", "-q"]) {
                for id in containers.stdout.split(separator: "\n") { _ = try? ctr(["container", "rm", String(id)]) }
            }
        }
        kill9()
        // Unmount anything containerd left under its state dir (bundle rootfs mounts).
        if let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) {
            for line in mounts.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count > 1, fields[1].hasPrefix(directory.path) { umount2(String(fields[1]), Int32(MNT_DETACH)) }
            }
        }
    }

    deinit { stop() }
}
