#if canImport(Glibc)
import Glibc
#endif
import TetherAPI
import TetherFlags
import TetherSystem

/// `tether-harness exec-loop --count N`: N short execs in a row over one connection, each one Exec, Start, Wait
/// and Delete, as a client that runs many health checks would. For the memory-growth bench and the leak test,
/// without spawning a harness process per call.
struct ExecLoop: HarnessCommand {
    static let syntax = CommandSyntax.harness(
        "exec-loop", "Run N execs one after the other (exec, start, wait, delete); prints {\"execs\": N, \"ms_per_exec\": M}.",
        flags: [Flag("--count", value: "N", help: "How many execs (default 1)."),
                Flag("--stdout", value: "PATH", help: "stdout of each exec (a FIFO path or file:///log; default: none)."),
                Flag("--stderr", value: "PATH", help: "stderr of each exec.")],
        optional: ["COMMAND"], variadic: true)
    let target: Target
    let count: Int
    let stdout: String
    let stderr: String
    let command: [String]

    init(_ arguments: ParsedFlags) throws(FlagError) {
        target = try Target(arguments)
        count = try arguments.number("--count") ?? 1
        stdout = arguments.value("--stdout") ?? ""
        stderr = arguments.value("--stderr") ?? ""
        command = arguments.positionals
        if count < 1 { throw FlagError(command: "exec-loop", "--count must be at least 1") }
        if command.isEmpty { throw FlagError(command: "exec-loop", "a command is required") }
    }

    func run() throws {
        let prefix = target.execID.isEmpty ? "loop-\(getpid())" : target.execID
        try rpc {
            let client = try target.client()
            let started = Clock.monotonicNanoseconds()
            for index in 0..<count {
                let execID = "\(prefix)-\(index)"
                try client.call(TaskService.exec, try Exec.request(id: target.id, execID: execID, command: command,
                                                 stdout: stdout, stderr: stderr))
                _ = try client.call(TaskService.start, .with { $0.id = target.id; $0.execID = execID })
                let exit = try client.call(TaskService.wait, .with { $0.id = target.id; $0.execID = execID })
                _ = try client.call(TaskService.delete, .with { $0.id = target.id; $0.execID = execID })
                if exit.exitStatus != 0 {
                    throw HarnessError("exec \(execID): exit status \(exit.exitStatus)")
                }
            }
            let elapsed = Double(Clock.monotonicNanoseconds() - started) / 1e6
            let perExec = (elapsed / Double(count) * 100).rounded() / 100
            print("{\"execs\": \(count), \"ms_per_exec\": \(perExec)}")
        }
    }
}
