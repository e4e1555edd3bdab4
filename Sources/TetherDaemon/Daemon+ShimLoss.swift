#if canImport(Glibc)
import Glibc
#endif
import Logging
import TTRPC
import TetherAPI
import TetherSystem

/// A container never runs without a live shim. tetherd watches the process of every shim it spawned (a pidfd,
/// ProcessExitWatch) and, for shims it reconnected to after a restart, the hang-up of the Wait it holds on them.
/// When a container's shim is gone, tetherd does what containerd does with `shim delete`: it runs
/// `tether-shim ... delete` (ShimDelete: kills what is left of the container through its cgroup, deletes the runtime
/// state, unmounts the rootfs, removes the dead shim's socket) and records the exit: the one the shim wrote to
/// `<bundle>/exit-status` if the container had exited, else 137 with the reason "shim exited unexpectedly". The
/// restart policy then applies, with a new shim.
extension Daemon {
    static let shimExitedUnexpectedly = "shim exited unexpectedly"
    /// How long `tether-shim delete` may take before it is killed (the container is recorded as exited anyway).
    static let shimDeleteDeadlineMilliseconds: UInt64 = 10_000

    /// Watches a shim tetherd spawned: its death is noticed at once (`shimProcessExited`).
    func watchShimProcess(_ launched: ShimLauncher.Launched) {
        let address = launched.address
        let pid = launched.pid
        shimProcesses.removeValue(forKey: address)?.cancel()
        shimProcesses[address] = ProcessExitWatch(loop: loop, pid: pid) { [weak self] in
            self?.shimProcessExited(address: address, pid: pid)
        }
    }

    /// Whether the shim at `address` runs: its pidfd when tetherd spawned it, else whether its socket accepts.
    func shimIsAlive(_ address: String) -> Bool {
        if let process = shimProcesses[address] { return process.isRunning }
        return Daemon.answers(address)
    }

    /// A shim tetherd spawned exited: the spare is replaced; a container's shim is lost (`shimLost`). A shim
    /// tetherd retired (its container removed, or its launch failed) belongs to no record any more: nothing to do.
    func shimProcessExited(address: String, pid: pid_t) {
        guard shimProcesses[address]?.pid == pid else { return }
        shimProcesses.removeValue(forKey: address)
        if let spare = spareShim, spare.address == address {
            spareShimExited(spare)
            return
        }
        dropShimConnection(address)
        if let record = records.values.first(where: { $0.shimAddress == address }) { shimLost(record.id) }
    }

    /// The shim of container `id` is gone: `tether-shim delete` cleans up after it, then the exit is recorded.
    /// Runs once per loss (the pidfd and the Wait's hang-up both report it).
    func shimLost(_ id: String) {
        guard let record = records[id], !record.shimAddress.isEmpty, shimCleanups[id] == nil else { return }
        let address = record.shimAddress
        Daemon.log.error("shim exited unexpectedly", metadata: Daemon.fields(record, ["shim": "\(address)", "status": "\(record.status)"]))
        shimWaits.removeValue(forKey: id)?.cancel()
        shimProcesses.removeValue(forKey: address)?.cancel()
        dropShimConnection(address)
        let finish = { [weak self] in
            guard let self else { return }
            self.shimCleanups.removeValue(forKey: id)
            self.recordShimLoss(id, address: address)
        }
        do {
            let pid = try ShimLauncher.spawnDelete(
                binary: configuration.shimBinary, state: configuration.state, namespace: Daemon.namespace, id: id,
                daemonAddress: configuration.socket, bundle: record.bundle, environment: shimEnvironment)
            let cleanup = ProcessExitWatch(loop: loop, pid: pid, exited: finish)
            shimCleanups[id] = cleanup
            loop.schedule(after: Daemon.shimDeleteDeadlineMilliseconds) { [weak cleanup] in
                guard let cleanup, cleanup.isRunning else { return }
                Daemon.log.warning("tether-shim delete did not finish in time: killed",
                                   metadata: Daemon.fields(record, ["seconds": "\(Daemon.shimDeleteDeadlineMilliseconds / 1000)"]))
                cleanup.signal(SIGKILL)
            }
        } catch {
            Daemon.log.error("could not run tether-shim delete after the shim's loss", metadata: Daemon.fields(record, ["error": "\(error)"]))
            finish()
        }
    }

    /// After `tether-shim delete` (which removed the dead shim's socket too): the record forgets the shim, and a
    /// container that was running gets its exit (the durable one, else 137 and the reason), which applies the
    /// restart policy.
    func recordShimLoss(_ id: String, address: String) {
        guard var record = records[id], record.shimAddress == address else { return }
        record.shimAddress = ""
        records[id] = record
        guard record.status == .running else {
            Daemon.log.info("cleaned up after the lost shim", metadata: Daemon.fields(record, ["status": "\(record.status)"]))
            save(record)
            return
        }
        let code: Int32
        if let durable = Daemon.durableExit(bundle: record.bundle) {
            code = durable
        } else {
            records[id]?.error = Daemon.shimExitedUnexpectedly
            code = 128 + SIGKILL
        }
        Daemon.log.info("cleaned up after the lost shim: container exited", metadata: Daemon.fields(record, ["exitCode": "\(code)"]))
        exited(id, code: code, at: nil)
    }

    /// A shim tetherd no longer needs (a launch failed): its task, if any, is killed and deleted (`tearDownTask`)
    /// and it exits. A shim tetherd spawned is idle then and exits on SIGTERM (sent through its pidfd: never
    /// another process that reused its pid, nor a newer shim at the same address); one it reconnected to is asked
    /// to shut down. `then` runs once that is done.
    func retireShim(_ record: ContainerRecord, then: @escaping () -> Void = {}) {
        let process = shimProcesses[record.shimAddress]
        tearDownTask(record) { [weak self] in
            guard let self, process == nil else {
                process?.signal(SIGTERM)
                return then()
            }
            self.shutDownShim(record, then: then)
        }
    }
}
