#if canImport(Glibc)
import Glibc
#endif
import TetherSystem

/// A cgroup's freezer: v1 `freezer.state` (FROZEN/THAWED), v2 `cgroup.freeze` (1/0) with `cgroup.events`
/// reporting `frozen 1` once every task has stopped. Setting it waits (bounded, 5 s) until the kernel reports
/// the state reached, rewriting the request meanwhile (v1 can fall back from FREEZING to THAWED when a task is
/// in an uninterruptible sleep).
public struct ControlGroupFreezer: Sendable, Equatable {
    public let directory: String
    public let isV2: Bool

    public init(directory: String, isV2: Bool) {
        self.directory = directory
        self.isV2 = isV2
    }

    public var isFrozen: Bool {
        if isV2 { return ControlGroupFile.read(directory, "cgroup.freeze") == "1" }
        let state = ControlGroupFile.read(directory, "freezer.state")
        return state == "FROZEN" || state == "FREEZING"
    }

    public func set(frozen: Bool) throws {
        let file = isV2 ? "cgroup.freeze" : "freezer.state"
        let value = isV2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED")
        for _ in 0..<500 {
            try ControlGroupFile.write(directory, file, value)
            if reached(frozen) { return }
            usleep(10_000)
        }
        throw RuntimeError(.system, "\(directory)/\(file): did not reach \(value) within 5 s", stage: frozen ? "pause" : "resume")
    }

    private func reached(_ frozen: Bool) -> Bool {
        if isV2 {
            let events = ControlGroupFile.read(directory, "cgroup.events") ?? ""
            return events.split(separator: "\n").contains(Substring(frozen ? "frozen 1" : "frozen 0"))
        }
        return ControlGroupFile.read(directory, "freezer.state") == (frozen ? "FROZEN" : "THAWED")
    }
}
