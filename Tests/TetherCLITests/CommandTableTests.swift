import Testing
import TetherFlags
@testable import TetherCtlCommands
@testable import TetherDaemon
@testable import TetherRuntimeCLI

/// The command tables of the executables, read the way their real callers write command lines.
@Suite("command tables")
struct CommandTableTests {
    @Test("the runtime reads containerd-shim-runc-v2's, conmon's and podman's command lines")
    func runtimeCallers() throws {
        let (global, rest) = try GlobalOptions.parse(["--root", "/run/containerd/runc/k8s.io", "--log", "/b/log.json",
                                                      "--log-format", "json", "--systemd-cgroup", "create", "--bundle", "/b",
                                                      "--pid-file", "/b/init.pid", "--no-pivot", "id"])
        #expect(global.root == "/run/containerd/runc/k8s.io" && global.logFile == "/b/log.json" && global.logFormat == "json")
        #expect(rest == ["create", "--bundle", "/b", "--pid-file", "/b/init.pid", "--no-pivot", "id"])
        let create = try CreateCommand.syntax.parse(Array(rest.dropFirst()))
        #expect(create.value("--bundle") == "/b" && create.isSet("--no-pivot") && create.positionals == ["id"])

        let exec = try ExecCommand.syntax.parse(["--process", "/tmp/p.json", "--detach", "--pid-file", "/p", "--preserve-fds=1",
                                                  "-e", "A=1", "--env", "B=2", "--cap", "CAP_KILL", "--cap", "CAP_CHOWN", "id"])
        #expect(exec.value("--process") == "/tmp/p.json" && exec.isSet("--detach") && exec.positionals == ["id"])
        #expect(exec.all("--env") == ["A=1", "B=2"] && exec.all("--cap") == ["CAP_KILL", "CAP_CHOWN"])
        let execCommand = try ExecCommand.syntax.parse(["-t", "id", "sh", "-c", "--tty"])
        #expect(execCommand.passthrough == ["sh", "-c", "--tty"])

        let kill = try KillCommand.syntax.parse(["--all", "id", "9"])
        #expect(kill.isSet("--all") && kill.positionals == ["id", "9"])
        #expect(try UpdateCommand.syntax.parse(["--resources", "-", "id"]).value("--resources") == "-")
        #expect(try UpdateCommand.syntax.parse(["--cpu-shares", "2", "id"]).value("--cpu-share") == "2")
        #expect(try RunCommand.syntax.parse(["-bundle", "/b", "--keep=true", "--detach=false", "id"]).value("--bundle") == "/b")
    }

    @Test("runtime global flags: -root, --rootless with and without its word, --help and --version, bad --log-format")
    func runtimeGlobals() throws {
        let (global, rest) = try GlobalOptions.parse(["-root", "/r", "--rootless", "auto", "--criu", "/c", "state", "--rootless"])
        #expect(global.root == "/r" && rest == ["state", "--rootless"])
        #expect(try GlobalOptions.parse(["--rootless", "list"]).1 == ["list"])
        #expect(try GlobalOptions.parse(["--help", "exec"]).1 == ["--help", "exec"])
        #expect(try GlobalOptions.parse(["-v"]).1 == ["--version"])
        #expect(try GlobalOptions.parse(["--debug", "--", "state", "x"]).1 == ["state", "x"])
        #expect(throws: FlagError("--log-format: unknown format \"yaml\" (text or json)")) { try GlobalOptions.parse(["--log-format", "yaml", "list"]) }
        #expect(throws: FlagError("unknown flag --bogus")) { try GlobalOptions.parse(["--bogus", "list"]) }
        #expect(throws: FlagError("--root needs a value")) { try GlobalOptions.parse(["--root"]) }
    }

    @Test("tetherctl run and exec: docker's forms, the container's command keeps its flags")
    func tetherctlForms() throws {
        let run = try Run.syntax.parse(["--socket", "/s", "-dit", "--name=web", "-e", "A=1", "-eB=2", "--rm", "/rootfs", "sh", "-c", "-x"])
        #expect(run.isSet("--detach") && run.isSet("--interactive") && run.isSet("--tty") && run.isSet("--rm"))
        #expect(run.value("--name") == "web" && run.all("--env") == ["A=1", "B=2"] && run.value("--socket") == "/s")
        #expect(run.positionals == ["/rootfs"] && run.passthrough == ["sh", "-c", "-x"])
        let exec = try Exec.syntax.parse(["-it", "box", "/bin/sh", "-c", "exit 5"])
        #expect(exec.isSet("--tty") && exec.positionals == ["box"] && exec.passthrough == ["/bin/sh", "-c", "exit 5"])
        #expect(throws: FlagError("a command is required after CONTAINER")) { try Exec(Exec.syntax.parse(["box"])) }
        #expect(throws: FlagError(command: "create", "unknown flag -z in -itz")) { try Create.syntax.parse(["-itz", "/r", "sh"]) }
    }

    @Test("tetherctl's other commands: flags among positionals, numbers and signals checked")
    func tetherctlCommands() throws {
        let rm = try Rm(Rm.syntax.parse(["a", "-f", "b"]))
        #expect(rm.force && rm.containers == ["a", "b"])
        #expect(try Stop(Stop.syntax.parse(["-t", "3", "x"])).time == 3)
        #expect(try Restart(Restart.syntax.parse(["x", "y"])).time == 10)
        #expect(throws: FlagError(command: "stop", "--time: \"soon\" is not a valid non-negative integer")) {
            try Stop(Stop.syntax.parse(["--time", "soon", "x"]))
        }
        #expect(throws: FlagError("--signal NOPE: unknown signal")) { try Kill(Kill.syntax.parse(["-s", "NOPE", "x"])) }
        #expect(try Logs(Logs.syntax.parse(["--tail=5", "-f", "x"])).tail == 5)
        #expect(try Ps(Ps.syntax.parse(["-aq"])).all)
        let names = Tetherctl.commands.map { $0.syntax.name }
        #expect(Set(names).count == names.count && names.count == 15)
        #expect(Tetherctl.help.contains("Commands:\n  run  ") && Tetherctl.help.contains(" Run a command in a new container"))
    }

    @Test("tetherd: its five flags, = or next, and nothing else")
    func tetherd() throws {
        let parsed = try DaemonCommandLine.configuration(["--root=/r", "--state", "/s", "--shim", "/bin/shim", "--log-level", "debug"])
        let configuration = parsed?.0
        #expect(configuration?.root == "/r" && configuration?.state == "/s" && configuration?.shimBinary == "/bin/shim")
        #expect(parsed?.1 == .debug)
        #expect(try DaemonCommandLine.configuration(["-h"]) == nil)
        #expect(throws: FlagError("--log-level loud: unknown level (debug, info, warn or error)")) {
            try DaemonCommandLine.configuration(["--log-level", "loud"])
        }
        #expect(throws: FlagError("unknown flag --bogus")) { try DaemonCommandLine.configuration(["--bogus"]) }
        #expect(throws: FlagError("unexpected argument \"x\" (usage: tetherd [flags])")) { try DaemonCommandLine.configuration(["x"]) }
    }
}
