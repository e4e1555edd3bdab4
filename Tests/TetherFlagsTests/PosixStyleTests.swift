import Testing
import TetherFlags

/// tetherctl's forms: docker's habits.
@Suite("POSIX-style flags")
struct PosixStyleTests {
    static let run = CommandSyntax(
        program: "tetherctl", name: "run", abstract: "Run a command.", style: .posix,
        flags: [
            Flag("-d", "--detach", help: "Detach."),
            Flag("-i", "--interactive", help: "Stdin."),
            Flag("-t", "--tty", help: "Tty."),
            Flag("-e", "--env", value: "NAME=VALUE", repeatable: true, help: "Env."),
            Flag("--name", value: "NAME", help: "Name."),
            Flag("--rm", help: "Remove."),
        ],
        required: ["ROOTFS"], passthrough: "COMMAND")

    @Test("grouped short flags, a short's value attached or next, long names with = or next")
    func forms() throws {
        let grouped = try Self.run.parse(["-dit", "/r", "sh"])
        #expect(grouped.isSet("--detach") && grouped.isSet("--interactive") && grouped.isSet("--tty"))
        let values = try Self.run.parse(["-eA=1", "-e", "B=2", "-e=C=3", "-ite", "D=4", "--env=E=5", "--env", "F", "--name=web", "/r", "sh"])
        #expect(values.all("--env") == ["A=1", "B=2", "C=3", "D=4", "E=5", "F"])
        #expect(values.value("--name") == "web" && values.isSet("--tty"))
        #expect(try !Self.run.parse(["--rm", "--rm=false", "/r", "sh"]).isSet("--rm"))
    }

    @Test("run: the flags end at the first positional, so the container's command keeps its own; -- ends them too")
    func stopsAtTheFirstPositional() throws {
        let parsed = try Self.run.parse(["-d", "/r", "sh", "-c", "--rm", "-it"])
        #expect(parsed.positionals == ["/r"] && parsed.passthrough == ["sh", "-c", "--rm", "-it"] && !parsed.isSet("--rm"))
        let ended = try Self.run.parse(["--", "-r", "ls"])
        #expect(ended.positionals == ["-r"] && ended.passthrough == ["ls"])
        #expect(try Self.run.parse(["/r"]).passthrough == [])
    }

    @Test("errors name the flag, in a group too; one-dash long names are not Go's here")
    func errors() {
        #expect(throws: FlagError(command: "run", "unknown flag --x")) { try Self.run.parse(["--x", "/r"]) }
        #expect(throws: FlagError(command: "run", "unknown flag -z in -itz")) { try Self.run.parse(["-itz", "/r"]) }
        #expect(throws: FlagError(command: "run", "unknown flag -n in -name")) { try Self.run.parse(["-name", "x", "/r"]) }
        #expect(throws: FlagError(command: "run", "-e needs a value")) { try Self.run.parse(["-ie"]) }
        #expect(throws: FlagError(command: "run", "--name needs a value")) { try Self.run.parse(["--name"]) }
        #expect(throws: FlagError(command: "run", "-d takes no value (in -d=1)")) { try Self.run.parse(["-d=1", "/r"]) }
        #expect(throws: FlagError(command: "run", "missing ROOTFS (usage: tetherctl run [flags] ROOTFS [COMMAND...])")) {
            try Self.run.parse(["-d"])
        }
    }

    @Test("other commands: flags between positionals, a variadic last positional")
    func variadic() throws {
        let rm = CommandSyntax(program: "tetherctl", name: "rm", abstract: "Remove.", style: .posix,
                               flags: [Flag("-f", "--force", help: "Force.")], required: ["CONTAINER"], variadic: true)
        let parsed = try rm.parse(["a", "-f", "b", "c"])
        #expect(parsed.isSet("--force") && parsed.positionals == ["a", "b", "c"])
        #expect(rm.usage == "tetherctl rm [flags] CONTAINER...")
        #expect(throws: FlagError(command: "rm", "missing CONTAINER (usage: tetherctl rm [flags] CONTAINER...)")) { try rm.parse(["-f"]) }
    }

    @Test("one help style: abstract, usage, aligned flags, repeatable ones marked")
    func help() {
        let help = Self.run.help
        #expect(help.hasPrefix("Run a command.\n\nUsage: tetherctl run [flags] ROOTFS [COMMAND...]\n\nFlags:\n"))
        #expect(help.contains("  -e, --env NAME=VALUE  Env. (repeatable)\n"))
        #expect(help.contains("  --rm                  Remove.\n"))
        let overview = HelpTable.overview(abstract: "Tool.", usage: "tool COMMAND", commands: [Self.run], footer: "More.")
        #expect(overview == "Tool.\n\nUsage: tool COMMAND\n\nCommands:\n  run  Run a command.\n\nMore.\n")
    }
}
