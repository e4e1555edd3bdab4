#if canImport(Glibc)
import Glibc
#endif

/// The local terminal of an attached pty: put in raw mode (cfmakeraw) so every key goes to the container, and
/// given back its saved modes by `restore` (which callers run on every way out, signals included).
public final class RawTerminal {
    public let fd: Int32
    private var saved: termios?

    public init(fd: Int32) {
        self.fd = fd
    }

    /// Raw mode when `fd` is a terminal; nothing otherwise. Returns whether the modes changed.
    @discardableResult
    public func enable() -> Bool {
        var current = termios()
        guard saved == nil, isatty(fd) == 1, tcgetattr(fd, &current) == 0 else { return false }
        let original = current
        cfmakeraw(&current)
        guard tcsetattr(fd, TCSANOW, &current) == 0 else { return false }
        saved = original
        return true
    }

    public func restore() {
        guard var saved else { return }
        _ = tcsetattr(fd, TCSANOW, &saved)
        self.saved = nil
    }
}
