import FoundationEssentials
import TetherAPI
import TetherSystem

/// The flags `run` and `create` share: what the container is and how it is confined (parsed by FlagParser).
struct ContainerOptions {
    static let flags: [FlagParser.Flag] = [
        .option("name", nil, "A name for the container."),
        .option("env", "e", "Set an environment variable (NAME=VALUE)."),
        .option("workdir", "w", "Working directory inside the container."),
        .option("hostname", nil, "The container's hostname."),
        .flag("read-only", nil, "Mount the root filesystem read-only."),
        .option("restart", nil, "Restart policy: no, on-failure[:N] or always."),
        .option("network", nil, "Network: none or host."),
        .flag("interactive", "i", "Keep stdin open (attached clients write to it)."),
        .flag("tty", "t", "Give the process a pseudo-terminal."),
        .option("user", "u", "Run as UID[:GID]."),
        .option("pid", nil, "Pid namespace: host, or container:NAME to join NAME's."),
        .option("memory", "m", "Memory limit (bytes, or with a k, m or g suffix)."),
        .option("cpus", nil, "CPU limit in CPUs (e.g. 1.5)."),
        .option("pids-limit", nil, "Maximum number of processes."),
        .flag("privileged", nil, "Every capability, no seccomp filter, no masked /proc paths."),
        .option("cap-add", nil, "Add a capability (e.g. NET_ADMIN, or ALL)."),
        .option("cap-drop", nil, "Drop a capability (e.g. MKNOD, or ALL)."),
        .option("security-opt", nil, "seccomp=unconfined or no-new-privileges."),
        .option("log-opt", nil, "Log rotation: max-size=10m, max-file=3 (checked by tetherd)."),
    ]

    var name = ""
    var env: [String] = []
    var workdir = ""
    var hostname = ""
    var readOnly = false
    var restart = "no"
    var network = "none"
    var interactive = false
    var tty = false
    var user = ""
    var pid = ""
    var memoryBytes: Int64 = 0
    var nanoCPUs: Int64 = 0
    var pidsLimit: Int64 = 0
    var privileged = false
    var capAdd: [String] = []
    var capDrop: [String] = []
    var securityOpt: [String] = []
    var logOpt: [String] = []

    /// The options given, each checked (errors name the flag).
    init(_ parsed: FlagParser.Parsed) throws(CLIError) {
        name = parsed.last("name") ?? ""
        env = parsed.all("env")
        workdir = parsed.last("workdir") ?? ""
        hostname = parsed.last("hostname") ?? ""
        readOnly = parsed.has("read-only")
        restart = parsed.last("restart") ?? "no"
        network = parsed.last("network") ?? "none"
        interactive = parsed.has("interactive")
        tty = parsed.has("tty")
        user = parsed.last("user") ?? ""
        pid = parsed.last("pid") ?? ""
        privileged = parsed.has("privileged")
        logOpt = parsed.all("log-opt")
        capAdd = parsed.all("cap-add")
        capDrop = parsed.all("cap-drop")
        securityOpt = parsed.all("security-opt")
        if parsed.has("name"), let problem = ContainerName.problem(name) { throw CLIError("--name: \(problem)") }
        if !["none", "host"].contains(network) { throw CLIError("--network \(network): expected none or host") }
        if !pid.isEmpty && pid != "host" && !(pid.hasPrefix("container:") && pid.count > "container:".count) {
            throw CLIError("--pid \(pid): expected host or container:NAME")
        }
        if let memory = parsed.last("memory") {
            guard let bytes = ByteSize.parse(memory) else { throw CLIError("--memory \(memory): expected a size such as 64m") }
            memoryBytes = bytes
            if bytes < ContainerInputs.minimumMemoryBytes { throw CLIError("--memory \(memory): \(ContainerInputs.minimumMemoryMessage)") }
        }
        if let cpus = parsed.last("cpus") {
            guard let count = Double(cpus), count > 0, count < 1e6 else {
                throw CLIError("--cpus \(cpus): expected a positive number of CPUs such as 1.5")
            }
            nanoCPUs = Int64((count * 1e9).rounded())
        }
        if let limit = parsed.last("pids-limit") {
            guard let value = Int64(limit), value > 0 else { throw CLIError("--pids-limit \(limit): expected a positive number") }
            pidsLimit = value
        }
    }

    func request(rootfs: String, command: [String]) -> Tether_Daemon_V1_RunRequest {
        .with {
            $0.name = name
            $0.rootfs = rootfs
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
            $0.memoryBytes = memoryBytes
            $0.nanoCpus = nanoCPUs
            $0.pidsLimit = pidsLimit
            $0.privileged = privileged
            $0.capAdd = capAdd
            $0.capDrop = capDrop
            $0.securityOpt = securityOpt
            $0.logOpt = logOpt
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
