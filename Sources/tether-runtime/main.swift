#if canImport(Glibc)
import Glibc
#endif
import TetherRuntime
import TetherSystem

// Single-threaded by design: `create` and `run` clone the container init from this process.
do {
    let commandArguments: [String]
    (globalOptions, commandArguments) = try GlobalOptions.parse(Array(CommandLine.arguments.dropFirst()))
    try RuntimeCommandLine.run(commandArguments)
} catch let error as RuntimeError {
    Log.error(error.description)
    exit(1)
} catch let error as CommandExit {
    exit(error.status)
} catch let error as UsageError {
    Log.error(error.description)
    exit(2)
} catch {
    Log.error("\(error)")
    exit(1)
}
