#if canImport(Glibc)
import Glibc
#endif
import OCISpec
import TetherSystem

/// The cgroup side of a running container: pause/resume, update, ps, stats and OOM events (runc's `pause`,
/// `resume`, `update`, `ps`, `events`).
extension Runtime {
    /// Freezes every process of the container (v1 freezer.state FROZEN, v2 cgroup.freeze), waiting until the
    /// kernel reports it frozen. The status becomes "paused".
    public func pause(id: String) throws {
        let (paths, record) = try load(id)
        switch record.status(paths) {
        case .running: break
        case .paused: throw RuntimeError(.invalidState, "container \(id) is already paused")
        case let status: throw RuntimeError(.invalidState, "cannot pause container \(id): it is \(status.rawValue), not running")
        }
        try record.cgroups.setFrozen(true)
    }

    /// Thaws a paused container.
    public func resume(id: String) throws {
        let (paths, record) = try load(id)
        guard record.status(paths) == .paused else {
            throw RuntimeError(.invalidState, "cannot resume container \(id): it is \(record.status(paths).rawValue), not paused")
        }
        try record.cgroups.setFrozen(false)
    }

    /// Applies a partial `linux.resources`: only the fields given are written (runc's `update`). The container's
    /// resources with these merged in are then saved in state.json, as runc does, so the next update and
    /// anything reading the state start from them.
    public func update(id: String, resources: Resources) throws {
        var (paths, record) = try load(id)
        guard record.status(paths) != .stopped else {
            throw RuntimeError(.invalidState, "cannot update container \(id): it is stopped")
        }
        try record.cgroups.update(resources)
        record.resources = (record.resources ?? Resources()).merging(resources)
        try record.save(paths)
        lastRecord = ContainerRecord.FileIdentity(paths.stateFile).map { ContainerRecord.Cached(record: record, file: $0) }
    }

    /// Host pids of every process in the container's cgroup.
    public func processes(id: String) throws -> [Int32] {
        let (_, record) = try load(id)
        return record.cgroups.processes()
    }

    /// The container's cgroup counters.
    public func stats(id: String) throws -> ContainerStats {
        let (paths, record) = try load(id)
        guard record.status(paths) != .stopped else {
            throw RuntimeError(.invalidState, "container \(id) is stopped: no stats")
        }
        return record.cgroups.stats()
    }

    /// A watch on the container's OOM events (see OOMNotifier for how to wait on it).
    public func oomNotifier(id: String) throws -> OOMNotifier {
        let (_, record) = try load(id)
        return try record.cgroups.oomNotifier()
    }

    /// The container's memory cgroup directory and whether it is cgroup v2, for a caller that builds its OOM watch
    /// elsewhere (the shim: found in the child that created the container, watched in the long-lived shim).
    public func memoryCgroup(id: String) throws -> (directory: String, isV2: Bool)? {
        let (_, record) = try load(id)
        return record.cgroups.memoryCgroup
    }
}
