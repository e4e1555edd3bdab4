import TetherRuntime
import TTRPC
import TetherAPI
