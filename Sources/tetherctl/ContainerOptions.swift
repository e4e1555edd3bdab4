import ArgumentParser
import FoundationEssentials
import TetherAPI
import TetherSystem

/// The flags `run` and `create` share: what the container is and how it is confined.
struct ContainerOptions: ParsableArguments {
    @Option(help: "A name for the container.") var name: String = ""
    @Option(name: .shortAndLong, help: "Set an environment variable (NAME=VALUE).") var env: [String] = []
    @Option(name: .shortAndLong, help: "Working directory inside the container.") var workdir: String = ""
    @Option(help: "The container's hostname.") var hostname: String = ""
    @Flag(help: "Mount the root filesystem read-only.") var readOnly = false
    @Option(help: "Restart policy: no, on-failure[:N] or always.") var restart: String = "no"
    @Option(help: "Network: none or host.") var network: String = "none"
    @Flag(name: .shortAndLong, help: "Keep stdin open (attached clients write to it).") var interactive = false
    @Flag(name: .shortAndLong, help: "Give the process a pseudo-terminal.") var tty = false
    @Option(name: .shortAndLong, help: "Run as UID[:GID].") var user: String = ""
    @Option(help: "Pid namespace: host, or container:NAME to join NAME's.") var pid: String = ""
    @Option(name: .shortAndLong, help: "Memory limit (bytes, or with a k, m or g suffix).") var memory: String?
    @Option(help: "CPU limit in CPUs (e.g. 1.5).") var cpus: String?
    @Option(help: "Maximum number of processes.") var pidsLimit: Int64?
    @Flag(help: "Every capability, no seccomp filter, no masked /proc paths.") var privileged = false
    @Option(help: "Add a capability (e.g. NET_ADMIN, or ALL).") var capAdd: [String] = []
    @Option(help: "Drop a capability (e.g. MKNOD, or ALL).") var capDrop: [String] = []
    @Option(help: "seccomp=unconfined or no-new-privileges.") var securityOpt: [String] = []

    func validate() throws {
        if !["none", "host"].contains(network) { throw ValidationError("--network \(network): expected none or host") }
        if !pid.isEmpty && pid != "host" && !(pid.hasPrefix("container:") && pid.count > "container:".count) {
            throw ValidationError("--pid \(pid): expected host or container:NAME")
        }
        if let memory, ByteSize.parse(memory) == nil { throw ValidationError("--memory \(memory): expected a size such as 64m") }
        if let cpus, !(Double(cpus).map { $0 > 0 && $0 < 1e6 } ?? false) {
            throw ValidationError("--cpus \(cpus): expected a positive number of CPUs such as 1.5")
        }
        if let pidsLimit, pidsLimit <= 0 { throw ValidationError("--pids-limit \(pidsLimit): expected a positive number") }
    }

    func request(rootfs: String, command: [String]) -> Tether_Daemon_V1_RunRequest {
        .with {
            $0.name = name
            $0.rootfs = rootfs.hasPrefix("/") ? rootfs : FileIO.currentDirectory() + "/" + rootfs
            $0.args = command
            $0.env = env
            $0.cwd = workdir
            $0.hostname = hostname
            $0.readOnly = readOnly
            $0.restart = restart
            $0.network = network
            $0.tty = tty
            if tty, let size = TerminalMode.consoleSize { $0.consoleSize = size }
            $0.openStdin = interactive
            $0.user = user
            $0.pid = pid
            $0.memoryBytes = memory.flatMap(ByteSize.parse) ?? 0
            $0.nanoCpus = cpus.flatMap(Double.init).map { Int64(($0 * 1e9).rounded()) } ?? 0
            $0.pidsLimit = pidsLimit ?? 0
            $0.privileged = privileged
            $0.capAdd = capAdd
            $0.capDrop = capDrop
            $0.securityOpt = securityOpt
        }
    }
}

/// Docker's sizes: `1024`, `64k`, `64m`, `1g`, `64mb` (powers of 1024).
enum ByteSize {
    static func parse(_ text: String) -> Int64? {
        var digits = text.lowercased()
        if digits.hasSuffix("b") { digits.removeLast() }
        let units: [Character: Int64] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40]
        var multiplier: Int64 = 1
        if let last = digits.last, let unit = units[last] {
            multiplier = unit
            digits.removeLast()
        }
        guard let value = Int64(digits), value > 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }
}
