#if canImport(Glibc)
import Glibc
#endif
import TetherAPI
import TetherFlags
import TetherSystem

/// What `run` and `create` share: the flags, then ROOTFS and the command (the flags end at ROOTFS, so the
/// command keeps its own). Any problem with them is a usage error (exit 125, as docker's).
struct ContainerInvocation {
    let options: ContainerOptions
    let tetherd: Tetherd
    let request: Tether_Daemon_V1_RunRequest

    init(_ arguments: ParsedFlags) throws(FlagError) {
        let rootfs = arguments.positionals[0]
        if let problem = ContainerInputs.rootfsProblem(rootfs) { throw FlagError(problem) }
        if arguments.passthrough.isEmpty { throw FlagError("a command is required after ROOTFS") }
        options = try ContainerOptions(arguments)
        tetherd = Tetherd(arguments)
        request = options.request(rootfs: rootfs, command: arguments.passthrough)
    }
}

/// `tetherctl run`: the container's exit status for an attached run, 125 when the container could not be made.
struct Run: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "run", "Run a command in a new container on a rootfs directory.",
        flags: [Flag("-d", "--detach", help: "Run in the background and print the container id."),
                Flag("--rm", help: "Remove the container when it exits.")] + ContainerOptions.flags,
        required: ["ROOTFS"], passthrough: "COMMAND")

    let invocation: ContainerInvocation
    let detach: Bool
    let remove: Bool

    init(_ arguments: ParsedFlags) throws(FlagError) {
        invocation = try ContainerInvocation(arguments)
        detach = arguments.isSet("--detach")
        remove = arguments.isSet("--rm")
    }

    func run() throws -> Int32 {
        let tetherd = invocation.tetherd
        var request = invocation.request
        request.remove = remove && detach  // attached --rm: removed here after its output is read
        request.detach = detach
        let response: Tether_Daemon_V1_RunResponse
        do {
            response = try tetherd.call(DaemonService.run, request)
        } catch {
            try? FileIO.writeAll(2, "tetherctl: \(error)\n")
            return 125
        }
        if detach {
            print(response.id)
            return 0
        }
        let session = AttachSession(daemon: tetherd)
        session.follow(log: response.logPath)
        if invocation.options.interactive { session.stdinFIFO = response.stdinPath }
        if invocation.options.tty { session.resize = .with { $0.id = response.id } }
        let code = try session.run(waitingWith: DaemonService.wait, Tether_Daemon_V1_ContainerRequest.with { $0.id = response.id })
        if remove {
            try tetherd.call(DaemonService.remove, .with {
                $0.id = response.id
                $0.force = true
            })
        }
        return code
    }
}

/// `tetherctl create`: prints the new container's id; 125 when it could not be made.
struct Create: TetherctlCommand {
    static let syntax = CommandSyntax.tetherctl(
        "create", "Create a container without starting it; prints its id.", flags: ContainerOptions.flags,
        required: ["ROOTFS"], passthrough: "COMMAND")

    let invocation: ContainerInvocation

    init(_ arguments: ParsedFlags) throws(FlagError) { invocation = try ContainerInvocation(arguments) }

    func run() throws -> Int32 {
        do {
            let response = try invocation.tetherd.call(DaemonService.create, invocation.request)
            print(response.id)
            return 0
        } catch {
            try? FileIO.writeAll(2, "tetherctl: \(error)\n")
            return 125
        }
    }
}
