#if canImport(Glibc)
import Glibc
#endif

/// Test-only crash points: with `TETHER_CRASH_AT=<step>` in its environment tetherd `_exit(137)`s right after that
/// step of run, create, start, stop or rm (as a `kill -9` there would), so that a test can restart it and check
/// that every container is whole or wholly gone. Without the variable every crash point is inert: one comparison.
///
/// The steps, named after what just happened (`launch` serves run and start, with `run:` or `start:`):
/// - run/start: `after-bundle` (shim started, directories and config.json written), `after-task-created`,
///   `after-task-started`, `after-record` (the running record is on disk; the reply has not gone out);
/// - create: `create:after-record`;
/// - stop: `stop:after-manual-stop` (recorded), `stop:after-signal` (SIGTERM delivered), `stop:after-exit` (the exit
///   is known, the record not yet written);
/// - rm: `rm:after-kill` (`-f`: SIGKILL delivered), `rm:after-exit`, `rm:after-record-removed`,
///   `rm:after-task-deleted`, `rm:after-shim-shutdown` (directories not yet removed).
extension Daemon {
    /// The step `TETHER_CRASH_AT` names, read once.
    static let crashStep: String? = getenv("TETHER_CRASH_AT").map { String(cString: $0) }

    /// Exits at once, with no cleanup, when `step` is the one `TETHER_CRASH_AT` names.
    static func crashPoint(_ step: String) {
        guard let crashStep, crashStep == step else { return }
        _exit(137)
    }
}
