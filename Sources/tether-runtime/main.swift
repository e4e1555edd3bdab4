#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import TetherRuntime
import TetherSystem

// Single-threaded by design: `create` and `run` clone the container init from this process.
let commandArguments: [String]
do {
    (globalOptions, commandArguments) = try GlobalOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    Log.error("\(error)")
    exit(2)
}

do {
    var command = try TetherRuntimeCommand.parseAsRoot(commandArguments)
    try command.run()
} catch let error as RuntimeError {
    Log.error(error.description)
    exit(1)
} catch let error as CommandExit {
    exit(error.status)
} catch {
    if TetherRuntimeCommand.exitCode(for: error) != .success {
        Log.logOnly(TetherRuntimeCommand.message(for: error))
    }
    TetherRuntimeCommand.exit(withError: error)
}
