import TetherHarnessCommands

// tether-harness: drives one containerd shim v2 over its socket; its commands live in TetherHarnessCommands.
Harness.main(Array(CommandLine.arguments.dropFirst()))
