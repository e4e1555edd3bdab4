import Glibc
import TetherSystem

try? FileIO.writeAll(2, "tetherctl: not built yet\n")
exit(1)
