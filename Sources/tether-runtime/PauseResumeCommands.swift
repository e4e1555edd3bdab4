import ArgumentParser
import TetherRuntime

struct PauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Freeze every process of a running container.")
    @Argument(help: "The container id.") var id: String

    func run() throws {
        try runtime.pause(id: id)
    }
}

struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Thaw a paused container.")
    @Argument(help: "The container id.") var id: String

    func run() throws {
        try runtime.resume(id: id)
    }
}
