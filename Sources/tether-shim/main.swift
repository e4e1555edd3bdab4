import SwiftProtobuf
import TetherShim

// containerd's shim v2 binary contract; the shim itself lives in TetherShim (ShimCommandLine).
ShimCommandLine.main(Array(CommandLine.arguments.dropFirst()))
