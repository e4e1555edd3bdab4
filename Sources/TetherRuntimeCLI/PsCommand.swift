#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import TetherFlags
import TetherRuntime
import TetherSystem

/// `ps ID [-f table|json] [ps options]`: json prints the host pids; table runs `ps` (default `-ef`) and keeps
/// the header and the lines of the container's pids, as runc does.
struct PsCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(
        name: "ps", abstract: "List the processes of a container.",
        flags: [.init("-f", "--format", value: "FORMAT", help: "table (default) or json.")],
        required: ["ID"], passthrough: "PS-OPTIONS")

    let format: String
    let id: String
    let psOptions: [String]

    init(_ arguments: ParsedFlags) throws {
        format = arguments.value("--format") ?? "table"
        id = arguments.positionals[0]
        psOptions = arguments.passthrough
        if format != "table" && format != "json" { throw FlagError("--format: unknown format \"\(format)\" (table or json)") }
    }

    func run() throws {
        let pids = try runtime.processes(id: id)
        if format == "json" {
            let encoder = JSONEncoder()
            try FileIO.writeAll(1, String(decoding: try encoder.encode(pids), as: UTF8.self) + "\n")
            return
        }
        let arguments = ["ps"] + (psOptions.first == "--" ? Array(psOptions.dropFirst()) : psOptions)
        let result = try Spawner.run(arguments.count == 1 ? ["ps", "-ef"] : arguments, directory: "/",
                                     environment: ["PATH": ProcessEnvironment.current["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"])
        guard result.status == 0 else {
            throw RuntimeError(.system, "ps failed (exit \(result.status)): \(result.output)", stage: "ps")
        }
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let header = lines.first, let pidColumn = header.split(separator: " ").firstIndex(of: "PID") else {
            throw RuntimeError(.system, "couldn't find the PID field in ps output", stage: "ps")
        }
        let wanted = Set(pids)
        var text = String(header) + "\n"
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ")
            guard pidColumn < fields.count, let pid = Int32(fields[pidColumn]), wanted.contains(pid) else { continue }
            text += line + "\n"
        }
        try FileIO.writeAll(1, text)
    }
}
