import TetherFlags
import TetherRuntime

struct PauseCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(name: "pause", abstract: "Freeze every process of a running container.", required: ["ID"])
    let id: String

    init(_ arguments: ParsedFlags) { id = arguments.positionals[0] }

    func run() throws {
        try runtime.pause(id: id)
    }
}

struct ResumeCommand: RuntimeCommand {
    static let syntax = CommandSyntax.runtime(name: "resume", abstract: "Thaw a paused container.", required: ["ID"])
    let id: String

    init(_ arguments: ParsedFlags) { id = arguments.positionals[0] }

    func run() throws {
        try runtime.resume(id: id)
    }
}
