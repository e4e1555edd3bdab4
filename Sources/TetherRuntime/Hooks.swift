#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCISpec
import TetherSystem

/// One hook that failed: which one (`hooks.<phase>[index]`, its path) and why.
struct HookFailure: Error, CustomStringConvertible {
    let phase: Hooks.Phase
    let index: Int
    let path: String
    let reason: String

    var description: String { "hooks.\(phase.rawValue)[\(index)] \(path): \(reason)" }
}

/// Runs OCI hooks as runc's `Hook.Run` does: `path` executed with `args` as its argv (just the path when empty),
/// `env` as its environment (the runtime's own when absent), the container's state JSON on stdin, stdout and
/// stderr captured for the error, SIGKILLed after `timeout` seconds. Hooks of a phase run in order. Spawning
/// goes through `Spawner` (posix_spawn), so the caller must be single-threaded — the runtime and the init are.
enum HookRunner {
    /// Runs `phase`'s hooks in order and stops at the first that fails.
    static func run(_ hooks: Hooks?, _ phase: Hooks.Phase, state: State) throws(HookFailure) {
        guard let hooks, !hooks[phase].isEmpty else { return }
        let input = encode(state)
        for (index, hook) in hooks[phase].enumerated() {
            if let failure = runOne(hook, index: index, phase: phase, input: input) { throw failure }
        }
    }

    /// Runs every hook of `phase`, even after failures (poststop), and returns the failures.
    static func runAll(_ hooks: Hooks?, _ phase: Hooks.Phase, state: State) -> [HookFailure] {
        guard let hooks, !hooks[phase].isEmpty else { return [] }
        let input = encode(state)
        return hooks[phase].enumerated().compactMap { index, hook in runOne(hook, index: index, phase: phase, input: input) }
    }

    private static func runOne(_ hook: Hook, index: Int, phase: Hooks.Phase, input: [UInt8]) -> HookFailure? {
        func failure(_ reason: String) -> HookFailure { HookFailure(phase: phase, index: index, path: hook.path, reason: reason) }
        let arguments = hook.args.flatMap { $0.isEmpty ? nil : $0 } ?? [hook.path]
        let result: Spawner.Result
        do {
            result = try Spawner.run(arguments, executable: hook.path, environment: hook.env, input: input,
                                     timeout: hook.timeout.map(Double.init))
        } catch let error as SyscallError {
            return failure("cannot execute: \(SyscallError.describe(error.errno))")
        } catch {
            return failure("cannot execute: \(error)")
        }
        let output = summarize(result.output)
        if result.timedOut { return failure("did not finish within its timeout of \(hook.timeout ?? 0) s and was killed" + output) }
        if result.status != 0 { return failure("exited with status \(result.status)" + output) }
        return nil
    }

    /// The hook's output for an error message: trimmed, at most 1000 bytes, or nothing.
    private static func summarize(_ output: String) -> String {
        let trimmed = String(output.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
        if trimmed.isEmpty { return "" }
        let text = trimmed.utf8.count > 1000 ? String(decoding: trimmed.utf8.prefix(1000), as: UTF8.self) + "…" : trimmed
        return ", output: \(text)"
    }

    private static func encode(_ state: State) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(state))) ?? []
    }
}

extension RuntimeError {
    /// A hook failure as the runtime reports it: code `hookFailed`, stage "<phase> hook".
    init(_ failure: HookFailure) {
        self.init(.hookFailed, failure.description, stage: "\(failure.phase.rawValue) hook")
    }
}
