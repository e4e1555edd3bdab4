#if canImport(Glibc)
import Glibc
#endif
import CTetherLinux
import TetherAPI

/// The local terminal's size (raw mode while a `-t` container is attached is TetherSystem's RawTerminal).
enum TerminalMode {
    /// Rows and columns, nil when `fd` is not a terminal.
    static func size(of fd: Int32) -> (rows: UInt16, columns: UInt16)? {
        var rows: UInt16 = 0, columns: UInt16 = 0
        guard tether_get_winsize(fd, &rows, &columns) == 0 else { return nil }
        return (rows, columns)
    }

    /// The local terminal's size: stdin's, else stdout's (`exec -t` with its input piped).
    static var localSize: (rows: UInt16, columns: UInt16)? { size(of: 0) ?? size(of: 1) }

    /// The local terminal's size for a process's new pty, which starts with it (nil: no local terminal).
    static var consoleSize: Tether_Daemon_V1_ConsoleSize? {
        guard let size = localSize else { return nil }
        return .with {
            $0.height = UInt32(size.rows)
            $0.width = UInt32(size.columns)
        }
    }
}
