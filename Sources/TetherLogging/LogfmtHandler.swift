#if canImport(Glibc)
import Glibc
#endif
public import Logging
import TetherSystem

/// swift-log's handler for every Tether process: one logfmt line per message (`Logfmt`: time with milliseconds,
/// level, msg, then the metadata sorted by key) in one write(2) to `fd` (stderr unless given). It takes no lock
/// and starts no thread: each line is a single write, which a pipe or FIFO keeps whole up to 4096 bytes. A write
/// that would block (the shim's stderr is containerd's `log` FIFO, non-blocking: a reader that stopped reading
/// must not stop the shim) loses the line, as containerd's runc shim does.
public struct LogfmtHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let fd: Int32

    public init(level: Logger.Level = .info, fd: Int32 = 2) {
        self.logLevel = level
        self.fd = fd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        if let error = event.error { merged["error"] = "\(error)" }
        let fields = merged.sorted { $0.key < $1.key }.map { (key: $0.key, value: "\($0.value)") }
        let line = Logfmt.line(time: RFC3339.now(fractionDigits: 3), level: LogfmtHandler.name(event.level),
                               message: event.message.description, fields: fields)
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    /// The level as logrus names it (containerd's and runc's logs): `notice` is logged as info, `critical` as error.
    public static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "trace"
        case .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warning"
        case .error, .critical: "error"
        }
    }
}

/// The one set-up of logging in each executable: every `Logger` the process makes writes through a
/// `LogfmtHandler` at `level`.
public enum TetherLog {
    /// The levels an operator chooses from (`tetherd --log-level`): debug, info, warn (or warning), error.
    public static func level(named name: String) -> Logger.Level? {
        switch name {
        case "debug": .debug
        case "info": .info
        case "warn", "warning": .warning
        case "error": .error
        default: nil
        }
    }

    /// Makes `LogfmtHandler(level:fd:)` the handler of every logger; call once, first thing in `main`.
    public static func bootstrap(level: Logger.Level, fd: Int32 = 2) {
        LoggingSystem.bootstrap { _ in LogfmtHandler(level: level, fd: fd) }
    }
}
