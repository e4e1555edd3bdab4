#if canImport(Glibc)
import Glibc
#endif
import TetherAPI
import TetherSystem

/// `tetherctl run` and `tetherctl create`, parsed by FlagParser: `run` is the hot path, and never touches
/// ArgumentParser. Each returns the exit status: the container's for an attached run, 125 when the container
/// could not be made (bad flags included), as docker.
enum ContainerCommands {
    static let runAbstract = "Run a command in a new container on a rootfs directory."
    static let createAbstract = "Create a container without starting it; prints its id."
    static let socketFlag = FlagParser.Flag.option("socket", nil, "tetherd's socket (default: $TETHER_HOST, else \(Tetherd.defaultSocket)).")
    static let runFlags = FlagParser(flags: [
        socketFlag,
        .flag("detach", "d", "Run in the background and print the container id."),
        .flag("rm", nil, "Remove the container when it exits."),
    ] + ContainerOptions.flags)
    static let createFlags = FlagParser(flags: [socketFlag] + ContainerOptions.flags)

    /// What `run` and `create` share: flags, then ROOTFS and the command.
    struct Invocation {
        let parsed: FlagParser.Parsed
        let options: ContainerOptions
        let tetherd: Tetherd
        let request: Tether_Daemon_V1_RunRequest
    }

    /// Parses; nil when it printed the help or an error instead (`status` then holds the exit status).
    static func invocation(_ arguments: [String], _ parser: FlagParser, synopsis: String, abstract: String,
                           status: inout Int32) -> Invocation? {
        do {
            let parsed = try parser.parse(arguments)
            if parsed.help {
                print(parser.usage(synopsis, abstract), terminator: "")
                status = 0
                return nil
            }
            guard let rootfs = parsed.positionals.first else { throw CLIError("a ROOTFS directory is required") }
            if let problem = ContainerInputs.rootfsProblem(rootfs) { throw CLIError(problem) }
            let command = Array(parsed.positionals.dropFirst())
            if command.isEmpty { throw CLIError("a command is required after ROOTFS") }
            let options = try ContainerOptions(parsed)
            return Invocation(parsed: parsed, options: options, tetherd: Tetherd(socket: parsed.last("socket") ?? Tetherd.configuredSocket),
                              request: options.request(rootfs: rootfs, command: command))
        } catch {
            report(error)
            try? FileIO.writeAll(2, "See 'tetherctl \(synopsis.prefix { $0 != " " }) --help'.\n")
            status = 125
            return nil
        }
    }

    static func run(_ arguments: [String]) -> Int32 {
        var status: Int32 = 0
        guard let invocation = invocation(arguments, runFlags, synopsis: "run [OPTIONS] ROOTFS COMMAND [ARG...]",
                                          abstract: runAbstract, status: &status) else { return status }
        let detach = invocation.parsed.has("detach")
        let remove = invocation.parsed.has("rm")
        let tetherd = invocation.tetherd
        var request = invocation.request
        request.remove = remove && detach  // attached --rm: removed here after its output is read
        request.detach = detach
        let response: Tether_Daemon_V1_RunResponse
        do {
            response = try tetherd.call(DaemonService.run, request)
        } catch {
            report(error)
            return 125
        }
        if detach {
            print(response.id)
            return 0
        }
        do {
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
        } catch {
            report(error)
            return 1
        }
    }

    static func create(_ arguments: [String]) -> Int32 {
        var status: Int32 = 0
        guard let invocation = invocation(arguments, createFlags, synopsis: "create [OPTIONS] ROOTFS COMMAND [ARG...]",
                                          abstract: createAbstract, status: &status) else { return status }
        do {
            let response = try invocation.tetherd.call(DaemonService.create, invocation.request)
            print(response.id)
            return 0
        } catch {
            report(error)
            return 125
        }
    }

    static func report(_ error: any Error) {
        try? FileIO.writeAll(2, "tetherctl: \(error)\n")
    }
}
