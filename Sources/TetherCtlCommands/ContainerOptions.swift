import FoundationEssentials
import TetherAPI
import TetherFlags
import TetherSystem

/// The flags `run` and `create` share: what the container is and how it is confined.
struct ContainerOptions {
    static let flags: [Flag] = [
        Flag("--name", value: "NAME", help: "A name for the container."),
        Flag("-e", "--env", value: "NAME=VALUE", repeatable: true, help: "Set an environment variable."),
        Flag("-w", "--workdir", value: "DIR", help: "Working directory inside the container."),
        Flag("--hostname", value: "NAME", help: "The container's hostname."),
        Flag("--read-only", help: "Mount the root filesystem read-only."),
        Flag("--restart", value: "POLICY", help: "Restart policy: no, on-failure[:N] or always."),
        Flag("--network", value: "MODE", help: "Network: none or host."),
        Flag("-i", "--interactive", help: "Keep stdin open (attached clients write to it)."),
        Flag("-t", "--tty", help: "Give the process a pseudo-terminal."),
        Flag("-u", "--user", value: "UID[:GID]", help: "Run as UID[:GID]."),
        Flag("--pid", value: "MODE", help: "Pid namespace: host, or container:NAME to join NAME's."),
        Flag("-m", "--memory", value: "BYTES", help: "Memory limit (bytes, or with a k, m or g suffix)."),
        Flag("--cpus", value: "N", help: "CPU limit in CPUs (e.g. 1.5)."),
        Flag("--pids-limit", value: "N", help: "Maximum number of processes."),
        Flag("--privileged", help: "Every capability, no seccomp filter, no masked /proc paths."),
        Flag("--cap-add", value: "CAP", repeatable: true, help: "Add a capability (e.g. NET_ADMIN, or ALL)."),
        Flag("--cap-drop", value: "CAP", repeatable: true, help: "Drop a capability (e.g. MKNOD, or ALL)."),
        Flag("--security-opt", value: "OPTION", repeatable: true, help: "seccomp=unconfined or no-new-privileges."),
        Flag("--log-opt", value: "KEY=VALUE", repeatable: true, help: "Log rotation: max-size=10m, max-file=3 (checked by tetherd)."),
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
    init(_ parsed: ParsedFlags) throws(FlagError) {
        name = parsed.value("--name") ?? ""
        env = parsed.all("--env")
        workdir = parsed.value("--workdir") ?? ""
        hostname = parsed.value("--hostname") ?? ""
        readOnly = parsed.isSet("--read-only")
        restart = parsed.value("--restart") ?? "no"
        network = parsed.value("--network") ?? "none"
        interactive = parsed.isSet("--interactive")
        tty = parsed.isSet("--tty")
        user = parsed.value("--user") ?? ""
        pid = parsed.value("--pid") ?? ""
        privileged = parsed.isSet("--privileged")
        logOpt = parsed.all("--log-opt")
        capAdd = parsed.all("--cap-add")
        capDrop = parsed.all("--cap-drop")
        securityOpt = parsed.all("--security-opt")
        if parsed.isSet("--name"), let problem = ContainerName.problem(name) { throw FlagError("--name: \(problem)") }
        if !["none", "host"].contains(network) { throw FlagError("--network \(network): expected none or host") }
        if !pid.isEmpty && pid != "host" && !(pid.hasPrefix("container:") && pid.count > "container:".count) {
            throw FlagError("--pid \(pid): expected host or container:NAME")
        }
        if let memory = parsed.value("--memory") {
            guard let bytes = ByteSize.parse(memory) else { throw FlagError("--memory \(memory): expected a size such as 64m") }
            memoryBytes = bytes
            if bytes < ContainerInputs.minimumMemoryBytes { throw FlagError("--memory \(memory): \(ContainerInputs.minimumMemoryMessage)") }
        }
        if let cpus = parsed.value("--cpus") {
            guard let count = Double(cpus), count > 0, count < 1e6 else {
                throw FlagError("--cpus \(cpus): expected a positive number of CPUs such as 1.5")
            }
            nanoCPUs = Int64((count * 1e9).rounded())
        }
        if let limit = parsed.value("--pids-limit") {
            guard let value = Int64(limit), value > 0 else { throw FlagError("--pids-limit \(limit): expected a positive number") }
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
