#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

// `run` and `create` are parsed by hand (ContainerCommands), before ArgumentParser is touched: its start costs
// as much as the rest of tetherctl's. What tetherd refused prints as one line, `tetherctl: <message>`,
// exit status 1 (125 for run and create); usage errors of the other commands as ArgumentParser's.
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "run":
    exit(ContainerCommands.run(Array(arguments.dropFirst())))
case "create":
    exit(ContainerCommands.create(Array(arguments.dropFirst())))
default:
    do {
        var command = try TetherctlCommand.parseAsRoot()
        try command.run()
    } catch let error as CLIError {
        try? FileIO.writeAll(2, "tetherctl: \(error)\n")
        exit(1)
    } catch {
        TetherctlCommand.exit(withError: error)
    }
}
