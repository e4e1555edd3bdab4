import TetherRuntimeCLI

// The runc-compatible CLI; its commands live in TetherRuntimeCLI.
RuntimeCommandLine.main(Array(CommandLine.arguments.dropFirst()))
