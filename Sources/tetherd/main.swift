import Glibc
import TetherSystem

try? FileIO.writeAll(2, "tetherd: not built yet\n")
exit(1)
