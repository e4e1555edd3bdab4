#if canImport(Glibc)
import Glibc
#endif
import Logging
import TTRPC
import TetherAPI
import TetherSystem

/// One shim started ahead of the next `run`, so that run does not wait for a shim process to start (about as long
/// as tetherd's own part of Run): its id is the id the next `run` gives its container. It waits in
/// `<state>/spare/<id>/` (its `-bundle`, with its `address`), which is no container's: no `ps` lists it. A run takes it
/// (its address moves into the container's bundle) and the next spare starts once Run has answered. `create` does
/// not take it (its container may start much later); a container started by `start` gets a shim of its own.
/// The spare exits with tetherd (SIGTERM, SIGINT: `Daemon.terminate`); a spare that dies is replaced; a tetherd killed
/// with a spare waiting shuts that shim down on its next start.
extension Daemon {
    struct SpareShim {
        let id: String
        let address: String
        let directory: String
    }

    var spareDirectory: String { configuration.state + "/spare" }

    /// Starts the spare shim unless one is waiting; without one (it failed to start), runs spawn their own.
    func prepareSpareShim() {
        guard spareShim == nil else { return }
        let id = Daemon.randomID()
        let directory = spareDirectory + "/" + id
        do {
            try DurableFile.makeDirectory(directory, mode: 0o700)
            let launched = try ShimLauncher.launch(
                binary: configuration.shimBinary, state: configuration.state, namespace: Daemon.namespace, id: id,
                daemonAddress: configuration.socket, bundle: directory, environment: shimEnvironment)
            spareShim = SpareShim(id: id, address: launched.address, directory: directory)
            watchShimProcess(launched)
        } catch {
            Daemon.log.error("could not start the spare shim (runs start their own)", metadata: ["error": "\(error)"])
            try? FileIO.removeTree(directory)
        }
    }

    /// The spare shim's address if it is the one started for container `id` (whose bundle exists); the next
    /// spare starts after the current request.
    func takeSpareShim(for id: String, bundle: String) -> String? {
        guard let spare = spareShim, spare.id == id else { return nil }
        spareShim = nil
        _ = rename(spare.directory + "/address", bundle + "/address")
        _ = rmdir(spare.directory)
        loop.schedule(after: 0) { [weak self] in self?.prepareSpareShim() }
        return spare.address
    }

    /// tetherd is stopping: the spare (idle, so SIGTERM ends it) goes with it, and its directory.
    func retireSpareShim() {
        guard let spare = spareShim else { return }
        spareShim = nil
        shimProcesses.removeValue(forKey: spare.address)?.signal(SIGTERM)
        try? FileIO.removeTree(spare.directory)
    }

    /// The spare died (killed by someone): its leftovers go and a new one starts a second later.
    func spareShimExited(_ spare: SpareShim) {
        Daemon.log.warning("spare shim exited: another starts in 1 s", metadata: ["id": "\(spare.id)", "shim": "\(spare.address)"])
        spareShim = nil
        dropShimConnection(spare.address)
        _ = unlink(TTRPCClient.socketPath(fromAddress: spare.address))
        try? FileIO.removeTree(spare.directory)
        loop.schedule(after: 1000) { [weak self] in self?.prepareSpareShim() }
    }

    /// The spares a previous tetherd left (killed while one waited): each is asked to shut down, on the loop.
    func shutDownLeftSpareShims() {
        for id in (try? FileIO.listDirectory(spareDirectory)) ?? [] {
            let directory = spareDirectory + "/" + id
            // The address file is written after the spawn: a tetherd killed in between left a shim without one,
            // at the address its id gives.
            let address = (try? FileIO.readText(directory + "/address"))
                ?? "unix://" + ShimLauncher.socketPath(state: configuration.state, daemonAddress: configuration.socket,
                                                       namespace: Daemon.namespace, id: id)
            Daemon.log.info("cleaning up a spare shim a previous tetherd left", metadata: ["id": "\(id)"])
            if Daemon.answers(address) {
                var spare = ContainerRecord(id: id, name: "spare shim " + id, rootfs: "", args: [], env: [], cwd: "", hostname: "",
                                            readOnly: false, network: "", remove: true, restart: .no)
                spare.shimAddress = address
                callShim(spare, TaskService.shutdown, Containerd_Task_V2_ShutdownRequest.with { $0.id = id }) {
                    [weak self] (_: Result<Google_Protobuf_Empty, TTRPCStatus>) in self?.dropShimConnection(address)
                }
            }
            try? FileIO.removeTree(directory)
        }
    }
}
