import TetherDaemon

// tetherd: spawns one tether-shim per container and keeps their records; it lives in TetherDaemon.
DaemonCommandLine.main(Array(CommandLine.arguments.dropFirst()))
