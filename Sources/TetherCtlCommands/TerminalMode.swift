import TetherAPI
import TetherSystem

/// The local terminal's size (raw mode while a `-t` container is attached is TetherSystem's RawTerminal).
enum TerminalMode {
    /// The local terminal's size: stdin's, else stdout's (`exec -t` with its input piped).
    static var localSize: TerminalSize? { TerminalSize.of(0) ?? TerminalSize.of(1) }

    /// The local terminal's size for a process's new pty, which starts with it (nil: no local terminal).
    static var consoleSize: Tether_Daemon_V1_ConsoleSize? {
        guard let size = localSize else { return nil }
        return .with {
            $0.height = UInt32(size.rows)
            $0.width = UInt32(size.columns)
        }
    }
}
