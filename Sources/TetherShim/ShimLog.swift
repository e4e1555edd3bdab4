import Logging
import TetherLogging

/// The shim's log: logfmt on its stderr, which is containerd's `log` FIFO in the bundle (containerd copies each
/// line into its own log) or /dev/null under tetherd; `-debug` for debug lines. Each failure and notable event
/// (an init's exit, an OOM kill, a stdio or log failure, the manager's disconnect, a delete) once, with the
/// container's `id`, as containerd-shim-runc-v2 logs. A full FIFO loses the line: the shim never blocks on its log.
public enum ShimLog {
    /// Set by tether-shim's `main` from `-debug` before anything is logged.
    nonisolated(unsafe) public static var level: Logger.Level = .info
}

/// Made at the first line logged, not at start-up: an idle shim that has nothing to say touches none of swift-log's
/// pages (one per container, its memory is measured).
let shimLog = Logger(label: "tether-shim") { _ in LogfmtHandler(level: ShimLog.level) }
