import TetherCtlCommands

// tetherctl, the client of tetherd; its commands live in TetherCtlCommands.
Tetherctl.main(Array(CommandLine.arguments.dropFirst()))
