import Glibc
import TetherSystem

try? FileIO.writeAll(2, "tether-shim: not built yet\n")
exit(1)
