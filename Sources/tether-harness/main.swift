// tether-harness: drives one containerd shim v2 over its socket (Harness in HarnessCommand.swift).
Harness.main(Array(CommandLine.arguments.dropFirst()))
