import Testing
import TetherFlags

/// The runtime's and the shim's forms: everything runc, containerd, conmon and podman pass today.
@Suite("Go-style flags")
struct GoStyleTests {
    static let run = CommandSyntax(
        program: "tether-runtime", name: "run", abstract: "Run.", style: .go,
        flags: [
            Flag("-b", "--bundle", value: "DIR", help: "Bundle."),
            Flag("-d", "--detach", help: "Detach."),
            Flag("--preserve-fds", value: "N", help: "Fds."),
            Flag("-e", "--env", value: "NAME=VALUE", repeatable: true, help: "Env."),
        ],
        required: ["ID"])

    @Test("one or two dashes, a short or long name, the value next or after =")
    func valueForms() throws {
        for arguments in [["-b", "/b", "x"], ["-b=/b", "x"], ["--bundle", "/b", "x"], ["--bundle=/b", "x"],
                          ["-bundle", "/b", "x"], ["-bundle=/b", "x"], ["x", "--b", "/b"]] {
            let parsed = try Self.run.parse(arguments)
            #expect(parsed.value("--bundle") == "/b", "\(arguments)")
            #expect(parsed.positionals == ["x"], "\(arguments)")
        }
    }

    @Test("booleans: bare, =true, =false and Go's other ParseBool words; anything else is refused naming the flag")
    func booleans() throws {
        #expect(try Self.run.parse(["-d", "x"]).isSet("--detach"))
        #expect(try Self.run.parse(["--detach=true", "x"]).isSet("--detach"))
        #expect(try Self.run.parse(["-detach=1", "x"]).isSet("--detach"))
        #expect(try !Self.run.parse(["--detach", "--detach=false", "x"]).isSet("--detach"))
        #expect(try !Self.run.parse(["--detach=0", "x"]).isSet("--detach"))
        #expect(throws: FlagError(command: "run", "--detach takes no value (got \"maybe\"; true or false)")) {
            try Self.run.parse(["--detach=maybe", "x"])
        }
    }

    @Test("errors name the command and the argument")
    func errors() {
        #expect(throws: FlagError(command: "run", "unknown flag --bogus")) { try Self.run.parse(["--bogus", "x"]) }
        #expect(throws: FlagError(command: "run", "unknown flag -bogus")) { try Self.run.parse(["-bogus=1", "x"]) }
        #expect(throws: FlagError(command: "run", "-b needs a value")) { try Self.run.parse(["-b"]) }
        #expect(throws: FlagError(command: "run", "missing ID (usage: tether-runtime run [flags] ID)")) { try Self.run.parse([]) }
        #expect(throws: FlagError(command: "run", "unexpected argument \"y\" (usage: tether-runtime run [flags] ID)")) {
            try Self.run.parse(["x", "y"])
        }
        #expect(FlagError(command: "run", "unknown flag --bogus").description == "run: unknown flag --bogus")
        #expect(FlagError("unknown flag -x").description == "unknown flag -x")
    }

    @Test("numbers are checked and name the flag; repeated values: the last wins unless the flag is repeatable")
    func numbersAndRepeats() throws {
        let parsed = try Self.run.parse(["--preserve-fds", "2", "--preserve-fds=3", "-e", "A=1", "--env=B=2", "x"])
        #expect(try parsed.number("--preserve-fds", as: Int.self) == 3)
        #expect(parsed.all("--preserve-fds") == ["3"])
        #expect(parsed.all("--env") == ["A=1", "B=2"])
        #expect(try parsed.number("--absent", as: Int.self) == nil)
        #expect(try parsed.required("--preserve-fds") == "3")
        #expect(throws: FlagError(command: "run", "--bundle is required")) { try parsed.required("--bundle") }
        let bad = try Self.run.parse(["--preserve-fds", "x", "id"])
        #expect(throws: FlagError(command: "run", "--preserve-fds: \"x\" is not a valid integer")) { try bad.number("--preserve-fds", as: Int.self) }
        let negative = try Self.run.parse(["--preserve-fds", "-1", "id"])
        #expect(throws: FlagError(command: "run", "--preserve-fds: \"-1\" is not a valid non-negative integer")) {
            try negative.number("--preserve-fds", as: UInt.self)
        }
    }

    @Test("-- ends the flags, - is a positional, -h, --help and -help ask for the help")
    func endAndHelp() throws {
        let ended = try Self.run.parse(["--", "-d"])
        #expect(ended.positionals == ["-d"] && !ended.isSet("--detach"))
        #expect(try Self.run.parse(["-"]).positionals == ["-"])
        for help in ["-h", "--help", "-help"] {
            let parsed = try Self.run.parse(["-d", help, "--bogus"])
            #expect(parsed.helpRequested, "\(help)")
            #expect(parsed.passthrough == ["--bogus"])
        }
    }

    @Test("exec: everything after the positionals passes through untouched, flags included")
    func passthrough() throws {
        let exec = CommandSyntax(program: "tether-runtime", name: "exec", abstract: "Exec.", style: .go,
                                 flags: [Flag("-t", "--tty", help: "Tty.")], required: ["ID"], passthrough: "COMMAND")
        let parsed = try exec.parse(["-t", "id", "sh", "-c", "--tty"])
        #expect(parsed.isSet("--tty") && parsed.positionals == ["id"] && parsed.passthrough == ["sh", "-c", "--tty"])
        #expect(try exec.parse(["id", "--", "ls"]).passthrough == ["--", "ls"])
        #expect(try exec.parse(["--", "id", "ls"]).passthrough == ["ls"])
    }

    @Test("the shim: containerd's flags in any order around the action; a boolean with optional words (--rootless)")
    func shimAndOptionalValues() throws {
        let shim = CommandSyntax(program: "tether-shim", abstract: "Shim.", style: .go,
                                 flags: [Flag("-id", value: "ID", help: "Id."), Flag("-debug", help: "Debug.")],
                                 optional: ["ACTION"])
        let parsed = try shim.parse(["-id", "abc", "start", "-debug"])
        #expect(parsed.value("-id") == "abc" && parsed.isSet("-debug") && parsed.positionals == ["start"])
        #expect(try shim.parse(["--id=x", "delete"]).value("-id") == "x")
        #expect(throws: FlagError("unknown flag -bogus")) { try shim.parse(["-bogus", "start"]) }
        #expect(throws: FlagError("-id needs a value")) { try shim.parse(["-id"]) }

        let global = CommandSyntax(program: "tether-runtime", abstract: "Runtime.", style: .go,
                                   flags: [Flag("--rootless", optionalValues: ["true", "false", "auto"], help: "Ignored."),
                                           Flag("--root", value: "DIR", help: "Root.")],
                                   optional: ["COMMAND"], passthrough: "ARGUMENTS")
        let rootless = try global.parse(["--rootless", "auto", "-root", "/r", "state", "--rootless", "x"])
        #expect(rootless.value("--rootless") == "auto" && rootless.value("--root") == "/r")
        #expect(rootless.positionals == ["state"] && rootless.passthrough == ["--rootless", "x"])
        #expect(try global.parse(["--rootless", "list"]).positionals == ["list"])
        #expect(try global.parse(["--rootless=false", "list"]).value("--rootless") == "false")
    }
}
