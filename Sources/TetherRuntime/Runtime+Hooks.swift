#if canImport(Glibc)
import Glibc
#endif
import OCISpec
import TetherSystem

/// Where each hook phase runs (see README "Hooks"); the runner is `HookRunner`.
extension Runtime {
    /// create, when the init asks (`SyncMessage.runHooks`, mounts done, before pivot_root): prestart then
    /// createRuntime, in the runtime namespace. A failure fails `create`, which then removes everything.
    static func runCreateRuntimeHooks(_ hooks: Hooks?, state: State, pid: Int32) throws {
        var state = state
        state.pid = pid
        do {
            try HookRunner.run(hooks, .prestart, state: state)
            try HookRunner.run(hooks, .createRuntime, state: state)
        } catch {
            throw RuntimeError(error)
        }
    }

    /// create: the fifo on which the init reports its startContainer hooks to `start` (nil when there are none).
    static func makeStartHooksResultFifo(_ hooks: Hooks?, _ paths: ContainerPaths) throws -> String? {
        guard let hooks, !hooks[.startContainer].isEmpty else { return nil }
        if mkfifo(paths.startHooksResultFifo, 0o600) != 0 {
            throw RuntimeError.system(.current("mkfifo \(paths.startHooksResultFifo)"), stage: "create start hooks fifo")
        }
        return paths.startHooksResultFifo
    }

    /// start, before the init is released: opens the startContainer result fifo so the init's report cannot be
    /// missed (nil when the container has no startContainer hooks).
    static func openStartHooksResult(_ record: ContainerRecord, _ paths: ContainerPaths) throws -> Int32? {
        guard let hooks = record.hooks, !hooks[.startContainer].isEmpty else { return nil }
        let fd = open(paths.startHooksResultFifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { throw RuntimeError.system(.current("open \(paths.startHooksResultFifo)"), stage: "start") }
        _ = fcntl(fd, F_SETFL, 0)
        return fd
    }

    /// start, after the init was released: waits for its startContainer report, then runs the poststart hooks.
    /// A failure of either destroys the container (poststop hooks run for a container whose process ran).
    func finishStart(_ record: ContainerRecord, _ paths: ContainerPaths, startHooksResult: Int32?) throws {
        if let fd = startHooksResult {
            defer { FileIO.close(fd) }
            let report = (try? FileIO.readAll(fd)) ?? []
            _ = unlink(paths.startHooksResultFifo)
            if report.first != UInt8(ascii: "0") {
                destroy(record, paths)
                let message = report.isEmpty
                    ? "container init exited while running the startContainer hooks"
                    : String(decoding: report.dropFirst(), as: UTF8.self)
                throw RuntimeError(.hookFailed, message, stage: "startContainer hook")
            }
        }
        // Built from the record: deriving the status (/proc stat, fifo, freezer) would only be overwritten.
        let state = State(id: record.id, status: .running, pid: record.initPid, bundle: record.bundle,
                          annotations: record.annotations)
        do {
            try HookRunner.run(record.hooks, .poststart, state: state)
        } catch {
            destroy(record, paths)
            runPoststopHooks(record)
            throw RuntimeError(error)
        }
    }

    /// delete, once the container is gone: every poststop hook runs; failures are warnings only.
    func runPoststopHooks(_ record: ContainerRecord) {
        let state = State(id: record.id, status: .stopped, pid: nil, bundle: record.bundle, annotations: record.annotations)
        for failure in HookRunner.runAll(record.hooks, .poststop, state: state) {
            warn("\(record.id): \(failure)")
        }
    }

    /// Kills the container and removes its cgroups and state, ignoring errors (after a hook failed).
    private func destroy(_ record: ContainerRecord, _ paths: ContainerPaths) {
        try? destroyProcesses(record)
        if (try? removeResources(record, paths)) == nil { try? FileIO.removeTree(paths.directory) }
    }
}
