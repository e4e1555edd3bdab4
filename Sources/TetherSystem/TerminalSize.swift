import CTetherLinux

/// A terminal's window size (TIOCGWINSZ / TIOCSWINSZ): read from the caller's own terminal, set on the master of
/// a container's pty, which passes it on to the slave (what `stty size` inside shows, with a SIGWINCH).
public struct TerminalSize: Equatable, Sendable {
    public var rows: UInt16
    public var columns: UInt16

    public init(rows: UInt16, columns: UInt16) {
        self.rows = rows
        self.columns = columns
    }

    /// From the 32-bit height and width of the OCI consoleSize and the shim's ResizePty, clamped to the kernel's 16 bits.
    public init(height: UInt32, width: UInt32) {
        self.init(rows: UInt16(clamping: height), columns: UInt16(clamping: width))
    }

    /// The size of the terminal `fd` refers to; nil when it is not a terminal.
    public static func of(_ fd: Int32) -> TerminalSize? {
        var rows: UInt16 = 0, columns: UInt16 = 0
        guard tether_get_winsize(fd, &rows, &columns) == 0 else { return nil }
        return TerminalSize(rows: rows, columns: columns)
    }

    /// Gives the terminal `fd` refers to (a pty master) this size.
    public func apply(to fd: Int32) throws {
        try sys("ioctl TIOCSWINSZ") { tether_set_winsize(fd, rows, columns) }
    }
}
