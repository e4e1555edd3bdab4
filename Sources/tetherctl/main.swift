#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

// What tetherd refused prints as one line, `tetherctl: <message>`, exit status 1; usage errors as ArgumentParser's.
do {
    var command = try TetherctlCommand.parseAsRoot()
    try command.run()
} catch let error as CLIError {
    try? FileIO.writeAll(2, "tetherctl: \(error)\n")
    exit(1)
} catch {
    TetherctlCommand.exit(withError: error)
}
