import Glibc
import TetherSystem

try? FileIO.writeAll(2, "tether-runtime: not built yet\n")
exit(1)
